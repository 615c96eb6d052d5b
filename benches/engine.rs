//! Engine micro-benchmarks: the keyword prefilter and `Scanner::scan` with the
//! built-in rules, on a few MB of generated source-like text.
//!
//! Run with `cargo bench --bench engine` (criterion; not part of `cargo test`).
//! Inputs are generated here from a fixed seed, so runs compare like with like:
//!
//! - `code`: 4 MB of mixed-language source lines with no key;
//! - `code+keys`: the same with a fake key of some provider every ~32 KB;
//! - `lockfile`: 4 MB of package-lock.json entries (long base64 runs, URLs);
//! - `files-16k`: `code+keys` cut into 16 KB blobs, scanned one after the
//!   other with one `Scanner`, to show the per-blob overhead.

use criterion::{BenchmarkId, Criterion, Throughput};
use keylint::engine::{Scanner, prefilter::Hit};
use keylint::rules::{RuleSet, load};
use std::hint::black_box;
use std::time::Duration;

const SIZE: usize = 4 << 20;

/// xorshift64*: a fixed, dependency-free stream of pseudo-random numbers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn chars(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n).map(|_| alphabet[self.below(alphabet.len())] as char).collect()
    }
}

const WORDS: &[&str] = &[
    "get",
    "set",
    "data",
    "name",
    "id",
    "type",
    "item",
    "list",
    "user",
    "config",
    "result",
    "error",
    "index",
    "file",
    "path",
    "size",
    "count",
    "string",
    "create",
    "update",
    "read",
    "write",
    "load",
    "parse",
    "format",
    "node",
    "request",
    "response",
    "context",
    "options",
    "params",
    "message",
    "event",
    "handle",
    "time",
    "start",
    "end",
    "info",
    "log",
    "default",
    "open",
    "close",
    "run",
    "send",
    "build",
    "field",
    "status",
    "state",
    "object",
    "map",
    "table",
    "query",
    "model",
    "view",
    "service",
    "client",
    "server",
    "url",
    "host",
    "port",
    "session",
    "cache",
    "buffer",
    "offset",
    "length",
    "text",
    "input",
    "output",
    "source",
    "target",
    "filter",
    "sort",
    "order",
    "page",
    "limit",
    "root",
    "tree",
    "line",
    "version",
    "tag",
    "label",
    "match",
    "rule",
    "scope",
    "repo",
    "branch",
    "commit",
    "hash",
    "account",
    "email",
    "role",
    "task",
    "job",
    "queue",
    "worker",
    "pool",
    "lock",
    "timeout",
    "retry",
    "handler",
    "manager",
    "store",
    "schema",
    "record",
    "payload",
    "header",
    "body",
    "content",
    "env",
    "region",
    "route",
    "component",
    "props",
    "render",
    "style",
    "value",
    "key",
    "token",
    "api",
    "auth",
];

const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn ident(rng: &mut Rng) -> String {
    let n = 1 + rng.below(3);
    (0..n).map(|_| rng.pick(WORDS)).collect::<Vec<_>>().join("_")
}

fn sentence(rng: &mut Rng) -> String {
    let n = 4 + rng.below(10);
    (0..n).map(|_| rng.pick(WORDS)).collect::<Vec<_>>().join(" ")
}

/// One line of source in one of a few languages' shapes.
fn code_line(rng: &mut Rng, out: &mut String) {
    let (a, b, c) = (ident(rng), ident(rng), ident(rng));
    let line = match rng.below(10) {
        0 => format!("    let {a} = {b}.{c}({}, {});", ident(rng), rng.below(4096)),
        1 => format!("    // {}", sentence(rng)),
        2 => format!(
            "\tif {a} == nil {{\n\t\treturn fmt.Errorf(\"{}: %w\", err)\n\t}}",
            sentence(rng)
        ),
        3 => format!("        \"{a}\": \"{}\",", sentence(rng)),
        4 => String::new(),
        5 => format!("def {a}(self, {b}, {c}=None):"),
        6 => format!("  const {{ {a}, {b} }} = await {c}('/{a}/{b}', {{ method: 'GET' }});"),
        7 => format!("        for {a} in self.{b}:\n            {c}.append({a})"),
        8 => format!("    log.debug(\"{}\", {a});", sentence(rng)),
        _ => format!("    return {a}.{b}_{c}();"),
    };
    out.push_str(&line);
    out.push('\n');
}

/// A GitHub classic token with a valid CRC32/base62 checksum.
fn github_token(rng: &mut Rng) -> String {
    let body = rng.chars(B62, 30);
    let mut crc = crc32fast::hash(body.as_bytes());
    let mut tail = [b'0'; 6];
    for d in tail.iter_mut().rev() {
        *d = B62[(crc % 62) as usize];
        crc /= 62;
    }
    format!("ghp_{body}{}", String::from_utf8_lossy(&tail))
}

fn key_lines(rng: &mut Rng) -> String {
    match rng.below(5) {
        0 => format!("GITHUB_TOKEN = \"{}\"\n", github_token(rng)),
        1 => format!(
            "aws_access_key_id = \"AKIA{}\"\naws_secret_access_key = \"{}\"\n",
            rng.chars(B32, 16),
            rng.chars(B64, 40)
        ),
        2 => format!("STRIPE_SECRET_KEY=sk_live_{}\n", rng.chars(B62, 24)),
        3 => format!(
            "const slackToken = 'xoxb-{}-{}-{}';\n",
            10_000_000_000 + rng.below(89_999_999_999),
            100_000_000_000 + rng.below(899_999_999_999),
            rng.chars(B62, 24)
        ),
        _ => format!("db_password = \"{}\"\n", rng.chars(B62, 18)),
    }
}

/// About `size` bytes of source lines; with `keys`, a fake key every ~32 KB.
fn code(seed: u64, size: usize, keys: bool) -> Vec<u8> {
    let mut rng = Rng(seed);
    let mut out = String::with_capacity(size + 1024);
    let mut next_key = 16 << 10;
    while out.len() < size {
        code_line(&mut rng, &mut out);
        if keys && out.len() >= next_key {
            out.push_str(&key_lines(&mut rng));
            next_key += 32 << 10;
        }
    }
    out.into_bytes()
}

/// About `size` bytes of package-lock.json entries.
fn lockfile(seed: u64, size: usize) -> Vec<u8> {
    let mut rng = Rng(seed);
    let mut out = String::with_capacity(size + 1024);
    out.push_str("{\n  \"lockfileVersion\": 3,\n  \"packages\": {\n");
    while out.len() < size {
        let name = ident(&mut rng).replace('_', "-");
        let version = format!("{}.{}.{}", rng.below(10), rng.below(30), rng.below(40));
        out.push_str(&format!(
            "    \"node_modules/{name}\": {{\n      \"version\": \"{version}\",\n      \
             \"resolved\": \"https://registry.npmjs.org/{name}/-/{name}-{version}.tgz\",\n      \
             \"integrity\": \"sha512-{}==\",\n      \"dev\": true\n    }},\n",
            rng.chars(B64, 86)
        ));
    }
    out.push_str("  }\n}\n");
    out.into_bytes()
}

fn rules() -> RuleSet {
    load::builtin().expect("built-in rules should load")
}

fn bench_engine(c: &mut Criterion) {
    let rules = rules();
    let inputs: Vec<(&str, Vec<u8>)> = vec![
        ("code", code(1, SIZE, false)),
        ("code+keys", code(2, SIZE, true)),
        ("lockfile", lockfile(3, SIZE)),
    ];

    // The keyed input must exercise the whole path: regexes, checks, matches.
    let mut scanner = Scanner::new(&rules);
    let planted = inputs[1].1.len() / (32 << 10);
    assert!(
        scanner.scan(&inputs[1].1).list.len() >= planted / 2,
        "the planted keys should be found"
    );

    let mut group = c.benchmark_group("prefilter");
    group.sample_size(20).measurement_time(Duration::from_secs(4));
    let mut hits: Vec<Hit> = Vec::new();
    for (name, bytes) in &inputs {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), bytes, |b, bytes| {
            b.iter(|| {
                hits.clear();
                rules.prefilter.hits(black_box(bytes), &mut hits);
                hits.len()
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("scan");
    group.sample_size(10).measurement_time(Duration::from_secs(6));
    for (name, bytes) in &inputs {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), bytes, |b, bytes| {
            b.iter(|| scanner.scan(black_box(bytes)).list.len())
        });
    }
    let (_, keyed) = &inputs[1];
    group.throughput(Throughput::Bytes(keyed.len() as u64));
    group.bench_with_input(BenchmarkId::from_parameter("files-16k"), keyed, |b, bytes| {
        b.iter(|| {
            bytes
                .chunks(16 << 10)
                .map(|blob| scanner.scan(black_box(blob)).list.len())
                .sum::<usize>()
        })
    });
    group.finish();
}

// What `criterion_group!` and `criterion_main!` expand to, written out: the
// macros generate an undocumented `pub fn`, which `missing_docs` rejects.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench_engine(&mut c);
    c.final_summary();
}
