#!/usr/bin/env python3
"""Generate a labelled detection-quality corpus for keylint.

Usage:
    python3 scripts/eval/gen_corpus.py OUTDIR [--seed N]

Writes
    OUTDIR/positive/<provider>/<n>.<ext>   one fake key each, in the provider's documented format
    OUTDIR/negative/<category>/<n>.<ext>   near misses that must not be reported
    OUTDIR/labels.jsonl                    one JSON object per file:
        {"path", "label": "positive"|"negative", "provider", "kind", "secret"}

The formats come from /work/shared/providers.md (entries, §0 checksums, §D, §G,
§J, §K, §E, §F), not from keylint's rule files. Every key is random ("fake"):
bodies are drawn from the documented alphabet and length, and carry correct
checksums where §0 documents one (GitHub/npm CRC32-base62, GitLab routable
tokens, Grafana glsa_, Cloudflare cfut_/cfat_/cfk_, age Bech32).

Output is deterministic for a given --seed. Standard library only (Python 3.11).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import string
import struct
import sys
import uuid as uuidlib
import zlib

# ---------------------------------------------------------------------------
# alphabets (providers.md "How to read an entry")
# ---------------------------------------------------------------------------
DIG = string.digits
UP = string.ascii_uppercase
LO = string.ascii_lowercase
B62 = DIG + UP + LO
B62_GH = DIG + UP + LO  # GitHub/npm base62 digit order: 0-9 A-Z a-z
B64URL = B62 + "-_"
B64 = B62 + "+/"
HEX = "0123456789abcdef"
UHEX = "0123456789ABCDEF"
B32 = UP + "234567"
LB32 = LO + "234567"
B36 = DIG + LO
UPALNUM = UP + DIG
LETTERS = UP + LO
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

# substrings a scanner may legitimately treat as "placeholder": keep them out of fake keys
_BAD_WORDS = ("test", "fake", "demo", "example", "sample", "dummy", "xxxx", "todo", "fixme",
              "redact", "change", "secret", "password", "token", "abcdef", "12345", "placeholder")


class R:
    """Thin wrapper around random.Random with corpus helpers."""

    def __init__(self, seed: int):
        self.r = random.Random(seed)

    # basic -----------------------------------------------------------------
    def choice(self, seq):
        return self.r.choice(seq)

    def randint(self, a, b):
        return self.r.randint(a, b)

    def random(self):
        return self.r.random()

    def sample(self, seq, k):
        return self.r.sample(seq, k)

    def shuffle(self, seq):
        self.r.shuffle(seq)

    def bytes(self, n: int) -> bytes:
        return bytes(self.r.getrandbits(8) for _ in range(n))

    # random strings --------------------------------------------------------
    def s(self, alphabet: str, n: int, *, edge: str | None = None) -> str:
        """n random chars from alphabet; avoids placeholder-looking output.

        edge: alphabet for first/last char (defaults to alphabet without - and _)."""
        while True:
            out = [self.r.choice(alphabet) for _ in range(n)]
            if n >= 2:
                e = edge if edge is not None else "".join(c for c in alphabet if c not in "-_.~+/=")
                if e:
                    out[0] = self.r.choice(e)
                    out[-1] = self.r.choice(e)
            v = "".join(out)
            if self.looks_random(v):
                return v

    @staticmethod
    def looks_random(v: str) -> bool:
        low = v.lower()
        if any(w in low for w in _BAD_WORDS):
            return False
        run = 1
        for a, b in zip(v, v[1:]):
            run = run + 1 if a == b else 1
            if run >= 4:
                return False
        if len(v) >= 12 and len(set(v)) <= 5:
            return False
        return True

    def hexs(self, n):
        return self.s(HEX, n)

    def digits(self, n, first_nonzero=True):
        d = self.s(DIG, n)
        if first_nonzero and d[0] == "0":
            d = self.choice("123456789") + d[1:]
        return d

    def uuid(self, upper=False):
        u = str(uuidlib.UUID(bytes=self.bytes(16), version=4))
        return u.upper() if upper else u

    def password(self, lo=14, hi=22, symbols="!*-_.~") -> str:
        """A human-ish but strong password: >=3 character classes, no placeholder words."""
        while True:
            n = self.randint(lo, hi)
            chars = [self.choice(B62) for _ in range(n)]
            for i in self.sample(range(n), 2):
                chars[i] = self.choice(symbols)
            chars[self.randint(0, n - 1)] = self.choice(DIG)
            chars[self.randint(0, n - 1)] = self.choice(UP)
            chars[self.randint(0, n - 1)] = self.choice(LO)
            v = "".join(chars)
            if v[0] in symbols or v[-1] in symbols:
                continue
            classes = sum(any(c in cls for c in v) for cls in (DIG, UP, LO, symbols))
            if classes >= 3 and self.looks_random(v):
                return v

    def b64of(self, nbytes: int, urlsafe=False, pad=True) -> str:
        while True:
            raw = self.bytes(nbytes)
            v = (base64.urlsafe_b64encode(raw) if urlsafe else base64.b64encode(raw)).decode()
            if not pad:
                v = v.rstrip("=")
            if self.looks_random(v.rstrip("=")):
                return v


# ---------------------------------------------------------------------------
# checksums (providers.md §0)
# ---------------------------------------------------------------------------
def crc32(data: str) -> int:
    return zlib.crc32(data.encode()) & 0xFFFFFFFF


def base62_gh(n: int, width: int = 6) -> str:
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = B62_GH[r] + out
    return out.rjust(width, "0")


def base36(n: int, width: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = B36[r] + out
    return out.rjust(width, "0")


def github_token(rng: R, prefix: str, bad_crc=False) -> str:
    body = rng.s(B62, 30)
    crc = crc32(body)
    if bad_crc:
        crc = (crc + rng.randint(1, 0xFFFF)) & 0xFFFFFFFF
    return prefix + body + base62_gh(crc)


def npm_token(rng: R, bad_crc=False) -> str:
    return github_token(rng, "npm_", bad_crc)


def gitlab_routable(rng: R, prefix: str = "glpat-", bad_crc=False, versioned=True) -> str:
    cell = base36(rng.randint(1, 30), 1)
    org = base36(rng.randint(36 ** 3, 36 ** 5), 1)
    user = base36(rng.randint(36 ** 4, 36 ** 6), 1)
    payload = f"c:{cell}\no:{org}\nu:{user}".encode() + rng.bytes(16) + bytes([16])
    p64 = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    head = prefix + p64 + "." + ("01." if versioned else "") + base36(len(p64), 2)
    crc = crc32(head)
    if bad_crc:
        crc = (crc + rng.randint(1, 0xFFFF)) & 0xFFFFFFFF
    return head + base36(crc, 7)


def grafana_sa(rng: R, bad_crc=False) -> str:
    body = "glsa_" + rng.s(B62, 32)
    crc = crc32(body)
    if bad_crc:
        crc = (crc + rng.randint(1, 0xFFFF)) & 0xFFFFFFFF
    return body + "_" + struct.pack("<I", crc).hex()


def cloudflare_token(rng: R, prefix: str) -> str:
    body = rng.s(B62, 40)
    return prefix + body + "%08x" % crc32(body)


def _bech32_polymod(values):
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for v in values:
        b = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if ((b >> i) & 1) else 0
    return chk


def bech32_encode(hrp: str, data8: bytes) -> str:
    acc, bits, data5 = 0, 0, []
    for b in data8:
        acc = (acc << 8) | b
        bits += 8
        while bits >= 5:
            bits -= 5
            data5.append((acc >> bits) & 31)
    if bits:
        data5.append((acc << (5 - bits)) & 31)
    hrp_exp = [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]
    pm = _bech32_polymod(hrp_exp + data5 + [0] * 6) ^ 1
    chk = [(pm >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH32[d] for d in data5 + chk)


def age_secret_key(rng: R) -> str:
    return bech32_encode("age-secret-key-", rng.bytes(32)).upper()


# ---------------------------------------------------------------------------
# structured fakes: JWTs, PEM blocks, base64 JSON
# ---------------------------------------------------------------------------
def b64url_json(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")


def jwt(rng: R, payload: dict, alg="HS256", header_extra=None) -> str:
    header = {"alg": alg, "typ": "JWT"}
    if header_extra:
        header.update(header_extra)
    sig_len = {"HS256": 43, "HS384": 64, "HS512": 86, "ES256": 86, "RS256": 342}[alg]
    return b64url_json(header) + "." + b64url_json(payload) + "." + rng.s(B64URL, sig_len)


PEM_LEADS = {
    "RSA PRIVATE KEY": ("MIIEowIBAAKCAQEA", 1190),
    "PRIVATE KEY": ("MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ", 1210),
    "ENCRYPTED PRIVATE KEY": ("MIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI", 1280),
    "EC PRIVATE KEY": ("MHcCAQEEI", 112),
    "DSA PRIVATE KEY": ("MIIBuwIBAAKBgQ", 640),
    "OPENSSH PRIVATE KEY": ("b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW", 330),
}


def pem_body(rng: R, lead: str, n: int, width=64) -> str:
    body = lead + rng.s(B64, n - len(lead))
    while len(body) % 4:
        body += rng.choice(B64)
    return "\n".join(body[i:i + width] for i in range(0, len(body), width))


def pem(rng: R, label: str, headers: str = "") -> str:
    lead, n = PEM_LEADS[label]
    width = 70 if label == "OPENSSH PRIVATE KEY" else 64
    body = pem_body(rng, lead, n, width)
    return f"-----BEGIN {label}-----\n{headers}{body}\n-----END {label}-----"


def pgp_private(rng: R) -> str:
    body = pem_body(rng, "lQOYBG", 1300)
    return ("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n" + body + "\n=" + rng.s(B64, 4)
            + "\n-----END PGP PRIVATE KEY BLOCK-----")


def putty_ppk(rng: R) -> str:
    pub = pem_body(rng, "AAAAC3NzaC1lZDI1NTE5AAAAI", 68, 64)
    priv = pem_body(rng, "AAAAI", 48, 64)
    return ("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: deploy@build-01\n"
            f"Public-Lines: {pub.count(chr(10)) + 1}\n{pub}\nPrivate-Lines: {priv.count(chr(10)) + 1}\n{priv}\n"
            f"Private-MAC: {rng.hexs(64)}")


# ---------------------------------------------------------------------------
# name styles
# ---------------------------------------------------------------------------
def words(name: str) -> list[str]:
    """Split UPPER_SNAKE, camelCase, PascalCase or kebab names into lowercase words."""
    import re
    out = []
    for part in re.split(r"[_\-]+", name):
        out += re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+", part) or ([part] if part else [])
    return [w.lower() for w in out if w]


def _styled(fn):
    def wrapper(name: str) -> str:
        if "." in name or not words(name):  # already a dotted property name: keep it
            return name
        return fn(words(name))
    return wrapper


snake = _styled(lambda w: "_".join(w))
camel = _styled(lambda w: w[0] + "".join(x.capitalize() for x in w[1:]))
pascal = _styled(lambda w: "".join(x.capitalize() for x in w))
dotted = _styled(lambda w: ".".join(w))
kebab = _styled(lambda w: "-".join(w))


def service_of(name: str) -> str:
    w = words(name)
    return w[0] if len(w) > 1 and "." not in name else "app"


# quoting helpers ------------------------------------------------------------
def dq(v: str) -> str:
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


def yaml_scalar(v: str) -> str:
    if v and all(c in B62 + "-_." for c in v) and not v[0].isdigit() and not v.startswith("-"):
        return v
    if "'" not in v:
        return "'" + v + "'"
    return dq(v)


def sh_quote(v: str) -> str:
    return "'" + v.replace("'", "'\"'\"'") + "'"


def xml_attr(v: str) -> str:
    return v.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


# ---------------------------------------------------------------------------
# snippet templates: each takes a Ctx and returns (ext, text)
# ---------------------------------------------------------------------------
class Ctx:
    def __init__(self, rng: R, name: str, value: str, extras=(), header=None, host=None, kw=False):
        self.rng = rng
        self.name = name          # UPPER_SNAKE variable name, e.g. STRIPE_SECRET_KEY
        self.value = value        # the literal placed in the file (contains the secret)
        self.extras = list(extras)  # [(NAME, value)] non-secret context (ids, hosts, regions)
        self.header = header      # e.g. "Authorization: Bearer {v}"
        self.host = host or f"api.{service_of(name)}.example.com"
        self.kw = kw              # unprefixed format: the variable name must stay next to the value


FILLER_ENV = [
    ("APP_ENV", "production"), ("PORT", "8080"), ("LOG_LEVEL", "info"), ("NODE_ENV", "production"),
    ("REDIS_HOST", "cache.internal"), ("FEATURE_NEW_CHECKOUT", "true"), ("TZ", "UTC"),
    ("WORKERS", "4"), ("REQUEST_TIMEOUT_MS", "15000"), ("PUBLIC_URL", "https://shop.acme-widgets.io"),
    ("SENTRY_ENVIRONMENT", "prod"), ("MAX_UPLOAD_MB", "25"), ("CACHE_TTL", "300"),
]


def _fill(rng: R, k=None, lo=2, hi=4):
    k = k if k is not None else rng.randint(lo, hi)
    return rng.sample(FILLER_ENV, k)


def t_env(c: Ctx):
    rng = c.rng
    lines = ["# " + rng.choice(["Production settings", "Local overrides - do not commit",
                                "Service configuration", "copied from 1password on deploy"])]
    first = _fill(rng)
    lines += [f"{k}={v}" for k, v in first]
    lines.append("")
    lines += [f"{k}={v}" for k, v in c.extras]
    v = c.value if all(ch not in c.value for ch in " #'\"$") else '"' + c.value + '"'
    if "$" in c.value:
        v = "'" + c.value + "'"
    lines.append(f"{c.name}={v}")
    rest = [kv for kv in FILLER_ENV if kv not in first]
    lines += [f"{k}={v}" for k, v in rng.sample(rest, rng.randint(0, 2))]
    return rng.choice(["env", "env.production", "env.local"]), "\n".join(lines) + "\n"


def t_yaml(c: Ctx):
    rng = c.rng
    svc = service_of(c.name)
    lines = ["server:", f"  port: {rng.choice([8080, 3000, 8000, 9090])}", "  host: 0.0.0.0",
             "logging:", f"  level: {rng.choice(['info', 'warn', 'debug'])}", ""]
    lines.append("integrations:")
    lines.append(f"  {svc}:")
    lines.append(f"    enabled: true")
    for k, v in c.extras:
        lines.append(f"    {snake(k)}: {yaml_scalar(v)}")
    lines.append(f"    {snake(c.name)}: {yaml_scalar(c.value)}")
    lines.append(f"    timeout_seconds: {rng.choice([5, 10, 30])}")
    lines += ["", "database:", "  pool_size: 10", "  statement_timeout: 30s"]
    return rng.choice(["yml", "yaml"]), "\n".join(lines) + "\n"


def t_json(c: Ctx):
    rng = c.rng
    svc = service_of(c.name)
    inner = {"enabled": True}
    for k, v in c.extras:
        inner[camel(k)] = v
    inner[camel(c.name)] = c.value
    inner["retries"] = rng.choice([2, 3, 5])
    doc = {"name": rng.choice(["billing-service", "web", "worker", "notifier"]),
           "version": f"{rng.randint(0, 3)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
           "port": rng.choice([8080, 3000]), svc: inner,
           "features": {"darkMode": False, "betaSearch": True}}
    return "json", json.dumps(doc, indent=2) + "\n"


PY_FUNCS = [
    '''def fetch_items(session, page=1):
    resp = session.get(f"{BASE_URL}/items", params={"page": page}, timeout=10)
    resp.raise_for_status()
    return resp.json()["items"]
''',
    '''def chunked(seq, size):
    """Yield successive chunks of *size* from *seq*."""
    for i in range(0, len(seq), size):
        yield seq[i:i + size]
''',
    '''class RetryPolicy:
    def __init__(self, attempts=3, backoff=1.5):
        self.attempts = attempts
        self.backoff = backoff

    def delays(self):
        return [self.backoff ** i for i in range(self.attempts)]
''',
]


def t_python(c: Ctx):
    rng = c.rng
    lines = ["import logging", "import os", "", "import requests", "",
             "log = logging.getLogger(__name__)", "", f'BASE_URL = "https://{c.host}/v1"']
    for k, v in c.extras:
        lines.append(f"{k} = {dq(v)}")
    style = rng.randint(0, 2)
    if style == 0 or c.kw:
        lines.append(f"{c.name} = {dq(c.value)}")
    elif style == 1:
        lines.append(f"{snake(c.name)} = {dq(c.value)}  # TODO move to vault")
    else:
        lines += ["", "def make_client():", f"    return requests.Session(), {dq(c.value)}"]
    lines += ["", ""] + [rng.choice(PY_FUNCS)]
    return "py", "\n".join(lines)


JS_FUNCS = [
    '''async function listOrders(client, page = 1) {
  const res = await client.get(`/orders?page=${page}`);
  if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  return res.data.items;
}''',
    '''function debounce(fn, ms) {
  let t;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}''',
]


def t_js(c: Ctx):
    rng = c.rng
    lines = ["'use strict';", "", "const axios = require('axios');", ""]
    if rng.random() < 0.5 or c.kw:
        lines.append("const config = {")
        lines.append(f"  baseURL: 'https://{c.host}',")
        for k, v in c.extras:
            lines.append(f"  {camel(k)}: {json.dumps(v)},")
        key = camel(c.name) if rng.random() < 0.5 else c.name
        lines.append(f"  {key}: {json.dumps(c.value)},")
        lines.append("  timeout: 10000,")
        lines.append("};")
    else:
        for k, v in c.extras:
            lines.append(f"const {k} = {json.dumps(v)};")
        lines.append(f"const {c.name} = '{c.value}';")
    lines += ["", rng.choice(JS_FUNCS), "", "module.exports = { listOrders: typeof listOrders !== 'undefined' ? listOrders : null };"]
    return "js", "\n".join(lines) + "\n"


def t_ts(c: Ctx):
    rng = c.rng
    lines = ["import { HttpClient } from './http';", "",
             "export interface ClientOptions {", "  baseUrl: string;", "  retries?: number;", "}", ""]
    for k, v in c.extras:
        lines.append(f"export const {k} = {json.dumps(v)};")
    lines.append(f"export const {c.name}: string = {json.dumps(c.value)};")
    lines += ["", "export function createClient(opts: ClientOptions): HttpClient {",
              "  return new HttpClient(opts.baseUrl, { retries: opts.retries ?? 3 });", "}"]
    return rng.choice(["ts", "tsx", "mjs"]), "\n".join(lines) + "\n"


def t_go(c: Ctx):
    rng = c.rng
    lines = ["package config", "", "import (", '\t"net/http"', '\t"time"', ")", "", "const ("]
    for k, v in c.extras:
        lines.append(f"\t{pascal(k)} = {json.dumps(v)}")
    gname = pascal(c.name) if rng.random() < 0.5 else camel(c.name)
    val = "`" + c.value + "`" if ('"' in c.value or "\\" in c.value) else json.dumps(c.value)
    lines.append(f"\t{gname} = {val}")
    lines += ["\tdefaultTimeout = 10 * time.Second", ")", "",
              "// NewClient returns an HTTP client with sane defaults.",
              "func NewClient() *http.Client {", "\treturn &http.Client{Timeout: defaultTimeout}", "}"]
    return "go", "\n".join(lines) + "\n"


def t_properties(c: Ctx):
    rng = c.rng
    lines = ["# application.properties", "server.port=8080", "spring.application.name=orders",
             "spring.jpa.hibernate.ddl-auto=validate", "management.endpoints.web.exposure.include=health,info", ""]
    for k, v in c.extras:
        lines.append(f"{dotted(k)}={v}")
    key = dotted(c.name) if rng.random() < 0.6 else c.name
    lines.append(f"{key}={c.value}")
    lines.append("logging.level.root=INFO")
    return "properties", "\n".join(lines) + "\n"


def t_shell(c: Ctx):
    rng = c.rng
    lines = ["#!/usr/bin/env bash", "set -euo pipefail", "", 'cd "$(dirname "$0")/.."', ""]
    for k, v in c.extras:
        lines.append(f"export {k}={sh_quote(v)}")
    q = '"' + c.value + '"' if all(ch not in c.value for ch in '$"`\\!') else sh_quote(c.value)
    lines.append(f"export {c.name}={q}")
    lines += ["", rng.choice(["./gradlew build -x test", "npm ci && npm run build", "make release",
                              "python -m pip install -r requirements.txt"]),
              'echo "deploying to ${DEPLOY_ENV:-staging}"', "./scripts/deploy.sh"]
    return "sh", "\n".join(lines) + "\n"


def t_dockerfile(c: Ctx):
    rng = c.rng
    base = rng.choice(["python:3.12-slim", "node:20-alpine", "golang:1.22 AS build", "eclipse-temurin:21-jre"])
    lines = [f"FROM {base}", "WORKDIR /app", "COPY . .", ""]
    for k, v in c.extras:
        lines.append(f"ENV {k}={v}")
    v = c.value if " " not in c.value and "$" not in c.value else '"' + c.value.replace("$", "\\$") + '"'
    if rng.random() < 0.5:
        lines.append(f"ENV {c.name}={v}")
    else:
        lines.append(f"ENV {c.name} {v}")
    lines += ["RUN " + rng.choice(["pip install --no-cache-dir -r requirements.txt", "npm ci --omit=dev",
                                   "go build -o /bin/app ./cmd/app"]), "EXPOSE 8080",
              'CMD ["./start.sh"]']
    return "Dockerfile", "\n".join(lines) + "\n"


def t_http(c: Ctx):
    rng = c.rng
    lines = [f"### {rng.choice(['List resources', 'Smoke test', 'Fetch account'])}"]
    if c.kw and not c.header:
        lines.insert(0, f"@{c.name} = {c.value}")
        lines.insert(1, "")
        lines += [f"GET https://{c.host}/v1/account", f"Authorization: Bearer {{{{{c.name}}}}}"]
    else:
        hdr = (c.header or "Authorization: Bearer {v}").format(v=c.value)
        method = rng.choice(["GET", "POST"])
        lines += [f"{method} https://{c.host}/v1/{rng.choice(['me', 'projects', 'items?limit=10'])}",
                  hdr, "Accept: application/json"]
        if method == "POST":
            lines += ["Content-Type: application/json", "", '{"name": "nightly"}']
    return "http", "\n".join(lines) + "\n"


def t_compose(c: Ctx):
    rng = c.rng
    img = rng.choice(["ghcr.io/acme/api:1.8.2", "acme/worker:latest", "node:20-alpine"])
    lines = ["services:", "  app:", f"    image: {img}", "    ports:", '      - "8080:8080"',
             "    depends_on:", "      - db", "    environment:"]
    listform = rng.random() < 0.5
    val = c.value.replace("$", "$$")
    for k, v in c.extras + [(c.name, val)]:
        if listform:
            lines.append(f"      - {k}={v}")
        else:
            lines.append(f"      {k}: {yaml_scalar(v)}")
    lines += ["  db:", "    image: postgres:16", "    volumes:", "      - pgdata:/var/lib/postgresql/data",
              "volumes:", "  pgdata: {}"]
    return "compose.yaml", "\n".join(lines) + "\n"


def t_tfvars(c: Ctx):
    rng = c.rng
    lines = [f'region       = "{rng.choice(["us-east-1", "eu-west-1", "europe-west4"])}"',
             f'environment  = "{rng.choice(["prod", "staging"])}"', "instance_count = 3", ""]
    for k, v in c.extras:
        lines.append(f"{snake(k)} = {dq(v)}")
    val = c.value.replace("${", "$${")
    lines.append(f"{snake(c.name)} = {dq(val)}")
    lines.append('tags = { team = "platform", owner = "infra" }')
    return "tfvars", "\n".join(lines) + "\n"


def t_xml(c: Ctx):
    rng = c.rng
    if rng.random() < 0.5:
        lines = ['<?xml version="1.0" encoding="utf-8"?>', "<configuration>", "  <appSettings>",
                 '    <add key="Environment" value="Production" />']
        for k, v in c.extras:
            lines.append(f'    <add key="{pascal(k)}" value="{xml_attr(v)}" />')
        lines.append(f'    <add key="{rng.choice([pascal(c.name), c.name])}" value="{xml_attr(c.value)}" />')
        lines += ["  </appSettings>", "  <system.web>", '    <compilation debug="false" targetFramework="4.8" />',
                  "  </system.web>", "</configuration>"]
        return "config", "\n".join(lines) + "\n"
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<settings>", "  <service>",
             f"    <endpoint>https://{c.host}</endpoint>"]
    for k, v in c.extras:
        lines.append(f"    <{camel(k)}>{xml_attr(v)}</{camel(k)}>")
    lines.append(f"    <{camel(c.name)}>{xml_attr(c.value)}</{camel(c.name)}>")
    lines += ["    <timeout>30</timeout>", "  </service>", "</settings>"]
    return "xml", "\n".join(lines) + "\n"


def t_ini(c: Ctx):
    rng = c.rng
    svc = service_of(c.name)
    lines = ["[general]", "debug = false", f"workers = {rng.randint(2, 8)}", "", f"[{svc}]"]
    for k, v in c.extras:
        lines.append(f"{snake(k)} = {v}")
    lines.append(f"{snake(c.name)} = {c.value}")
    lines += ["", "[logging]", "level = INFO", "format = %(asctime)s %(levelname)s %(message)s"]
    return rng.choice(["ini", "cfg", "conf"]), "\n".join(lines) + "\n"


def t_toml(c: Ctx):
    rng = c.rng
    svc = service_of(c.name)
    lines = ["[server]", 'bind = "0.0.0.0:8080"', "", f"[{svc}]"]
    for k, v in c.extras:
        lines.append(f"{snake(k)} = {dq(v)}")
    lines.append(f"{snake(c.name)} = {dq(c.value)}")
    lines += ["", "[log]", 'level = "info"']
    return "toml", "\n".join(lines) + "\n"


def t_gha(c: Ctx):
    """GitHub Actions workflow with a hard-coded env value (a classic leak)."""
    rng = c.rng
    lines = ["name: deploy", "on:", "  push:", "    branches: [main]", "jobs:", "  deploy:",
             "    runs-on: ubuntu-latest", "    env:"]
    for k, v in c.extras:
        lines.append(f"      {k}: {yaml_scalar(v)}")
    lines.append(f"      {c.name}: {yaml_scalar(c.value)}")
    lines += ["    steps:", "      - uses: actions/checkout@v4", "      - run: make deploy"]
    return "yml", "\n".join(lines) + "\n"


def t_curl(c: Ctx):
    """Shell one-liner with the value in a header (prefixed tokens only)."""
    hdr = (c.header or "Authorization: Bearer {v}").format(v=c.value)
    lines = ["#!/bin/sh", "# quick check that the integration still works",
             f"curl -fsS https://{c.host}/v1/{c.rng.choice(['me', 'status', 'projects'])} \\",
             f"  -H '{hdr}' \\", "  -H 'Accept: application/json' | jq ."]
    return "sh", "\n".join(lines) + "\n"


TEMPLATES = {
    "env": t_env, "yaml": t_yaml, "json": t_json, "python": t_python, "js": t_js, "ts": t_ts,
    "go": t_go, "properties": t_properties, "shell": t_shell, "dockerfile": t_dockerfile,
    "http": t_http, "compose": t_compose, "tfvars": t_tfvars, "xml": t_xml, "ini": t_ini,
    "toml": t_toml, "gha": t_gha, "curl": t_curl,
}
# templates that keep a variable name on the same line as the value
KW_TEMPLATES = ["env", "yaml", "json", "python", "js", "ts", "go", "properties", "shell",
                "dockerfile", "compose", "tfvars", "xml", "ini", "toml", "gha", "http"]
ALL_TEMPLATES = KW_TEMPLATES + ["curl"]


# ---------------------------------------------------------------------------
# positive specs
# ---------------------------------------------------------------------------
class Spec:
    def __init__(self, provider, kind, gen, names, *, kw=False, extras=(), wrap=None, header=None,
                 host=None, templates=None, special=(), n=3):
        self.provider = provider
        self.kind = kind
        self.gen = gen            # rng -> secret
        self.names = names if isinstance(names, (list, tuple)) else [names]
        self.kw = kw              # unprefixed: needs the keyword/variable name
        self.extras = extras      # [(NAME, rng -> value)]
        self.wrap = wrap          # (rng, secret) -> literal that contains the secret
        self.header = header
        self.host = host
        if templates is None:
            if wrap:
                templates = [t for t in KW_TEMPLATES if t != "http"]
            else:
                templates = KW_TEMPLATES if kw else ALL_TEMPLATES
        self.templates = list(templates)
        self.special = list(special)
        self.n = n


def P(prefix, alpha, n, suffix=""):
    return lambda r: prefix + r.s(alpha, n) + suffix


def V(*choices):
    """Pick one generator from several shape variants."""
    return lambda r: r.choice(choices)(r)


def C(value):
    return lambda r: value


# special, provider-specific file templates ---------------------------------------
def s_aws_credentials(c):
    prof = c.rng.choice(["default", "prod", "ci-deployer"])
    lines = [f"[{prof}]"]
    for k, v in c.extras:
        lines.append(f"{k.lower()} = {v}")
    lines.append(f"{c.name.lower()} = {c.value}")
    lines.append(f"region = {c.rng.choice(['us-east-1', 'eu-central-1', 'ap-southeast-2'])}")
    return "credentials", "\n".join(lines) + "\n"


def s_netrc(host):
    def f(c):
        user = c.rng.choice(["deploy", "ci-bot", "jsmith", "oauth2"])
        return "netrc", f"machine {host}\n  login {user}\n  password {c.value}\n"
    return f


def s_npmrc(c):
    return "npmrc", ("registry=https://registry.npmjs.org/\n@acme:registry=https://registry.npmjs.org/\n"
                     f"//registry.npmjs.org/:_authToken={c.value}\nsave-exact=true\n")


def s_pypirc(c):
    return "pypirc", ("[distutils]\nindex-servers =\n    pypi\n\n[pypi]\nusername = __token__\n"
                      f"password = {c.value}\n")


def s_gem_credentials(c):
    return "yml", f"---\n:rubygems_api_key: {c.value}\n"


def s_url_in_code(c):
    """Python requests call with the secret inside a URL (webhooks)."""
    return "py", ("import json\nimport urllib.request\n\n"
                  f"WEBHOOK = {dq(c.value)}\n\n\n"
                  "def notify(text):\n    body = json.dumps({\"text\": text}).encode()\n"
                  "    req = urllib.request.Request(WEBHOOK, data=body, headers={\"Content-Type\": \"application/json\"})\n"
                  "    urllib.request.urlopen(req, timeout=5)\n")


def s_telegram_url(c):
    return "py", ("import requests\n\n\ndef send(chat_id, text):\n"
                  f"    url = \"https://api.telegram.org/bot{c.value}/sendMessage\"\n"
                  "    return requests.post(url, json={\"chat_id\": chat_id, \"text\": text}, timeout=5)\n")


def s_git_remote(c):
    return "config", ('[core]\n\trepositoryformatversion = 0\n\tbare = false\n[remote "origin"]\n'
                      f"\turl = https://x-access-token:{c.value}@github.com/acme/infra.git\n"
                      "\tfetch = +refs/heads/*:refs/remotes/origin/*\n[branch \"main\"]\n\tremote = origin\n")


def s_gitlab_remote(c):
    return "sh", ("#!/bin/sh\nset -e\n"
                  f"git clone https://oauth2:{c.value}@gitlab.com/acme/platform/api.git\n"
                  "cd api && make test\n")


def s_private_token_header(c):
    return "sh", (f"curl --header \"PRIVATE-TOKEN: {c.value}\" \\\n"
                  "  \"https://gitlab.com/api/v4/projects/42/pipelines?ref=main\"\n")


def s_databrickscfg(c):
    return "databrickscfg", (f"[DEFAULT]\nhost = https://dbc-{c.rng.hexs(8)}-{c.rng.hexs(4)}.cloud.databricks.com\n"
                             f"token = {c.value}\n")


def s_docker_config(c):
    doc = {"auths": {"https://index.docker.io/v1/": {"auth": c.value}}, "credsStore": ""}
    return "json", json.dumps(doc, indent=2) + "\n"


def s_k8s_secret(c):
    return "yaml", ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-credentials\n  namespace: prod\n"
                    f"type: Opaque\ndata:\n  username: {base64.b64encode(b'app').decode()}\n"
                    f"  password: {c.value}\n")


def s_kubeconfig(c):
    return "yaml", ("apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://10.0.0.1:6443\n"
                    "  name: prod\ncontexts:\n- context:\n    cluster: prod\n    user: admin\n  name: prod\n"
                    "current-context: prod\nusers:\n- name: admin\n  user:\n"
                    f"    {c.name}: {c.value}\n")


def s_terraformrc(c):
    return "tfrc.json", json.dumps({"credentials": {"app.terraform.io": {"token": c.value}}}, indent=2) + "\n"


def s_okta_header(c):
    return "sh", (f"curl -s -H 'Authorization: SSWS {c.value}' \\\n"
                  "  https://acme.okta.com/api/v1/users?limit=25\n")


def s_cargo_credentials(c):
    return "toml", f"[registry]\ntoken = \"{c.value}\"\n"


def s_gradle(c):
    return "properties", ("org.gradle.jvmargs=-Xmx2g\nandroid.useAndroidX=true\n"
                          f"{c.name}={c.value}\n")


# value wrappers -------------------------------------------------------------------
def w_azure_storage(r, s):
    return (f"DefaultEndpointsProtocol=https;AccountName={r.choice(['acmeprod', 'stdata01', 'webassets'])};"
            f"AccountKey={s};EndpointSuffix=core.windows.net")


def w_servicebus(r, s):
    return (f"Endpoint=sb://{r.choice(['acme-bus', 'orders-ns'])}.servicebus.windows.net/;"
            f"SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={s}")


def w_cosmos(r, s):
    return f"AccountEndpoint=https://{r.choice(['acme-cosmos', 'catalog-db'])}.documents.azure.com:443/;AccountKey={s};"


def w_sas(r, s):
    return (f"https://acmeprod.blob.core.windows.net/exports?sv=2022-11-02&ss=b&srt=sco&sp=rl"
            f"&se=2026-12-31T23:59:59Z&st=2025-01-01T00:00:00Z&spr=https&sig={s}")


def w_azure_sql(r, s):
    return (f"Server=tcp:{r.choice(['acme-sql', 'orders-prod'])}.database.windows.net,1433;Initial Catalog=orders;"
            f"Persist Security Info=False;User ID=sqladmin;Password={s};Encrypt=True;Connection Timeout=30;")


def w_azure_redis(r, s):
    return f"{r.choice(['acme-cache', 'sessions'])}.redis.cache.windows.net:6380,password={s},ssl=True,abortConnect=False"


def _user(r):
    return r.choice(["app", "svc_orders", "analytics", "admin_rw", "webuser", "etl"])


def _host(r):
    return r.choice(["db.prod.acme-internal.net", "10.20.3.14", "orders-db.c8xk2lq9.eu-west-1.rds.amazonaws.com",
                     "pg-main.acme.io", "mysql-02.dc1.acme.io"])


def w_uri(scheme, port, path="/app", user=True):
    def f(r, s):
        u = _user(r) if user else ""
        return f"{scheme}://{u}:{s}@{_host(r)}:{port}{path}"
    return f


def w_mongo(r, s):
    cl = r.choice(["cluster0", "prod-shard", "analytics"])
    return f"mongodb+srv://{_user(r)}:{s}@{cl}.{r.s(B36, 5)}.mongodb.net/{r.choice(['shop', 'app'])}?retryWrites=true&w=majority"


def w_mongo_plain(r, s):
    return f"mongodb://{_user(r)}:{s}@mongo-0.acme.io:27017,mongo-1.acme.io:27017/app?replicaSet=rs0&authSource=admin"


def w_supabase_db(r, s):
    ref = r.s(LO, 20)
    return f"postgresql://postgres.{ref}:{s}@aws-0-eu-central-1.pooler.supabase.com:6543/postgres"


def w_neon(r, s):
    return f"postgresql://{_user(r)}:{s}@ep-{r.s(LO, 6)}-{r.s(LO, 6)}-{r.digits(6)}.us-east-2.aws.neon.tech/neondb?sslmode=require"


def w_snowflake(r, s):
    return f"snowflake://{_user(r)}:{s}@acme-{r.s(LO, 7)}/analytics/public?warehouse=COMPUTE_WH"


def w_planetscale(r, s):
    return f"mysql://{r.s(B36, 12)}:{s}@aws.connect.psdb.cloud/orders?sslaccept=strict"


def w_jdbc_pg(r, s):
    return f"jdbc:postgresql://{_host(r)}:5432/orders?user={_user(r)}&password={s}&ssl=true"


def w_jdbc_mysql(r, s):
    return f"jdbc:mysql://{_host(r)}:3306/shop?user={_user(r)}&password={s}&useSSL=true"


def w_oracle(r, s):
    return f"jdbc:oracle:thin:{_user(r)}/{s}@{_host(r)}:1521/ORCLPDB1"


def w_adonet(r, s):
    return f"Server={_host(r)};Database=Orders;User Id={_user(r)};Password={s};TrustServerCertificate=True;"


def w_libpq(r, s):
    return f"host={_host(r)} port=5432 dbname=orders user={_user(r)} password={s} sslmode=require"


def w_redis(r, s):
    return f"redis://:{s}@{r.choice(['redis-prod.acme.io', 'cache-01.internal'])}:6379/0"


def w_rediss(r, s):
    return f"rediss://default:{s}@{r.choice(['eu1-fine-cat-3321', 'usw2-quiet-fox-1180'])}.upstash.io:6379"


def w_amqp(r, s):
    u = r.s(LO, 8)
    return f"amqps://{u}:{s}@{r.choice(['cow', 'rattlesnake', 'whale'])}.rmq.cloudamqp.com/{u}"


def w_smtp(r, s):
    return f"smtp://{_user(r)}%40acme.io:{s}@smtp.mailprovider.net:587"


def w_basic_url(r, s):
    return f"https://{_user(r)}:{s}@artifacts.acme.io/repository/maven-releases/"


def w_slack_hook(r, s):
    return s  # the whole URL is the credential


def w_kafka_jaas(r, s):
    return ('org.apache.kafka.common.security.plain.PlainLoginModule required '
            f'username="{r.s(UPALNUM, 16)}" password="{s}";')


def w_basic_header(r, s):
    return s


def w_atlas_like(r, s):
    return s


# JWT payload builders --------------------------------------------------------------
def g_supabase_service(r):
    now = r.randint(1_690_000_000, 1_740_000_000)
    return jwt(r, {"iss": "supabase", "ref": r.s(LO, 20), "role": "service_role", "iat": now, "exp": now + 315_360_000})


def g_generic_jwt(r):
    now = r.randint(1_700_000_000, 1_760_000_000)
    return jwt(r, {"sub": r.uuid(), "email": f"{r.choice(['ana', 'li', 'omar', 'kim'])}@acme.io",
                   "scope": "read write", "iat": now, "exp": now + 31_536_000},
               alg=r.choice(["HS256", "RS256"]))


def g_auth0_mgmt(r):
    now = r.randint(1_700_000_000, 1_760_000_000)
    t = r.choice(["acme", "shop-prod", "dev-x7k2"])
    return jwt(r, {"iss": f"https://{t}.us.auth0.com/", "sub": r.s(B62, 32) + "@clients",
                   "aud": f"https://{t}.us.auth0.com/api/v2/", "iat": now, "exp": now + 86400,
                   "gty": "client-credentials"}, alg="RS256", header_extra={"kid": r.s(B64URL, 22)})


def g_k8s_sa(r):
    return jwt(r, {"iss": "kubernetes/serviceaccount", "kubernetes.io/serviceaccount/namespace": "prod",
                   "kubernetes.io/serviceaccount/secret.name": "deployer-token-" + r.s(B36, 5),
                   "kubernetes.io/serviceaccount/service-account.name": "deployer",
                   "sub": "system:serviceaccount:prod:deployer"}, alg="RS256", header_extra={"kid": r.s(B64URL, 43)})


def g_discord_bot(r):
    snowflake = r.digits(r.choice([18, 19]))
    first = base64.b64encode(snowflake.encode()).decode().rstrip("=")
    return first + "." + r.s(B64URL, 6) + "." + r.s(B64URL, r.choice([27, 38]))


def g_mapbox_sk(r):
    head = base64.urlsafe_b64encode(json.dumps({"u": r.choice(["acme-maps", "jdoe", "fleetco"]),
                                                 "a": r.s(B36, 25)}, separators=(",", ":")).encode()).decode().rstrip("=")
    return "sk." + head + "." + r.s(B64URL, 22)


def g_sentry_org(r):
    claims = {"iat": r.randint(1_700_000_000, 1_760_000_000) + 0.123456, "url": "https://sentry.io",
              "region_url": "https://us.sentry.io", "org": r.choice(["acme", "shopco", "fleet-ops"])}
    return "sntrys_" + base64.b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode().rstrip("=") + "_" + r.s(B62, 43)


def g_grafana_cloud(r):
    claims = {"o": r.digits(6), "n": r.choice(["stack-123-deploy", "alloy-writer", "ci-read"]),
              "k": r.s(B62, 24), "m": {"r": r.choice(["us", "prod-eu-west-2"])}}
    return "glc_" + base64.b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode()


def g_grafana_legacy(r):
    claims = {"k": r.s(B62, 32), "n": r.choice(["ci", "dashboards-sync", "admin-key"]), "id": r.randint(1, 999)}
    return base64.b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode()


def g_1password_sa(r):
    claims = {"signInAddress": "acme.1password.com", "userAuth": {"method": "SRPg-4096", "alg": "PBES2g-HS256",
              "iterations": 650000, "salt": r.s(B64URL, 22)}, "email": r.s(LO, 13) + "@1passwordserviceaccounts.com",
              "srpX": r.hexs(64), "muk": {"alg": "A256GCM", "ext": True, "k": r.s(B64URL, 43), "key_ops": ["encrypt", "decrypt"],
                                          "kty": "oct", "kid": "mp"}, "secretKey": "A3-" + r.s(UPALNUM, 6), "throttleSecret": {"seed": r.hexs(64), "uuid": r.s(UPALNUM, 26)},
              "deviceUuid": r.s(B36, 26)}
    return "ops_" + base64.b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode().rstrip("=")


def g_1password_secret_key(r):
    return "A3-" + "-".join(r.s(UPALNUM, n) for n in (6, 11, 5, 5, 5))


def g_gcp_sa_key(r):
    # the private key as it appears inside the JSON (with \n escapes)
    return pem(r, "PRIVATE KEY").replace("\n", "\\n") + "\\n"


def s_gcp_sa_json(c):
    r = c.rng
    proj = r.choice(["acme-prod", "billing-3121", "ml-pipeline-421"])
    sa = r.choice(["deployer", "firebase-adminsdk-" + r.s(B36, 5), "terraform"])
    head = ('{\n  "type": "service_account",\n' f'  "project_id": "{proj}",\n'
            f'  "private_key_id": "{r.hexs(40)}",\n')
    tail = (f'  "client_email": "{sa}@{proj}.iam.gserviceaccount.com",\n'
            f'  "client_id": "{r.digits(21)}",\n'
            '  "auth_uri": "https://accounts.google.com/o/oauth2/auth",\n'
            '  "token_uri": "https://oauth2.googleapis.com/token",\n'
            '  "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",\n'
            f'  "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/{sa}%40{proj}.iam.gserviceaccount.com",\n'
            '  "universe_domain": "googleapis.com"\n}\n')
    return "json", head + f'  "private_key": "{c.value}",\n' + tail


def g_docker_auth(r):
    return base64.b64encode(f"{r.choice(['acmebot', 'jdoe', 'ci-push'])}:{r.password()}".encode()).decode()


def g_k8s_data(r):
    return base64.b64encode(r.password(16, 28).encode()).decode()


def g_slack_hook(r):
    return f"https://hooks.slack.com/services/T{r.s(UPALNUM, 8)}/B{r.s(UPALNUM, 10)}/{r.s(B62, 24)}"


def g_slack_workflow(r):
    return f"https://hooks.slack.com/workflows/T{r.s(UPALNUM, 8)}/A{r.s(UPALNUM, 10)}/{r.digits(18)}/{r.s(B62, 24)}"


def g_discord_hook(r):
    return f"https://discord.com/api/webhooks/{r.digits(r.randint(17, 19))}/{r.s(B64URL, 68)}"


def g_teams_hook(r):
    return (f"https://{r.choice(['acme', 'contoso-corp'])}.webhook.office.com/webhookb2/{r.uuid()}@{r.uuid()}"
            f"/IncomingWebhook/{r.hexs(32)}/{r.uuid()}")


def g_azure_storage_key(r):
    return r.b64of(64)


def g_azure_44(r):
    return r.b64of(32)


def g_sas_sig(r):
    return r.b64of(32).replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")


def g_entra(r):
    return r.s(B62, 3) + r.choice(["8Q~", "7Q~"]) + r.s(B62 + "_~.-", 34)


def g_aws_session(r):
    return r.choice(["IQoJb3JpZ2luX2Vj", "FwoGZXIvYXdz"]) + r.s(B64, r.randint(340, 420))


def g_bedrock_short(r):
    inner = ("bedrock.amazonaws.com/?Action=CallWithBearerToken&X-Amz-Algorithm=AWS4-HMAC-SHA256"
             f"&X-Amz-Credential=ASIA{r.s(B32, 16)}%2F20250101%2Fus-east-1%2Fbedrock%2Faws4_request"
             f"&X-Amz-Date=20250101T000000Z&X-Amz-Expires=43200&X-Amz-Security-Token={r.s(B64, 80)}"
             f"&X-Amz-Signature={r.hexs(64)}&Version=1")
    return "bedrock-api-key-" + base64.b64encode(inner.encode()).decode()


def g_twitter_bearer(r):
    return "A" * 21 + r.s(B62, 5) + "AAAAAAA" + r.s(B62, 20) + "%2B" + r.s(B62, 14) + "%3D" + r.s(B62, 50)


def g_tailscale(kind):
    return lambda r: f"tskey-{kind}-{r.s(B62, 11)}CNTRL-{r.s(B62, 33)}"


def g_pypi(test=False):
    lead = "pypi-AgENdGVzdC5weXBpLm9yZw" if test else "pypi-AgEIcHlwaS5vcmc"
    return lambda r: lead + "CJ" + r.s(B64URL, r.randint(150, 200))


def pw(r):
    return r.password()


def g_pem(label, headers=""):
    return lambda r: pem(r, label, headers)


def g_enc_rsa(r):
    return pem(r, "RSA PRIVATE KEY", f"Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,{r.s(UHEX, 32)}\n\n")


def aws_region(r):
    return r.choice(["us-east-1", "eu-west-1", "ap-northeast-1"])


def twilio_sid(r):
    return "AC" + r.hexs(32)


# private-key carriers: keep the PEM block byte-identical in the file
def s_pem_file(c):
    ext = "ppk" if c.value.startswith("PuTTY") else c.rng.choice(["pem", "key"])
    if "OPENSSH" in c.value:
        ext = c.rng.choice(["id_ed25519", "key"])
    return ext, c.value + "\n"


def s_py_pem(c):
    return "py", ("import jwt\n\n"
                  f'{c.name} = """{c.value}\n"""\n\n\n'
                  "def sign(claims):\n    return jwt.encode(claims, " + c.name + ", algorithm=\"RS256\")\n")


def s_sh_heredoc(c):
    return "sh", ("#!/bin/sh\nmkdir -p ~/.ssh\ncat > ~/.ssh/deploy_key <<'EOF'\n" + c.value +
                  "\nEOF\nchmod 600 ~/.ssh/deploy_key\nssh -i ~/.ssh/deploy_key deploy@build.acme.io true\n")


def s_tf_heredoc(c):
    return "tfvars", ('app_id = "123456"\n' f"{snake(c.name)} = <<EOT\n{c.value}\nEOT\n")


def s_go_raw(c):
    return "go", ("package signer\n\nimport \"crypto/x509\"\n\n"
                  f"const {camel(c.name)} = `{c.value}\n`\n\n"
                  "var _ = x509.ParsePKCS1PrivateKey\n")


def s_js_tpl(c):
    return "js", (f"const {camel(c.name)} = `{c.value}\n`;\n\n"
                  "module.exports = { appId: 123456, privateKey: " + camel(c.name) + " };\n")


KEY_TEMPLATES = dict(templates=[], special=[s_pem_file, s_py_pem, s_sh_heredoc, s_tf_heredoc, s_go_raw, s_js_tpl])

PG = ["DATABASE_URL", "POSTGRES_URL", "DB_URL"]
GH_NAMES = ["GITHUB_TOKEN", "GH_TOKEN", "GH_PAT", "GITHUB_PAT"]
OAI = ["OPENAI_API_KEY", "OPENAI_KEY"]


def build_specs():
    S = Spec
    sp = []
    a = sp.append
    # 1 AWS ---------------------------------------------------------------------------
    a(S("aws", "access_key_id", P("AKIA", B32, 16), ["AWS_ACCESS_KEY_ID", "aws_access_key_id", "ACCESS_KEY_ID"],
        extras=[("AWS_DEFAULT_REGION", aws_region)], special=[s_aws_credentials]))
    a(S("aws", "sts_access_key_id", P("ASIA", B32, 16), ["AWS_ACCESS_KEY_ID", "aws_access_key_id"]))
    a(S("aws", "secret_access_key", lambda r: r.s(B64, 40), ["AWS_SECRET_ACCESS_KEY", "aws_secret_access_key"],
        kw=True, extras=[("AWS_DEFAULT_REGION", aws_region)], special=[s_aws_credentials]))
    a(S("aws", "session_token", g_aws_session, ["AWS_SESSION_TOKEN", "aws_session_token"]))
    a(S("aws", "bedrock_long_term", lambda r: "ABSK" + r.b64of(r.choice([96, 99, 102])),
        ["AWS_BEARER_TOKEN_BEDROCK"]))
    a(S("aws", "bedrock_short_term", g_bedrock_short, ["AWS_BEARER_TOKEN_BEDROCK"], n=2))
    # 2 Google / 17 Firebase ---------------------------------------------------------------
    a(S("google", "api_key", P("AIzaSy", B64URL, 33), ["GOOGLE_API_KEY", "GEMINI_API_KEY", "MAPS_API_KEY"]))
    a(S("google", "oauth_client_secret", P("GOCSPX-", B64URL, 28), ["GOOGLE_CLIENT_SECRET", "client_secret"],
        extras=[("GOOGLE_CLIENT_ID", lambda r: r.digits(12) + "-" + r.s(B36, 32) + ".apps.googleusercontent.com")]))
    a(S("google", "oauth_access_token", lambda r: "ya29.a0" + r.s(B64URL, r.randint(140, 200)),
        ["GOOGLE_ACCESS_TOKEN", "access_token"]))
    a(S("google", "oauth_refresh_token", lambda r: "1//0" + r.s(B64URL, 99), ["GOOGLE_REFRESH_TOKEN", "FIREBASE_TOKEN"]))
    a(S("google", "service_account_key", g_gcp_sa_key, ["private_key"], templates=[], special=[s_gcp_sa_json]))
    a(S("google", "gcs_hmac_access_id", P("GOOG1", UPALNUM, 56), ["GCS_HMAC_ACCESS_ID", "HMAC_ACCESS_KEY"], n=2))
    a(S("firebase", "fcm_server_key", lambda r: "AAAA" + r.s(B64URL, 7) + ":APA91b" + r.s(B64URL, 134),
        ["FCM_SERVER_KEY", "FIREBASE_SERVER_KEY"], header="Authorization: key={v}"))
    # 3 GitHub ---------------------------------------------------------------------------
    for pfx, kind in [("ghp_", "classic_pat"), ("gho_", "oauth_token"), ("ghu_", "user_to_server"),
                      ("ghs_", "installation_token"), ("ghr_", "refresh_token")]:
        a(S("github", kind, (lambda p: lambda r: github_token(r, p))(pfx), GH_NAMES,
            special=[s_git_remote, s_netrc("github.com")] if pfx == "ghp_" else []))
    a(S("github", "fine_grained_pat", lambda r: "github_pat_" + r.s(B62, 22) + "_" + r.s(B62, 59), GH_NAMES,
        special=[s_git_remote]))
    a(S("github", "legacy_hex_token", lambda r: r.hexs(40), ["GITHUB_TOKEN", "GH_TOKEN", "github_token"], kw=True))
    # 4 OpenAI ---------------------------------------------------------------------------
    a(S("openai", "legacy_user_key", lambda r: "sk-" + r.s(B62, 20) + "T3BlbkFJ" + r.s(B62, 20), OAI))

    def oai(prefix):
        def g(r):
            n = r.choice([74, 58])
            return prefix + r.s(B64URL, n) + "T3BlbkFJ" + r.s(B64URL, n)
        return g
    a(S("openai", "project_key", oai("sk-proj-"), OAI))
    a(S("openai", "service_account_key", oai("sk-svcacct-"), OAI))
    a(S("openai", "admin_key", oai("sk-admin-"), ["OPENAI_ADMIN_KEY"]))
    a(S("openai", "none_key", oai("sk-None-"), OAI, n=2))
    # 5 Slack ---------------------------------------------------------------------------
    a(S("slack", "bot_token", lambda r: f"xoxb-{r.digits(r.randint(10, 13))}-{r.digits(r.randint(10, 13))}-{r.s(B62, 24)}",
        ["SLACK_BOT_TOKEN", "SLACK_TOKEN"]))
    a(S("slack", "user_token", lambda r: f"xoxp-{r.digits(11)}-{r.digits(11)}-{r.digits(13)}-{r.hexs(32)}",
        ["SLACK_USER_TOKEN", "SLACK_TOKEN"]))
    a(S("slack", "app_token", lambda r: f"xapp-1-A{r.s(UPALNUM, 10)}-{r.digits(13)}-{r.hexs(64)}", ["SLACK_APP_TOKEN"]))
    a(S("slack", "config_token", lambda r: "xoxe.xoxp-1-" + r.s(B62, 160), ["SLACK_CONFIG_TOKEN"], n=2))
    a(S("slack", "config_refresh_token", lambda r: "xoxe-1-" + r.s(B62, 146), ["SLACK_CONFIG_REFRESH_TOKEN"], n=2))
    a(S("slack", "incoming_webhook", g_slack_hook, ["SLACK_WEBHOOK_URL"], special=[s_url_in_code]))
    a(S("slack", "workflow_webhook", g_slack_workflow, ["SLACK_WORKFLOW_URL"], special=[s_url_in_code], n=2))
    a(S("slack", "signing_secret", lambda r: r.hexs(32), ["SLACK_SIGNING_SECRET"], kw=True))
    # 6 Telegram ---------------------------------------------------------------------------
    a(S("telegram", "bot_token", lambda r: f"{r.digits(r.randint(8, 10))}:AA{r.s(B64URL, 33)}",
        ["TELEGRAM_BOT_TOKEN", "TG_TOKEN", "BOT_TOKEN"], special=[s_telegram_url]))
    # 7 Stripe ---------------------------------------------------------------------------
    a(S("stripe", "secret_live", V(P("sk_live_", B62, 24), P("sk_live_51", B62, 97)),
        ["STRIPE_SECRET_KEY", "STRIPE_API_KEY"]))
    a(S("stripe", "restricted_live", V(P("rk_live_", B62, 24), P("rk_live_51", B62, 97)), ["STRIPE_RESTRICTED_KEY"]))
    a(S("stripe", "secret_test", P("sk_test_51", B62, 97), ["STRIPE_SECRET_KEY"], n=2))
    a(S("stripe", "webhook_secret", P("whsec_", B62, 32), ["STRIPE_WEBHOOK_SECRET"]))
    # 8 Azure ---------------------------------------------------------------------------
    a(S("azure", "storage_account_key", g_azure_storage_key, ["AZURE_STORAGE_CONNECTION_STRING", "StorageConnectionString"],
        wrap=w_azure_storage))
    a(S("azure", "service_bus_key", g_azure_44, ["SERVICEBUS_CONNECTION_STRING", "AzureWebJobsServiceBus"], wrap=w_servicebus))
    a(S("azure", "cosmos_key", g_azure_storage_key, ["COSMOS_CONNECTION_STRING"], wrap=w_cosmos))
    a(S("azure", "sas_signature", g_sas_sig, ["AZURE_BLOB_SAS_URL", "EXPORT_SAS_URL"], wrap=w_sas))
    a(S("azure", "sql_password", pw, ["SQLAZURECONNSTR_DefaultConnection", "ConnectionStrings__Default"], wrap=w_azure_sql))
    a(S("azure", "redis_key", g_azure_44, ["REDIS_CONNECTION_STRING"], wrap=w_azure_redis))
    a(S("azure", "entra_client_secret", g_entra, ["AZURE_CLIENT_SECRET", "ClientSecret"],
        extras=[("AZURE_CLIENT_ID", lambda r: r.uuid())]))
    a(S("azure", "openai_legacy_key", lambda r: r.hexs(32), ["AZURE_OPENAI_API_KEY"], kw=True,
        extras=[("AZURE_OPENAI_ENDPOINT", lambda r: f"https://{r.choice(['acme-oai', 'contoso-gpt'])}.openai.azure.com/")]))
    a(S("azure", "devops_pat_legacy", lambda r: r.s(LB32, 52), ["AZURE_DEVOPS_PAT", "AZURE_DEVOPS_EXT_PAT"], kw=True))
    # 9 Twilio / 10 SendGrid ------------------------------------------------------------------
    a(S("twilio", "auth_token", lambda r: r.hexs(32), ["TWILIO_AUTH_TOKEN"], kw=True,
        extras=[("TWILIO_ACCOUNT_SID", twilio_sid)]))
    a(S("twilio", "api_key_secret", lambda r: r.s(B62, 32), ["TWILIO_API_SECRET"], kw=True))
    a(S("sendgrid", "api_key", lambda r: "SG." + r.s(B64URL, 22) + "." + r.s(B64URL, 43), ["SENDGRID_API_KEY", "SMTP_PASSWORD"]))
    # 11 Discord ---------------------------------------------------------------------------
    a(S("discord", "bot_token", g_discord_bot, ["DISCORD_TOKEN", "DISCORD_BOT_TOKEN"], header="Authorization: Bot {v}"))
    a(S("discord", "webhook", g_discord_hook, ["DISCORD_WEBHOOK_URL"], special=[s_url_in_code]))
    a(S("discord", "client_secret", lambda r: r.s(B64URL, 32), ["DISCORD_CLIENT_SECRET"], kw=True))
    # 12 GitLab ---------------------------------------------------------------------------
    GL = ["GITLAB_TOKEN", "GL_TOKEN", "GITLAB_PAT"]
    a(S("gitlab", "pat_legacy", P("glpat-", B64URL, 20), GL, header="PRIVATE-TOKEN: {v}",
        special=[s_gitlab_remote, s_private_token_header]))
    a(S("gitlab", "pat_routable", lambda r: gitlab_routable(r, "glpat-"), GL, header="PRIVATE-TOKEN: {v}",
        special=[s_gitlab_remote, s_private_token_header]))
    a(S("gitlab", "pat_routable_unversioned", lambda r: gitlab_routable(r, "glpat-", versioned=False), GL, n=2))
    a(S("gitlab", "oauth_app_secret", P("gloas-", B64URL, 64), ["GITLAB_OAUTH_SECRET"]))
    a(S("gitlab", "deploy_token", P("gldt-", B64URL, 20), ["GITLAB_DEPLOY_TOKEN"]))
    a(S("gitlab", "runner_token", P("glrt-", B64URL, 20), ["RUNNER_TOKEN", "CI_SERVER_TOKEN"]))
    a(S("gitlab", "runner_token_routable", lambda r: gitlab_routable(r, f"glrt-t{r.randint(1, 3)}_"), ["RUNNER_TOKEN"]))
    a(S("gitlab", "runner_registration", P("GR1348941", B64URL, 20), ["REGISTRATION_TOKEN"]))
    a(S("gitlab", "ci_job_token", lambda r: f"glcbt-{r.s(HEX, 2)}_{r.s(B64URL, 20)}", ["CI_JOB_TOKEN"], n=2))
    a(S("gitlab", "pipeline_trigger", P("glptt-", HEX, 40), ["TRIGGER_TOKEN"]))
    a(S("gitlab", "feed_token", P("glft-", B64URL, 20), ["GITLAB_FEED_TOKEN"], n=2))
    a(S("gitlab", "incoming_mail", P("glimt-", B64URL, 25), ["GITLAB_INCOMING_EMAIL_TOKEN"], n=2))
    a(S("gitlab", "agent_token", P("glagent-", B64URL, 50), ["GITLAB_AGENT_TOKEN"]))
    a(S("gitlab", "feature_flags_client", P("glffct-", B64URL, 20), ["UNLEASH_INSTANCE_ID"], n=2))
    a(S("gitlab", "scim_token", P("glsoat-", B64URL, 20), ["GITLAB_SCIM_TOKEN"], n=2))
    a(S("gitlab", "session_cookie", lambda r: r.hexs(32), ["_gitlab_session"], kw=True, templates=[],
        special=[lambda c: ("txt", f"GET /api/v4/user HTTP/1.1\nHost: gitlab.com\nCookie: _gitlab_session={c.value}; preferred_language=en\n")], n=2))
    # 13 Anthropic -------------------------------------------------------------------------
    a(S("anthropic", "api_key", P("sk-ant-api03-", B64URL, 93, "AA"), ["ANTHROPIC_API_KEY", "CLAUDE_API_KEY"],
        header="x-api-key: {v}"))
    a(S("anthropic", "admin_key", P("sk-ant-admin01-", B64URL, 93, "AA"), ["ANTHROPIC_ADMIN_KEY"], header="x-api-key: {v}"))
    # 14 MongoDB -------------------------------------------------------------------------
    a(S("mongodb", "atlas_uri_password", pw, ["MONGODB_URI", "MONGO_URL"], wrap=w_mongo, n=4))
    a(S("mongodb", "uri_password", pw, ["MONGODB_URI", "DATABASE_URL"], wrap=w_mongo_plain))
    a(S("mongodb", "atlas_private_key", lambda r: r.uuid(), ["ATLAS_PRIVATE_KEY", "MONGODB_ATLAS_PRIVATE_KEY"], kw=True,
        extras=[("ATLAS_PUBLIC_KEY", lambda r: r.s(LO, 8))]))
    a(S("mongodb", "service_account_secret", P("mdb_sa_sk_", B62, 40), ["MONGODB_SA_SECRET"], n=2))
    # 15 Hugging Face / 16 npm -----------------------------------------------------------------
    a(S("huggingface", "user_token", P("hf_", LETTERS, 34), ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HUGGINGFACEHUB_API_TOKEN"]))
    a(S("huggingface", "org_token", P("api_org_", LETTERS, 34), ["HF_ORG_TOKEN"], n=2))
    a(S("npm", "access_token", npm_token, ["NPM_TOKEN", "NODE_AUTH_TOKEN"], special=[s_npmrc]))
    a(S("npm", "legacy_uuid_token", lambda r: r.uuid(), ["NPM_TOKEN"], kw=True, special=[s_npmrc]))
    # 18 Heroku / 19 Mailgun / 20 Mailchimp ----------------------------------------------------
    a(S("heroku", "api_key_v2", P("HRKU-AA", B64URL, 58), ["HEROKU_API_KEY"], special=[s_netrc("api.heroku.com")]))
    a(S("heroku", "legacy_uuid", lambda r: r.uuid(), ["HEROKU_API_KEY"], kw=True))
    a(S("mailgun", "legacy_key", P("key-", HEX, 32), ["MAILGUN_API_KEY"]))
    a(S("mailgun", "api_key", lambda r: f"{r.hexs(32)}-{r.hexs(8)}-{r.hexs(8)}", ["MAILGUN_API_KEY"], kw=True))
    a(S("mailchimp", "api_key", lambda r: f"{r.hexs(32)}-us{r.randint(1, 21)}", ["MAILCHIMP_API_KEY", "MC_API_KEY"]))
    a(S("mailchimp", "mandrill_key", lambda r: r.s(B64URL, 22), ["MANDRILL_API_KEY"], kw=True))
    # 21 Shopify / 22 Square / 23 PayPal / 24 Braintree -----------------------------------------
    for pfx, kind in [("shpat_", "admin_access_token"), ("shpca_", "custom_app_token"),
                      ("shppa_", "private_app_password"), ("shpss_", "shared_secret")]:
        a(S("shopify", kind, P(pfx, HEX, 32), ["SHOPIFY_ACCESS_TOKEN", "SHOPIFY_API_SECRET"],
            header="X-Shopify-Access-Token: {v}"))
    a(S("square", "access_token", P("EAAA", B64URL, 60), ["SQUARE_ACCESS_TOKEN"]))
    a(S("square", "legacy_token", P("sq0atp-", B64URL, 22), ["SQUARE_ACCESS_TOKEN"]))
    a(S("square", "application_secret", P("sq0csp-", B64URL, 43), ["SQUARE_APPLICATION_SECRET"]))
    a(S("paypal", "client_secret", lambda r: "E" + r.s(B64URL, 79), ["PAYPAL_CLIENT_SECRET", "PAYPAL_SECRET"], kw=True,
        extras=[("PAYPAL_CLIENT_ID", lambda r: "A" + r.s(B64URL, 79))]))
    a(S("braintree", "access_token", lambda r: f"access_token$production${r.s(B36, 16)}${r.hexs(32)}",
        ["BRAINTREE_ACCESS_TOKEN"]))
    a(S("braintree", "private_key", lambda r: r.hexs(32), ["BRAINTREE_PRIVATE_KEY"], kw=True,
        extras=[("BRAINTREE_MERCHANT_ID", lambda r: r.s(B36, 16))]))
    # 25 Meta / 26 X -----------------------------------------------------------------------
    a(S("meta", "user_access_token", lambda r: r.choice(["EAAB", "EAAG", "EAAM"]) + r.s(B62, r.randint(150, 220)),
        ["FACEBOOK_ACCESS_TOKEN", "FB_PAGE_TOKEN", "META_ACCESS_TOKEN"]))
    a(S("meta", "app_access_token", lambda r: f"{r.digits(15)}|{r.hexs(32)}", ["FACEBOOK_APP_TOKEN"]))
    a(S("meta", "app_secret", lambda r: r.hexs(32), ["FACEBOOK_APP_SECRET", "FB_APP_SECRET"], kw=True))
    a(S("twitter", "bearer_token", g_twitter_bearer, ["TWITTER_BEARER_TOKEN", "X_BEARER_TOKEN"]))
    a(S("twitter", "api_key", lambda r: r.s(B62, 25), ["TWITTER_API_KEY", "TWITTER_CONSUMER_KEY"], kw=True))
    a(S("twitter", "api_secret", lambda r: r.s(B62, 50), ["TWITTER_API_SECRET", "TWITTER_CONSUMER_SECRET"], kw=True))
    a(S("twitter", "access_token", lambda r: f"{r.digits(19)}-{r.s(B62, 40)}", ["TWITTER_ACCESS_TOKEN"], kw=True))
    a(S("twitter", "access_token_secret", lambda r: r.s(B62, 45), ["TWITTER_ACCESS_TOKEN_SECRET"], kw=True))
    # 27 Datadog / 28 Sentry / 29 Cloudflare / 30 DigitalOcean -----------------------------------
    a(S("datadog", "api_key", lambda r: r.hexs(32), ["DD_API_KEY", "DATADOG_API_KEY"], kw=True, header="DD-API-KEY: {v}"))
    a(S("datadog", "app_key", lambda r: r.hexs(40), ["DD_APP_KEY", "DATADOG_APP_KEY"], kw=True,
        header="DD-APPLICATION-KEY: {v}"))
    a(S("sentry", "user_token", P("sntryu_", HEX, 64), ["SENTRY_AUTH_TOKEN"]))
    a(S("sentry", "org_token", g_sentry_org, ["SENTRY_AUTH_TOKEN"]))
    a(S("sentry", "legacy_dsn_secret", lambda r: r.hexs(32), ["SENTRY_DSN"],
        wrap=lambda r, s: f"https://{r.hexs(32)}:{s}@o{r.digits(6)}.ingest.sentry.io/{r.digits(7)}", n=2))
    a(S("sentry", "legacy_token", lambda r: r.hexs(64), ["SENTRY_AUTH_TOKEN"], kw=True))
    for pfx, kind in [("cfut_", "user_api_token"), ("cfat_", "account_api_token"), ("cfk_", "global_api_key")]:
        a(S("cloudflare", kind, (lambda p: lambda r: cloudflare_token(r, p))(pfx), ["CLOUDFLARE_API_TOKEN", "CF_API_TOKEN"]))
    a(S("cloudflare", "legacy_api_token", lambda r: r.s(B64URL, 40), ["CLOUDFLARE_API_TOKEN", "CF_API_TOKEN"], kw=True))
    a(S("cloudflare", "legacy_global_key", lambda r: r.hexs(37), ["CLOUDFLARE_API_KEY", "CF_API_KEY"], kw=True,
        extras=[("CLOUDFLARE_EMAIL", C("ops@acme.io"))]))
    a(S("cloudflare", "origin_ca_key", lambda r: f"v1.0-{r.hexs(24)}-{r.hexs(146)}", ["CF_ORIGIN_CA_KEY"]))
    a(S("digitalocean", "personal_access_token", P("dop_v1_", HEX, 64), ["DIGITALOCEAN_TOKEN", "DO_TOKEN"]))
    a(S("digitalocean", "oauth_token", P("doo_v1_", HEX, 64), ["DIGITALOCEAN_ACCESS_TOKEN"]))
    a(S("digitalocean", "refresh_token", P("dor_v1_", HEX, 64), ["DIGITALOCEAN_REFRESH_TOKEN"]))
    a(S("digitalocean", "system_token", P("dos_v1_", HEX, 64), ["DIGITALOCEAN_TOKEN"], n=2))
    a(S("digitalocean", "spaces_secret", lambda r: r.s(B64, 43), ["SPACES_SECRET", "SPACES_SECRET_ACCESS_KEY"], kw=True,
        extras=[("SPACES_KEY", lambda r: "DO00" + r.s(UPALNUM, 16))]))
    # 31 Atlassian / 32 Bitbucket / 33 Docker ----------------------------------------------------
    a(S("atlassian", "api_token", lambda r: "ATATT3xFfGF0" + r.s(B64URL, 174) + "=" + r.s(UHEX, 8),
        ["JIRA_API_TOKEN", "ATLASSIAN_API_TOKEN"], extras=[("JIRA_EMAIL", C("ops@acme.io"))]))
    a(S("atlassian", "scoped_token", lambda r: "ATCTT3xFfGN0" + r.s(B64URL, 174) + "=" + r.s(UHEX, 8), ["CONFLUENCE_TOKEN"]))
    a(S("atlassian", "legacy_api_token", lambda r: r.s(B62, 24), ["JIRA_API_TOKEN", "CONFLUENCE_API_TOKEN"], kw=True))
    a(S("bitbucket", "app_password", lambda r: "ATBB" + r.s(B62, 28) + r.s(UHEX, 8), ["BITBUCKET_APP_PASSWORD"],
        extras=[("BITBUCKET_USERNAME", C("acme-ci"))]))
    a(S("bitbucket", "server_http_token", P("BBDC-", B62, 44), ["BITBUCKET_TOKEN"], n=2))
    a(S("dockerhub", "personal_access_token", P("dckr_pat_", B64URL, 27), ["DOCKERHUB_TOKEN", "DOCKER_PASSWORD"]))
    a(S("dockerhub", "org_access_token", P("dckr_oat_", B64URL, 32), ["DOCKERHUB_TOKEN"]))
    a(S("docker", "swarm_join_token", lambda r: f"SWMTKN-1-{r.s(B36, 50)}-{r.s(B36, 25)}", ["SWARM_JOIN_TOKEN"]))
    a(S("docker", "swarm_unlock_key", lambda r: "SWMKEY-1-" + r.s(B64, 43), ["SWARM_UNLOCK_KEY"], n=2))
    a(S("docker", "config_auth", g_docker_auth, ["auth"], templates=[], special=[s_docker_config], n=2))
    # 34 PyPI / 35 RubyGems / 36 NuGet -------------------------------------------------------------
    a(S("pypi", "upload_token", g_pypi(), ["PYPI_TOKEN", "TWINE_PASSWORD", "UV_PUBLISH_TOKEN"], special=[s_pypirc]))
    a(S("pypi", "testpypi_token", g_pypi(True), ["TEST_PYPI_TOKEN"], n=2))
    a(S("rubygems", "api_key", P("rubygems_", HEX, 48), ["GEM_HOST_API_KEY"], special=[s_gem_credentials]))
    a(S("nuget", "api_key", P("oy2", LB32, 43), ["NUGET_API_KEY"]))
    # 37 Supabase .. 46 Together ------------------------------------------------------------------
    a(S("supabase", "personal_access_token", P("sbp_", HEX, 40), ["SUPABASE_ACCESS_TOKEN"]))
    a(S("supabase", "secret_key", P("sb_secret_", B64URL, 31), ["SUPABASE_SECRET_KEY"]))
    a(S("supabase", "service_role_jwt", g_supabase_service, ["SUPABASE_SERVICE_ROLE_KEY"]))
    a(S("supabase", "db_password", pw, ["DATABASE_URL", "SUPABASE_DB_URL"], wrap=w_supabase_db))
    a(S("groq", "api_key", P("gsk_", B62, 52), ["GROQ_API_KEY"]))
    a(S("openrouter", "api_key", P("sk-or-v1-", HEX, 64), ["OPENROUTER_API_KEY"]))
    a(S("deepseek", "api_key", P("sk-", HEX, 32), ["DEEPSEEK_API_KEY"], kw=True))
    a(S("xai", "api_key", P("xai-", B62, 80), ["XAI_API_KEY", "GROK_API_KEY"]))
    a(S("mistral", "api_key", lambda r: r.s(B62, 32), ["MISTRAL_API_KEY"], kw=True))
    a(S("cohere", "api_key", lambda r: r.s(B62, 40), ["COHERE_API_KEY", "CO_API_KEY"], kw=True))
    a(S("perplexity", "api_key", P("pplx-", B62, 48), ["PERPLEXITY_API_KEY", "PPLX_API_KEY"]))
    a(S("replicate", "api_token", P("r8_", B64URL, 37), ["REPLICATE_API_TOKEN"]))
    a(S("together", "api_key", lambda r: r.hexs(64), ["TOGETHER_API_KEY"], kw=True))
    # 48 Vercel .. 60 Asana -------------------------------------------------------------------------
    a(S("vercel", "account_token", lambda r: r.s(B62, 24), ["VERCEL_TOKEN"], kw=True))
    a(S("vercel", "blob_token", lambda r: f"vercel_blob_rw_{r.s(B62, 16)}_{r.s(B62, 30)}", ["BLOB_READ_WRITE_TOKEN"], n=2))
    a(S("netlify", "personal_access_token", P("nfp_", B64URL, 36), ["NETLIFY_AUTH_TOKEN"]))
    a(S("netlify", "legacy_token", lambda r: r.s(B64URL, 43), ["NETLIFY_AUTH_TOKEN"], kw=True))
    a(S("newrelic", "user_api_key", P("NRAK-", UPALNUM, 27), ["NEW_RELIC_API_KEY"], header="Api-Key: {v}"))
    a(S("newrelic", "insert_key", P("NRII-", B64URL, 32), ["NEW_RELIC_INSERT_KEY"]))
    a(S("newrelic", "browser_key", P("NRJS-", HEX, 19), ["NEW_RELIC_BROWSER_KEY"], n=2))
    a(S("newrelic", "query_key", P("NRIQ-", B64URL, 32), ["NEW_RELIC_QUERY_KEY"], n=2))
    a(S("newrelic", "license_key", V(lambda r: r.hexs(36) + "NRAL", lambda r: r.hexs(40)),
        ["NEW_RELIC_LICENSE_KEY", "license_key"], kw=True))
    a(S("pagerduty", "api_key", lambda r: "u+" + r.s(B64URL, 18), ["PAGERDUTY_TOKEN", "PD_API_KEY"], kw=True,
        header="Authorization: Token token={v}"))
    a(S("pagerduty", "routing_key", lambda r: r.hexs(32), ["PAGERDUTY_ROUTING_KEY", "PD_INTEGRATION_KEY"], kw=True))
    a(S("linode", "personal_access_token", lambda r: r.hexs(64), ["LINODE_TOKEN", "LINODE_CLI_TOKEN"], kw=True))
    a(S("fastly", "api_token", lambda r: r.s(B64URL, 32), ["FASTLY_API_TOKEN", "FASTLY_API_KEY"], kw=True,
        header="Fastly-Key: {v}"))
    a(S("databricks", "pat", V(P("dapi", HEX, 32), lambda r: "dapi" + r.hexs(32) + "-" + str(r.randint(1, 3))),
        ["DATABRICKS_TOKEN"], special=[s_databrickscfg]))
    a(S("databricks", "oauth_secret", P("dose", HEX, 32), ["DATABRICKS_CLIENT_SECRET"], n=2))
    a(S("snowflake", "password", pw, ["SNOWFLAKE_PASSWORD"], kw=True, extras=[("SNOWFLAKE_USER", C("LOADER"))]))
    a(S("snowflake", "url_password", pw, ["SNOWFLAKE_URL", "SQLALCHEMY_URL"], wrap=w_snowflake, n=2))
    for kind in ["pt", "st", "ct", "sa", "scim", "audit"]:
        a(S("doppler", f"{kind}_token", (lambda k: lambda r: f"dp.{k}." + r.s(B62, r.randint(40, 44)))(kind),
            ["DOPPLER_TOKEN"], n=3 if kind in ("pt", "st") else 2))
    a(S("doppler", "st_config_token", lambda r: f"dp.st.{r.choice(['prd', 'dev', 'stg'])}." + r.s(B62, 43), ["DOPPLER_TOKEN"], n=2))
    a(S("vault", "service_token", lambda r: "hvs.CAESI" + r.s(B64URL, r.randint(90, 110)), ["VAULT_TOKEN"],
        header="X-Vault-Token: {v}"))
    a(S("vault", "batch_token", lambda r: "hvb.AAAAAQ" + r.s(B64URL, r.randint(140, 200)), ["VAULT_TOKEN"], n=2))
    a(S("vault", "recovery_token", lambda r: "hvr.AAAAAQ" + r.s(B64URL, r.randint(90, 110)), ["VAULT_RECOVERY_TOKEN"], n=2))
    a(S("vault", "legacy_service_token", P("s.", B62, 24), ["VAULT_TOKEN"], kw=True))
    a(S("terraform_cloud", "api_token", lambda r: r.s(B62, 14) + ".atlasv1." + r.s(B64URL, 67),
        ["TFE_TOKEN", "TF_TOKEN_app_terraform_io"], special=[s_terraformrc]))
    a(S("pulumi", "access_token", P("pul-", HEX, 40), ["PULUMI_ACCESS_TOKEN"]))
    a(S("asana", "pat_v1", lambda r: f"1/{r.digits(16)}:{r.hexs(32)}", ["ASANA_ACCESS_TOKEN", "ASANA_PAT"]))
    a(S("asana", "pat_v2", lambda r: f"2/{r.digits(16)}/{r.digits(16)}:{r.hexs(32)}", ["ASANA_PAT"], n=2))
    # 61 Linear .. 80 Brevo -------------------------------------------------------------------------
    a(S("linear", "api_key", P("lin_api_", B62, 40), ["LINEAR_API_KEY"]))
    a(S("linear", "oauth_token", P("lin_oauth_", HEX, 64), ["LINEAR_OAUTH_TOKEN"], n=2))
    a(S("notion", "integration_token", lambda r: "ntn_" + r.digits(11) + r.s(B62, 35), ["NOTION_TOKEN", "NOTION_API_KEY"]))
    a(S("notion", "legacy_secret", P("secret_", B62, 43), ["NOTION_TOKEN"]))
    a(S("airtable", "pat", lambda r: "pat" + r.s(B62, 14) + "." + r.hexs(64), ["AIRTABLE_TOKEN", "AIRTABLE_PAT"]))
    a(S("airtable", "legacy_api_key", P("key", B62, 14), ["AIRTABLE_API_KEY"], kw=True, n=2))
    a(S("figma", "pat", P("figd_", B64URL, 40), ["FIGMA_TOKEN"], header="X-Figma-Token: {v}"))
    a(S("figma", "legacy_pat", lambda r: f"{r.digits(6)}-{r.uuid()}", ["FIGMA_TOKEN"], kw=True, n=2))
    a(S("dropbox", "short_lived_token", lambda r: "sl." + r.s(B64URL, r.randint(135, 140)), ["DROPBOX_ACCESS_TOKEN"]))
    a(S("dropbox", "long_lived_token", lambda r: r.s(B64URL, 11) + "AAAAAAAAAA" + r.s(B64URL, 43), ["DROPBOX_ACCESS_TOKEN"], kw=True))
    a(S("dropbox", "app_secret", lambda r: r.s(B36, 15), ["DROPBOX_APP_SECRET"], kw=True, n=2))
    a(S("zoom", "client_secret", lambda r: r.s(B62, 32), ["ZOOM_CLIENT_SECRET"], kw=True,
        extras=[("ZOOM_ACCOUNT_ID", lambda r: r.s(B64URL, 22))]))
    a(S("zoom", "api_secret", lambda r: r.s(B62, 36), ["ZOOM_API_SECRET"], kw=True, n=2))
    a(S("okta", "api_token", lambda r: "00" + r.s(B64URL, 40), ["OKTA_API_TOKEN", "OKTA_CLIENT_TOKEN"], kw=True,
        header="Authorization: SSWS {v}", special=[s_okta_header]))
    a(S("auth0", "client_secret", lambda r: r.s(B64URL, 64), ["AUTH0_CLIENT_SECRET"], kw=True,
        extras=[("AUTH0_DOMAIN", C("acme.us.auth0.com"))]))
    a(S("auth0", "management_token", g_auth0_mgmt, ["AUTH0_MANAGEMENT_API_TOKEN"]))
    a(S("twitch", "client_secret", lambda r: r.s(B36, 30), ["TWITCH_CLIENT_SECRET"], kw=True))
    a(S("twitch", "chat_oauth", lambda r: "oauth:" + r.s(B36, 30), ["TWITCH_OAUTH_TOKEN"], kw=True, n=2))
    a(S("linkedin", "client_secret", lambda r: r.s(B62, 16), ["LINKEDIN_CLIENT_SECRET"], kw=True, n=2))
    a(S("mapbox", "secret_token", g_mapbox_sk, ["MAPBOX_SECRET_TOKEN", "MAPBOX_DOWNLOADS_TOKEN"], special=[s_gradle]))
    a(S("algolia", "admin_key", lambda r: r.hexs(32), ["ALGOLIA_ADMIN_KEY", "ALGOLIA_ADMIN_API_KEY"], kw=True,
        extras=[("ALGOLIA_APP_ID", lambda r: r.s(UPALNUM, 10))]))
    a(S("contentful", "management_token", P("CFPAT-", B64URL, 43), ["CONTENTFUL_MANAGEMENT_TOKEN"]))
    a(S("contentful", "delivery_token", lambda r: r.s(B64URL, 43), ["CONTENTFUL_ACCESS_TOKEN"], kw=True,
        extras=[("CONTENTFUL_SPACE_ID", lambda r: r.s(B36, 12))]))
    a(S("postman", "api_key", lambda r: f"PMAK-{r.hexs(24)}-{r.hexs(34)}", ["POSTMAN_API_KEY"], header="X-Api-Key: {v}"))
    a(S("circleci", "personal_token", lambda r: f"CCIPAT_{r.s(B62, 22)}_{r.hexs(40)}", ["CIRCLECI_TOKEN", "CIRCLE_TOKEN"],
        header="Circle-Token: {v}"))
    a(S("circleci", "legacy_token", lambda r: r.hexs(40), ["CIRCLECI_TOKEN", "CIRCLE_TOKEN"], kw=True, n=2))
    a(S("travis", "api_token", lambda r: r.s(B64URL, 22), ["TRAVIS_TOKEN", "TRAVIS_API_TOKEN"], kw=True))
    a(S("grafana", "service_account_token", grafana_sa, ["GRAFANA_TOKEN", "GRAFANA_SERVICE_ACCOUNT_TOKEN"]))
    a(S("grafana", "cloud_token", g_grafana_cloud, ["GRAFANA_CLOUD_TOKEN"]))
    a(S("grafana", "legacy_api_key", g_grafana_legacy, ["GRAFANA_API_KEY"]))
    a(S("postmark", "server_token", lambda r: r.uuid(), ["POSTMARK_SERVER_TOKEN", "POSTMARK_API_TOKEN"], kw=True,
        header="X-Postmark-Server-Token: {v}"))
    a(S("hubspot", "private_app_token", lambda r: f"pat-{r.choice(['na1', 'eu1'])}-{r.uuid()}", ["HUBSPOT_ACCESS_TOKEN"]))
    a(S("hubspot", "legacy_api_key", lambda r: r.uuid(upper=True), ["HUBSPOT_API_KEY"], kw=True, n=2))
    a(S("brevo", "api_key", lambda r: f"xkeysib-{r.hexs(64)}-{r.s(B62, 16)}", ["BREVO_API_KEY", "SENDINBLUE_API_KEY"],
        header="api-key: {v}"))
    a(S("brevo", "smtp_key", lambda r: f"xsmtpsib-{r.hexs(64)}-{r.s(B62, 16)}", ["BREVO_SMTP_KEY"]))
    return sp


def build_specs_tier3_generic():
    S = Spec
    sp = []
    a = sp.append
    # Tier 3 (compact table) --------------------------------------------------------------------
    a(S("alibaba", "access_key_id", P("LTAI", B62, 20), ["ALIBABA_CLOUD_ACCESS_KEY_ID"]))
    a(S("alibaba", "access_key_secret", lambda r: r.s(B62, 30), ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"], kw=True))
    a(S("tencent", "secret_id", P("AKID", B62, 32), ["TENCENTCLOUD_SECRET_ID"]))
    a(S("tencent", "secret_key", lambda r: r.s(B62, 32), ["TENCENTCLOUD_SECRET_KEY"], kw=True, n=2))
    a(S("yandex", "api_key", P("AQVN", B64URL, 36), ["YC_API_KEY", "YANDEX_API_KEY"]))
    a(S("yandex", "iam_token", lambda r: "t1.9euelZ" + r.s(B64URL, 80) + "." + r.s(B64URL, 86), ["YC_TOKEN", "YC_IAM_TOKEN"], n=2))
    a(S("ibm", "api_key", lambda r: r.s(B64URL, 44), ["IBMCLOUD_API_KEY", "IC_API_KEY"], kw=True))
    a(S("jfrog", "api_key", P("AKCp", B62, 69), ["ARTIFACTORY_API_KEY"], header="X-JFrog-Art-Api: {v}"))
    a(S("jfrog", "reference_token", P("cmVmd", B62, 59), ["JFROG_ACCESS_TOKEN", "ARTIFACTORY_TOKEN"]))
    a(S("adobe", "client_secret", P("p8e-", B62, 32), ["ADOBE_CLIENT_SECRET"]))
    a(S("1password", "service_account_token", g_1password_sa, ["OP_SERVICE_ACCOUNT_TOKEN"]))
    a(S("1password", "account_secret_key", g_1password_secret_key, ["OP_SECRET_KEY"], n=2))
    a(S("age", "secret_key", age_secret_key, ["SOPS_AGE_KEY", "AGE_SECRET_KEY"],
        special=[lambda c: ("txt", f"# created: 2025-03-14T10:22:31Z\n# public key: age1{c.rng.s(BECH32, 58)}\n{c.value}\n")]))
    a(S("clojars", "deploy_token", P("CLOJARS_", B36, 60), ["CLOJARS_PASSWORD"]))
    a(S("crates_io", "api_token", P("cio", B62, 32), ["CARGO_REGISTRY_TOKEN"], special=[s_cargo_credentials]))
    a(S("codecov", "upload_token", lambda r: r.uuid(), ["CODECOV_TOKEN"], kw=True))
    a(S("confluent", "api_secret", lambda r: r.s(B64, 64), ["CONFLUENT_CLOUD_API_SECRET"], kw=True,
        extras=[("CONFLUENT_CLOUD_API_KEY", lambda r: r.s(UPALNUM, 16))]))
    a(S("dynatrace", "api_token", lambda r: f"dt0c01.{r.s(UPALNUM, 24)}.{r.s(UPALNUM, 64)}", ["DT_API_TOKEN"],
        header="Authorization: Api-Token {v}"))
    a(S("easypost", "production_key", P("EZAK", B62, 54), ["EASYPOST_API_KEY"]))
    a(S("easypost", "test_key", P("EZTK", B62, 54), ["EASYPOST_TEST_API_KEY"], n=2))
    a(S("duffel", "live_token", P("duffel_live_", B64URL, 43), ["DUFFEL_ACCESS_TOKEN"]))
    a(S("duffel", "test_token", P("duffel_test_", B64URL, 43), ["DUFFEL_ACCESS_TOKEN"], n=2))
    a(S("flutterwave", "secret_key", lambda r: f"FLWSECK-{r.hexs(32)}-X", ["FLW_SECRET_KEY"]))
    a(S("flutterwave", "test_secret_key", lambda r: f"FLWSECK_TEST-{r.hexs(32)}-X", ["FLW_SECRET_KEY"], n=2))
    a(S("flyio", "token", P("fo1_", B64URL, 43), ["FLY_API_TOKEN"]))
    a(S("flyio", "macaroon", lambda r: "FlyV1 fm2_" + r.s(B64, 240), ["FLY_API_TOKEN"], templates=KW_TEMPLATES, n=2))
    a(S("frameio", "developer_token", P("fio-u-", B64URL, 64), ["FRAMEIO_TOKEN"]))
    a(S("gocardless", "access_token", P("live_", B64URL, 40), ["GOCARDLESS_ACCESS_TOKEN"], kw=True))
    a(S("intercom", "access_token", lambda r: "dG9rOj" + r.s(B64URL, 54), ["INTERCOM_ACCESS_TOKEN"], kw=True))
    a(S("launchdarkly", "api_token", lambda r: "api-" + r.uuid(), ["LAUNCHDARKLY_ACCESS_TOKEN"]))
    a(S("launchdarkly", "sdk_key", lambda r: "sdk-" + r.uuid(), ["LD_SDK_KEY"]))
    a(S("launchdarkly", "mobile_key", lambda r: "mob-" + r.uuid(), ["LD_MOBILE_KEY"], n=2))
    a(S("lob", "live_key", P("live_", HEX, 35), ["LOB_API_KEY"], kw=True))
    a(S("lob", "test_key", P("test_", HEX, 35), ["LOB_API_KEY"], kw=True, n=2))
    a(S("maxmind", "license_key", lambda r: f"{r.s(B62, 6)}_{r.s(B62, 29)}_mmk", ["MAXMIND_LICENSE_KEY"]))
    a(S("messagebird", "api_key", lambda r: r.s(B62, 25), ["MESSAGEBIRD_API_KEY"], kw=True))
    a(S("microsoft_teams", "incoming_webhook", g_teams_hook, ["TEAMS_WEBHOOK_URL"], special=[s_url_in_code]))
    a(S("octopus", "api_key", P("API-", UPALNUM, 28), ["OCTOPUS_API_KEY"], header="X-Octopus-ApiKey: {v}"))
    a(S("openshift", "user_token", P("sha256~", B64URL, 43), ["OPENSHIFT_TOKEN", "OC_TOKEN"]))
    a(S("planetscale", "service_token", P("pscale_tkn_", B64URL, 43), ["PLANETSCALE_SERVICE_TOKEN"]))
    a(S("planetscale", "oauth_token", P("pscale_oauth_", B64URL, 43), ["PLANETSCALE_OAUTH_TOKEN"], n=2))
    a(S("planetscale", "db_password", P("pscale_pw_", B64URL, 43), ["DATABASE_URL"], wrap=w_planetscale))
    a(S("prefect", "api_key", P("pnu_", B62, 36), ["PREFECT_API_KEY"]))
    a(S("readme", "api_key", P("rdme_", B36, 70), ["README_API_KEY"]))
    a(S("scalingo", "api_token", P("tk-us-", B64URL, 48), ["SCALINGO_API_TOKEN"]))
    a(S("shippo", "live_token", P("shippo_live_", HEX, 40), ["SHIPPO_API_TOKEN"]))
    a(S("shippo", "test_token", P("shippo_test_", HEX, 40), ["SHIPPO_API_TOKEN"], n=2))
    a(S("sonarqube", "user_token", P("squ_", HEX, 40), ["SONAR_TOKEN"]))
    a(S("sonarqube", "project_token", P("sqp_", HEX, 40), ["SONAR_TOKEN"], n=2))
    a(S("sonarqube", "global_token", P("sqa_", HEX, 40), ["SONAR_TOKEN"], n=2))
    a(S("sourcegraph", "access_token", V(P("sgp_", HEX, 40), lambda r: f"sgp_{r.hexs(16)}_{r.hexs(40)}"),
        ["SRC_ACCESS_TOKEN"]))
    a(S("sumologic", "access_key", lambda r: r.s(B62, 64), ["SUMO_ACCESS_KEY"], kw=True,
        extras=[("SUMO_ACCESS_ID", lambda r: "su" + r.s(B62, 12))]))
    a(S("typeform", "personal_token", P("tfp_", B64URL, 59), ["TYPEFORM_TOKEN"]))
    a(S("plaid", "access_token", lambda r: f"access-{r.choice(['production', 'development', 'sandbox'])}-{r.uuid()}",
        ["PLAID_ACCESS_TOKEN"]))
    a(S("plaid", "secret", lambda r: r.hexs(30), ["PLAID_SECRET"], kw=True,
        extras=[("PLAID_CLIENT_ID", lambda r: r.hexs(24))]))
    a(S("zendesk", "api_token", lambda r: r.s(B62, 40), ["ZENDESK_API_TOKEN"], kw=True))
    a(S("tailscale", "api_key", g_tailscale("api"), ["TAILSCALE_API_KEY"]))
    a(S("tailscale", "auth_key", g_tailscale("auth"), ["TS_AUTHKEY"]))
    a(S("tailscale", "oauth_client_secret", g_tailscale("client"), ["TS_OAUTH_SECRET"], n=2))
    a(S("buildkite", "api_token", P("bkua_", HEX, 40), ["BUILDKITE_API_TOKEN"]))
    a(S("pinecone", "api_key", lambda r: f"pcsk_{r.s(B62, r.choice([5, 6]))}_{r.s(B62, 63)}", ["PINECONE_API_KEY"]))
    a(S("langsmith", "personal_key", lambda r: f"lsv2_pt_{r.hexs(32)}_{r.hexs(10)}", ["LANGSMITH_API_KEY", "LANGCHAIN_API_KEY"]))
    a(S("langsmith", "service_key", lambda r: f"lsv2_sk_{r.hexs(32)}_{r.hexs(10)}", ["LANGSMITH_API_KEY"], n=2))
    a(S("langfuse", "secret_key", lambda r: "sk-lf-" + r.uuid(), ["LANGFUSE_SECRET_KEY"]))
    a(S("posthog", "personal_api_key", lambda r: "phx_" + r.s(B64URL, r.randint(43, 48)), ["POSTHOG_PERSONAL_API_KEY"]))
    a(S("nvidia", "api_key", P("nvapi-", B64URL, 64), ["NVIDIA_API_KEY", "NGC_API_KEY"]))
    a(S("infracost", "api_key", P("ico-", B62, 32), ["INFRACOST_API_KEY"]))
    a(S("snyk", "api_token", lambda r: r.uuid(), ["SNYK_TOKEN"], kw=True))
    a(S("harness", "api_key", lambda r: f"{r.choice(['pat', 'sat'])}.{r.s(B64URL, 22)}.{r.s(B62, 24)}.{r.s(B62, 20)}",
        ["HARNESS_API_KEY"]))
    a(S("clickhouse", "api_secret", P("4b1d", B62, 38), ["CLICKHOUSE_KEY_SECRET"]))
    a(S("defined_networking", "api_key", lambda r: f"dnkey-{r.s(UPALNUM, 26)}-{r.s(B64URL, 52)}", ["DN_API_KEY"]))
    a(S("authress", "service_client_key", lambda r: f"sc_{r.s(B62, 10)}.{r.s(B62, 5)}.acc_{r.s(B62, 10)}.{r.s(B64URL, 80)}",
        ["AUTHRESS_KEY"], n=2))
    a(S("kubernetes", "secret_manifest_data", g_k8s_data, ["password"], templates=[], special=[s_k8s_secret]))
    a(S("kubernetes", "service_account_token", g_k8s_sa, ["token"], templates=[], special=[s_kubeconfig]))
    a(S("amazon_lwa", "client_secret", P("amzn1.oa2-cs.v1.", HEX, 64), ["LWA_CLIENT_SECRET"]))
    a(S("resend", "api_key", P("re_", B64URL, 32), ["RESEND_API_KEY"], kw=True))
    a(S("neon", "api_key", P("napi_", B36, 64), ["NEON_API_KEY"]))
    a(S("neon", "db_password", pw, ["DATABASE_URL"], wrap=w_neon, n=2))
    a(S("telnyx", "api_key", lambda r: f"KEY{r.s(UHEX, 26)}_{r.s(B64URL, 22)}", ["TELNYX_API_KEY"], n=2))
    a(S("plivo", "auth_token", lambda r: r.s(B64, 40), ["PLIVO_AUTH_TOKEN"], kw=True,
        extras=[("PLIVO_AUTH_ID", lambda r: "MA" + r.s(UPALNUM, 18))]))
    a(S("wakatime", "api_key", lambda r: "waka_" + r.uuid(), ["WAKATIME_API_KEY"]))
    a(S("runpod", "api_key", P("rpa_", UPALNUM, 44), ["RUNPOD_API_KEY"], n=2))
    a(S("wandb", "api_key", lambda r: r.hexs(40), ["WANDB_API_KEY"], kw=True, special=[s_netrc("api.wandb.ai")]))
    a(S("rapidapi", "api_key", lambda r: r.s(B64URL, 50), ["RAPIDAPI_KEY"], kw=True, header="X-RapidAPI-Key: {v}"))

    # §J JWTs -------------------------------------------------------------------------------------
    a(S("jwt", "bearer_token", g_generic_jwt, ["JWT_TOKEN", "ACCESS_TOKEN", "API_TOKEN"], n=5))
    a(S("jwt", "es256_token", lambda r: jwt(r, {"iss": "https://auth.acme.io", "sub": r.digits(9), "aud": "orders-api",
                                                  "exp": r.randint(1_800_000_000, 1_900_000_000)}, alg="ES256",
                                            header_extra={"kid": r.s(B64URL, 16)}), ["SERVICE_TOKEN", "ID_TOKEN"]))

    # §K private keys (PEM etc.) ---------------------------------------------------------------------
    KN = ["PRIVATE_KEY", "GITHUB_APP_PRIVATE_KEY", "SIGNING_KEY", "SSH_PRIVATE_KEY"]
    a(S("private_key", "rsa_pkcs1", g_pem("RSA PRIVATE KEY"), KN, n=5, **KEY_TEMPLATES))
    a(S("private_key", "pkcs8", g_pem("PRIVATE KEY"), KN, n=5, **KEY_TEMPLATES))
    a(S("private_key", "pkcs8_encrypted", g_pem("ENCRYPTED PRIVATE KEY"), KN, **KEY_TEMPLATES))
    a(S("private_key", "rsa_encrypted", g_enc_rsa, KN, **KEY_TEMPLATES))
    a(S("private_key", "ec", lambda r: "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
        + pem(r, "EC PRIVATE KEY"), KN, n=4, **KEY_TEMPLATES))
    a(S("private_key", "dsa", g_pem("DSA PRIVATE KEY"), KN, **KEY_TEMPLATES))
    a(S("private_key", "openssh", g_pem("OPENSSH PRIVATE KEY"), KN, n=5, **KEY_TEMPLATES))
    a(S("private_key", "pgp", pgp_private, KN, **KEY_TEMPLATES))
    a(S("private_key", "putty_ppk", putty_ppk, KN, templates=[], special=[s_pem_file], n=2))
    a(S("private_key", "pkcs8_in_env", lambda r: pem(r, "PRIVATE KEY").replace("\n", "\\n"),
        ["PRIVATE_KEY", "JWT_PRIVATE_KEY"], templates=["env", "yaml", "compose", "shell"]))

    # §D connection strings with passwords -------------------------------------------------------------
    a(S("connection_string", "postgres", pw, PG, wrap=w_uri("postgres", 5432, "/orders"), n=5))
    a(S("connection_string", "postgresql_psycopg2", pw, ["SQLALCHEMY_DATABASE_URI"], wrap=w_uri("postgresql+psycopg2", 5432, "/app")))
    a(S("connection_string", "jdbc_postgresql", pw, ["SPRING_DATASOURCE_URL", "JDBC_URL"], wrap=w_jdbc_pg))
    a(S("connection_string", "libpq_keywords", pw, ["PG_DSN"], wrap=w_libpq, templates=["env", "yaml", "python", "json", "ini"]))
    a(S("connection_string", "mysql", pw, ["DATABASE_URL", "MYSQL_URL"], wrap=w_uri("mysql", 3306, "/shop"), n=4))
    a(S("connection_string", "mariadb", pw, ["DATABASE_URL"], wrap=w_uri("mariadb", 3306, "/shop"), n=2))
    a(S("connection_string", "jdbc_mysql", pw, ["JDBC_URL"], wrap=w_jdbc_mysql))
    a(S("connection_string", "redis", pw, ["REDIS_URL"], wrap=w_redis))
    a(S("connection_string", "rediss_upstash", pw, ["REDIS_URL", "UPSTASH_REDIS_URL"], wrap=w_rediss))
    a(S("connection_string", "amqp", pw, ["AMQP_URL", "CLOUDAMQP_URL", "RABBITMQ_URL"], wrap=w_amqp))
    a(S("connection_string", "adonet_sqlserver", pw, ["ConnectionStrings__Default", "SQL_CONNECTION"], wrap=w_adonet))
    a(S("connection_string", "oracle_jdbc", pw, ["ORACLE_URL"], wrap=w_oracle, n=2))
    a(S("connection_string", "smtp_url", pw, ["SMTP_URL", "EMAIL_URL"], wrap=w_smtp, n=2))
    a(S("connection_string", "https_basic_auth", pw, ["MAVEN_REPO_URL", "REGISTRY_URL"], wrap=w_basic_url))
    a(S("connection_string", "kafka_sasl_jaas", pw, ["sasl.jaas.config"], wrap=w_kafka_jaas,
        templates=["properties", "yaml", "ini"], n=2))

    # §G generic password / secret assignments ------------------------------------------------------
    a(S("generic", "db_password", pw, ["DB_PASSWORD", "POSTGRES_PASSWORD", "MYSQL_ROOT_PASSWORD", "db_password"], kw=True, n=5))
    a(S("generic", "password_field", pw, ["password", "admin_password", "smtp_password"], kw=True, n=5))
    a(S("generic", "django_secret_key", lambda r: "django-insecure-" + r.s(LO + DIG + "!@#%^&*(-_=+)", 50) if r.random() < 0.3
        else r.s(LO + DIG + "!@#%^&*(-_=+)", 50), ["SECRET_KEY"], kw=True, templates=["python", "env"]))
    a(S("generic", "rails_secret_key_base", lambda r: r.hexs(128), ["SECRET_KEY_BASE"], kw=True))
    a(S("generic", "laravel_app_key", lambda r: "base64:" + r.b64of(32), ["APP_KEY"], kw=True, templates=["env", "shell", "compose"]))
    a(S("generic", "jwt_secret", lambda r: r.s(B64URL, r.randint(32, 64)), ["JWT_SECRET", "JWT_SIGNING_KEY"], kw=True))
    a(S("generic", "session_secret", lambda r: r.s(B62, r.randint(32, 48)), ["SESSION_SECRET", "COOKIE_SECRET"], kw=True))
    a(S("generic", "encryption_key", lambda r: r.b64of(32), ["ENCRYPTION_KEY", "MASTER_KEY"], kw=True))
    a(S("generic", "api_key_assignment", lambda r: r.s(B62, r.randint(32, 40)), ["API_KEY", "api_key", "apiKey"], kw=True))
    a(S("generic", "client_secret", lambda r: r.s(B64URL, 40), ["CLIENT_SECRET", "client_secret"], kw=True))
    a(S("generic", "basic_auth_header", lambda r: "Basic " + base64.b64encode(f"{_user(r)}:{r.password()}".encode()).decode(),
        ["Authorization"], templates=[], special=[
            lambda c: ("http", f"GET https://artifacts.acme.io/api/repos\nAuthorization: {c.value}\nAccept: application/json\n"),
            lambda c: ("sh", f"curl -H 'Authorization: {c.value}' https://artifacts.acme.io/api/repos\n")]))
    a(S("generic", "curl_user_pass", pw, ["curl"], templates=[], special=[
        lambda c: ("sh", f"#!/bin/sh\ncurl -fsSL -u deploy:{c.value} https://nexus.acme.io/repository/raw/build.tar.gz -o build.tar.gz\n")]))
    a(S("generic", "cli_password_flag", pw, ["--password"], templates=[], special=[
        lambda c: ("sh", f"#!/bin/sh\nmysqldump --host=db.acme.io --user=backup --password={c.value} shop > shop.sql\n"),
        lambda c: ("sh", f"docker login registry.acme.io --username ci --password {c.value}\n")]))
    a(S("generic", "dotnet_config_password", pw, ["Password"], templates=[], special=[
        lambda c: ("config", '<?xml version="1.0" encoding="utf-8"?>\n<configuration>\n  <packageSourceCredentials>\n'
                   '    <acme>\n      <add key="Username" value="build" />\n'
                   f'      <add key="ClearTextPassword" value="{xml_attr(c.value)}" />\n    </acme>\n'
                   '  </packageSourceCredentials>\n</configuration>\n')]))
    a(S("generic", "pgpass_line", pw, ["pgpass"], templates=[], special=[
        lambda c: ("pgpass", f"db.prod.acme-internal.net:5432:orders:app:{c.value}\n")], n=2))
    return sp


# ---------------------------------------------------------------------------
# negatives: near misses that must NOT be reported
# ---------------------------------------------------------------------------
def _wrap_assign(rng: R, name: str, value: str, style=None):
    """Put NAME=value into a random syntax (reuses the positive templates)."""
    style = style or rng.choice(["env", "yaml", "json", "python", "js", "go", "shell", "tfvars", "ini", "properties", "compose"])
    return TEMPLATES[style](Ctx(rng, name, value, kw=True))


def neg_aws_examples(rng):
    out = []
    pairs = [("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"), ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
             ("AWS_ACCESS_KEY_ID", "AKIAI44QH8DHBEXAMPLE"), ("AWS_SECRET_ACCESS_KEY", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY")]
    for k, v in pairs * 3:
        out.append(_wrap_assign(rng, k, v))
    out.append(("credentials", "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
                               "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\nregion = us-east-1\n"))
    out.append(("md", "## Configure the CLI\n\n```\n$ aws configure\nAWS Access Key ID [None]: AKIAIOSFODNN7EXAMPLE\n"
                      "AWS Secret Access Key [None]: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
                      "Default region name [None]: us-west-2\n```\n"))
    for _ in range(4):  # any key id / secret ending in EXAMPLE / EXAMPLEKEY
        out.append(_wrap_assign(rng, "AWS_ACCESS_KEY_ID", "AKIA" + rng.s(B32, 9) + "EXAMPLE"))
    out.append(("py", "import boto3\n\n# moto / localstack dummies\ns3 = boto3.client('s3', endpoint_url='http://localhost:4566',\n"
                      "                  aws_access_key_id='test', aws_secret_access_key='test')\n"))
    return out


JWT_IO = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0Ijox"
          "NTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")


def neg_jwt_samples(rng):
    out = []
    for name in ["JWT_TOKEN", "ACCESS_TOKEN", "token", "AUTH_TOKEN", "BEARER_TOKEN", "id_token"]:
        out.append(_wrap_assign(rng, name, JWT_IO))
    out.append(("http", f"GET https://api.acme.io/me\nAuthorization: Bearer {JWT_IO}\n"))
    out.append(("md", f"Paste a token such as\n\n    {JWT_IO}\n\ninto the debugger at jwt.io to decode it.\n"))
    out.append(("test.js", "const token =\n  '" + JWT_IO + "';\n\ntest('decodes', () => {\n  expect(decode(token).name).toBe('John Doe');\n});\n"))
    # unsecured JWT (alg none, empty signature): info at most
    for _ in range(3):
        t = b64url_json({"alg": "none", "typ": "JWT"}) + "." + b64url_json({"sub": rng.uuid(), "role": "viewer"}) + "."
        out.append(_wrap_assign(rng, "DEBUG_TOKEN", t))
    # Supabase CLI local-dev demo JWTs (iss supabase-demo)
    for role in ["anon", "service_role", "anon"]:
        t = jwt(rng, {"iss": "supabase-demo", "role": role, "exp": 1983812996})
        out.append(_wrap_assign(rng, "SUPABASE_ANON_KEY" if role == "anon" else "SUPABASE_SERVICE_ROLE_KEY", t))
    return out


def neg_placeholders(rng):
    out = []
    vals = [("OPENAI_API_KEY", "sk-...xxxx"), ("OPENAI_API_KEY", "sk-..."), ("OPENAI_API_KEY", "sk-xxxxxxxxxxxxxxxxxxxxxxxx"),
            ("OPENAI_API_KEY", "sk-proj-..."), ("OPENAI_API_KEY", "sk-<your key>"), ("OPENAI_API_KEY", "sk-abcdefghijklmnop123"),
            ("API_KEY", "your-api-key-here"), ("API_KEY", "YOUR_API_KEY"), ("GITHUB_TOKEN", "<token>"),
            ("SLACK_BOT_TOKEN", "xoxb-your-token"), ("AUTH_TOKEN", "<your-token>"), ("SECRET_KEY", "changeme"),
            ("API_TOKEN", "REPLACE_WITH_YOUR_TOKEN"), ("CLIENT_SECRET", "<your-client-secret>"), ("PASSWORD", "********"),
            ("DB_PASSWORD", "password"), ("STRIPE_SECRET_KEY", "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx"),
            ("GITHUB_TOKEN", "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"), ("GITLAB_TOKEN", "glpat-xxxxxxxxxxxxxxxxxxxx"),
            ("GITLAB_TOKEN", "glpat-<token>"), ("HF_TOKEN", "hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"), ("HF_TOKEN", "hf_..."),
            ("ANTHROPIC_API_KEY", "sk-ant-api03-..."), ("ANTHROPIC_API_KEY", "sk-ant-xxxx"), ("SENDGRID_API_KEY", "SG.xxxxxxxx.yyyyyyy"),
            ("SENDGRID_API_KEY", "SG.YOUR_API_KEY"), ("GOOGLE_API_KEY", "AIzaSyXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"),
            ("GOOGLE_API_KEY", "YOUR_API_KEY"), ("TWILIO_ACCOUNT_SID", "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"),
            ("TWILIO_AUTH_TOKEN", "your_auth_token"), ("MAILCHIMP_API_KEY", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx-us1"),
            ("STRIPE_WEBHOOK_SECRET", "whsec_..."), ("AZURE_STORAGE_KEY", "<storage-account-key>"),
            ("API_KEY", "{{token}}"), ("TOKEN", "[TOKEN]"), ("API_SECRET", "REDACTED"), ("ACCESS_TOKEN", "TODO"),
            ("DATADOG_API_KEY", "00000000000000000000000000000000"), ("API_KEY", "1234567890abcdef1234567890abcdef"),
            ("SECRET", "dummy"), ("AWS_SECRET_ACCESS_KEY", "<secret>"), ("NPM_TOKEN", "npm_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX")]
    for k, v in vals:
        out.append(_wrap_assign(rng, k, v))
    out.append(("md", "## Setup\n\n1. Create a key at https://platform.openai.com/api-keys\n"
                      "2. `export OPENAI_API_KEY=sk-...`\n3. Run `python app.py`\n\n"
                      "Never commit your key; use `your-api-key-here` in examples.\n"))
    out.append(("env.example", "# copy to .env and fill in\nSTRIPE_SECRET_KEY=\nOPENAI_API_KEY=your-api-key-here\n"
                               "GITHUB_TOKEN=<token>\nDATABASE_URL=postgres://user:<password>@localhost:5432/app\n"))
    return out


def neg_provider_doc_examples(rng):
    """Exact sample values published in provider docs (providers.md 'Ignore' notes)."""
    vals = [("STRIPE_SECRET_KEY", "sk_test_4eC39HqLyjWDarjtT1zdp7dc"), ("STRIPE_PUBLISHABLE_KEY", "pk_test_TYooMQauvdEDq54NiTphI7jx"),
            ("STRIPE_SECRET_KEY", "sk_test_BQokikJOvBiI2HlWgH4olfQ2"),
            ("SLACK_TOKEN", "xoxp-12345-67890-1928471-abcdefg"), ("SLACK_REFRESH_TOKEN", "xoxe-1-abcdefg"),
            ("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"),
            ("TELEGRAM_BOT_TOKEN", "123456789:ABCdefGHIjklMNOpqrsTUVwxyz"),
            ("TELEGRAM_BOT_TOKEN", "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"),
            ("NPM_TOKEN", "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"),
            ("GITHUB_TOKEN", "ghp_A1bC2dE3fH4iJ5kL6mN7oP8qR9sT0u"),
            ("AZURE_STORAGE_CONNECTION_STRING", "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey="
             "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
             "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"),
            ("AZURE_STORAGE_CONNECTION_STRING", "UseDevelopmentStorage=true"),
            ("AZURE_TENANT_ID", "00000000-0000-0000-0000-000000000000")]
    out = []
    for k, v in vals:
        out.append(_wrap_assign(rng, k, v))
        out.append(_wrap_assign(rng, k, v))
    return out


def neg_wrong_length(rng):
    """Known prefixes with a body of the wrong length, in neutral (non-secret) contexts."""
    shapes = [lambda: "ghp_" + rng.s(B62, 20), lambda: "gho_" + rng.s(B62, 12), lambda: "AKIA" + rng.s(B32, 10),
              lambda: "AIzaSy" + rng.s(B64URL, 12), lambda: "glpat-" + rng.s(B64URL, 8), lambda: "xoxb-" + rng.digits(6),
              lambda: "sk-ant-api03-" + rng.s(B64URL, 20), lambda: "hf_" + rng.s(LETTERS, 12), lambda: "npm_" + rng.s(B62, 14),
              lambda: "dop_v1_" + rng.hexs(20), lambda: "SG." + rng.s(B64URL, 10), lambda: "sk_live_" + rng.s(B62, 8),
              lambda: "xai-" + rng.s(B62, 16), lambda: "gsk_" + rng.s(B62, 12), lambda: "pplx-" + rng.s(B62, 10),
              lambda: "shpat_" + rng.hexs(12), lambda: "rubygems_" + rng.hexs(10), lambda: "glsa_" + rng.s(B62, 10),
              lambda: "sntryu_" + rng.hexs(16), lambda: "lin_api_" + rng.s(B62, 10)]
    neutral = ["slug", "label", "build_ref", "node_name", "trace_prefix", "sample_ref", "css_class", "route_name"]
    out = []
    for i in range(30):
        v = shapes[i % len(shapes)]()
        kind = rng.randint(0, 2)
        if kind == 0:
            out.append(_wrap_assign(rng, rng.choice(neutral).upper(), v))
        elif kind == 1:
            out.append(("log", f"2025-03-02T10:1{rng.randint(0, 9)}:04Z INFO request id={rng.hexs(8)} route=/v1/items label={v} status=200\n"
                               f"2025-03-02T10:1{rng.randint(0, 9)}:05Z INFO cache miss key=items:{rng.randint(1, 999)}\n"))
        else:
            out.append(("py", f"PREFIX_TABLE = {{\n    \"example\": {dq(v)},\n}}\n\n\ndef is_prefixed(s):\n"
                              "    return any(s.startswith(p) for p in PREFIX_TABLE.values())\n"))
    return out


def neg_wrong_alphabet(rng):
    """Right prefix and length, but characters outside the documented alphabet."""
    shapes = [
        lambda: "hf_" + rng.s(LETTERS + DIG, 30) + rng.digits(4),                   # hf_ is letters only
        lambda: "AKIA" + rng.s(UP, 8) + rng.choice("0189") + rng.s(UP, 7),         # base32 has no 0,1,8,9
        lambda: "dop_v1_" + rng.s("ghijklmnopqrstuvwxyz", 64),                       # hex only
        lambda: "sk-or-v1-" + rng.s("GHIJKLMNOPQRSTUVWXYZ", 64),                     # hex only
        lambda: "rubygems_" + rng.s("ghijklmnopqrstuvwxyz", 48),
        lambda: "oy2" + rng.s(LB32, 20) + rng.choice("0189") + rng.s(LB32, 22),     # lowercase base32 has no 0,1,8,9
        lambda: "pul-" + rng.s("ghijklmnopqrstuvwxyz", 40),
        lambda: "sntryu_" + rng.s("GHIJKLMNOPQRSTUVWXYZ", 64),
        lambda: "shpat_" + rng.s("ghijklmnopqrstuvwxyz", 32),
        lambda: "NRAK-" + rng.s(LO, 27),                                             # uppercase alnum only
    ]
    out = []
    for i in range(20):
        v = shapes[i % len(shapes)]()
        out.append(_wrap_assign(rng, rng.choice(["FIXTURE_ID", "LABEL", "SLUG", "BUILD_TAG"]), v))
    return out


def neg_wrong_checksum(rng):
    out = []
    gens = [(lambda: github_token(rng, "ghp_", True), "GITHUB_TOKEN"), (lambda: github_token(rng, "gho_", True), "GH_TOKEN"),
            (lambda: github_token(rng, "ghs_", True), "GITHUB_TOKEN"), (lambda: npm_token(rng, True), "NPM_TOKEN"),
            (lambda: grafana_sa(rng, True), "GRAFANA_TOKEN"), (lambda: gitlab_routable(rng, "glpat-", True), "GITLAB_TOKEN")]
    for i in range(30):
        g, name = gens[i % len(gens)]
        v = g()
        if i % 5 == 4 and name == "NPM_TOKEN":
            out.append(("npmrc", f"//registry.npmjs.org/:_authToken={v}\n"))
        else:
            out.append(_wrap_assign(rng, name, v))
    return out


def neg_env_references(rng):
    snippets = [
        ("py", 'import os\n\nOPENAI_API_KEY = os.environ["OPENAI_API_KEY"]\nstripe_key = os.getenv("STRIPE_SECRET_KEY")\n'),
        ("py", 'from django.conf import settings\n\nclient = Client(api_key=settings.SENDGRID_API_KEY)\n'),
        ("js", "const stripe = require('stripe')(process.env.STRIPE_SECRET_KEY);\nconst token = process.env.GITHUB_TOKEN;\n"),
        ("ts", "export const config = {\n  apiKey: process.env.OPENAI_API_KEY!,\n  webhookSecret: process.env['STRIPE_WEBHOOK_SECRET'],\n};\n"),
        ("env", "DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app\nAPI_TOKEN=${API_TOKEN}\nSECRET_KEY=$SECRET_KEY\n"),
        ("yml", "jobs:\n  publish:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npm publish\n        env:\n"
                "          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}\n          GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}\n"),
        ("yml", "env:\n  AWS_ACCESS_KEY_ID: {{ secrets.AWS_ACCESS_KEY_ID }}\n  AWS_SECRET_ACCESS_KEY: {{ secrets.AWS_SECRET_ACCESS_KEY }}\n"),
        ("npmrc", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\nalways-auth=true\n"),
        ("java", 'public class Config {\n    private final String apiKey = System.getenv("PAYMENTS_API_KEY");\n'
                 '    @Value("${jwt.secret}")\n    private String jwtSecret;\n}\n'),
        ("rb", 'Stripe.api_key = ENV.fetch("STRIPE_SECRET_KEY")\nSENDGRID = ENV["SENDGRID_API_KEY"]\n'),
        ("go", 'package main\n\nimport "os"\n\nvar slackToken = os.Getenv("SLACK_BOT_TOKEN")\n'),
        ("sh", '#!/bin/sh\ncurl -H "Authorization: Bearer $GITHUB_TOKEN" https://api.github.com/user\n'
               'docker login -u "$DOCKER_USERNAME" --password-stdin <<< "$DOCKER_PASSWORD"\n'),
        ("compose.yaml", "services:\n  api:\n    image: acme/api\n    environment:\n      - DB_PASSWORD=${DB_PASSWORD}\n"
                         "      - STRIPE_SECRET_KEY=${STRIPE_SECRET_KEY:?required}\n"),
        ("tf", 'variable "db_password" {\n  type      = string\n  sensitive = true\n}\n\nresource "aws_db_instance" "main" {\n'
               "  password = var.db_password\n}\n"),
        ("yaml", "Resources:\n  Db:\n    Type: AWS::RDS::DBInstance\n    Properties:\n"
                 "      MasterUserPassword: '{{resolve:secretsmanager:prod/db:SecretString:password}}'\n"),
        ("yaml", "password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  " + rng.hexs(64) + "\n  " + rng.hexs(64) + "\n"),
        ("yaml", "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - name: api\n"
                 "        env:\n        - name: DB_PASSWORD\n          valueFrom:\n            secretKeyRef:\n"
                 "              name: db-credentials\n              key: password\n"),
        ("yaml", "db:\n  password: {{ .Values.db.password }}\n  apiKey: \"{{ .Values.apiKey }}\"\n"),
        ("ps1", '$token = $env:GITHUB_TOKEN\nInvoke-RestMethod -Headers @{ Authorization = "token $token" } -Uri https://api.github.com/user\n'),
        ("bat", "@echo off\nset API_KEY=%API_KEY%\ncall deploy.cmd %API_KEY%\n"),
        ("php", "<?php\n$apiKey = getenv('MAILGUN_API_KEY');\n$secret = $_ENV['APP_SECRET'];\n"),
        ("ini", "[database]\npassword = %(DB_PASSWORD)s\nuser = app\n"),
        ("json", '{\n  "apiKey": "${API_KEY}",\n  "secret": "#{Octopus.Secret}",\n  "token": "@@TOKEN@@"\n}\n'),
        ("py", 'import boto3\n\nsm = boto3.client("secretsmanager")\nsecret = sm.get_secret_value(SecretId="arn:aws:secretsmanager:us-east-1:'
               f'{rng.digits(12)}:secret:prod/api-key-AbCdEf")["SecretString"]\n'),
        ("cs", 'var apiKey = Environment.GetEnvironmentVariable("SENDGRID_API_KEY");\nvar conn = Configuration.GetConnectionString("Default");\n'),
    ]
    return snippets


def neg_uuids(rng):
    out = []
    for i in range(20):
        t = i % 5
        if t == 0:
            out.append(("json", json.dumps({"id": rng.uuid(), "orderId": rng.uuid(), "status": "shipped",
                                            "items": [{"sku": rng.uuid(), "qty": 2}]}, indent=2) + "\n"))
        elif t == 1:
            out.append(("log", "".join(f"2025-01-0{rng.randint(1, 9)} INFO request_id={rng.uuid()} path=/api/v1/orders 200\n"
                                       for _ in range(4))))
        elif t == 2:
            out.append(("yaml", f"metadata:\n  name: api\n  uid: {rng.uuid()}\n  resourceVersion: \"{rng.digits(7)}\"\n"))
        elif t == 3:
            out.append(_wrap_assign(rng, rng.choice(["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_SUBSCRIPTION_ID"]), rng.uuid()))
        else:
            out.append(("sql", f"INSERT INTO users (id, email) VALUES ('{rng.uuid()}', 'ana@acme.io');\n"
                               f"INSERT INTO users (id, email) VALUES ('{rng.uuid()}', 'li@acme.io');\n"))
    return out


def neg_git_shas(rng):
    out = []
    for i in range(20):
        t = i % 5
        if t == 0:
            out.append(("txt", "".join(f"commit {rng.hexs(40)}\nAuthor: Dev <dev@acme.io>\nDate:   Mon Mar 3 10:00:00 2025\n\n"
                                       f"    fix: handle empty cart\n\n" for _ in range(3))))
        elif t == 1:
            out.append(("yaml", f"repos:\n  - repo: https://github.com/pre-commit/pre-commit-hooks\n    rev: {rng.hexs(40)}\n"
                                "    hooks:\n      - id: trailing-whitespace\n"))
        elif t == 2:
            out.append(("yml", f"steps:\n  - uses: actions/checkout@{rng.hexs(40)} # v4.1.1\n"
                               f"  - uses: actions/setup-node@{rng.hexs(40)}\n"))
        elif t == 3:
            out.append(("json", json.dumps({"sha": rng.hexs(40), "commit": {"tree": {"sha": rng.hexs(40)}},
                                            "parents": [{"sha": rng.hexs(40)}]}, indent=2) + "\n"))
        else:
            out.append(("txt", f" {rng.hexs(40)} vendor/libfoo (v1.2.3)\n+{rng.hexs(40)} third_party/zlib (v1.3)\n"))
    return out


def neg_lockfiles(rng):
    out = []
    for i in range(20):
        t = i % 3
        if t == 0:
            pk = {"name": "app", "lockfileVersion": 3, "packages": {}}
            for p in rng.sample(["lodash", "react", "express", "axios", "chalk", "debug", "ms"], 3):
                pk["packages"][f"node_modules/{p}"] = {"version": f"{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
                                                      "resolved": f"https://registry.npmjs.org/{p}/-/{p}-1.0.0.tgz",
                                                      "integrity": "sha512-" + rng.b64of(64)}
            out.append(("package-lock.json", json.dumps(pk, indent=2) + "\n"))
        elif t == 1:
            out.append(("yarn.lock", "".join(f'{p}@^1.0.0:\n  version "1.{rng.randint(0, 9)}.{rng.randint(0, 9)}"\n'
                                             f'  resolved "https://registry.yarnpkg.com/{p}/-/{p}-1.0.0.tgz#{rng.hexs(40)}"\n'
                                             f'  integrity sha512-{rng.b64of(64)}\n\n' for p in ["ms", "debug", "chalk"])))
        else:
            out.append(("pnpm-lock.yaml", "lockfileVersion: '9.0'\npackages:\n" + "".join(
                f"  {p}@1.0.{rng.randint(0, 9)}:\n    resolution: {{integrity: sha512-{rng.b64of(64)}}}\n" for p in ["ms", "debug"])))
    for _ in range(4):
        out.append(("html", f'<script src="https://cdn.jsdelivr.net/npm/bootstrap@5.3.3/dist/js/bootstrap.bundle.min.js"\n'
                            f'  integrity="sha384-{rng.b64of(48)}" crossorigin="anonymous"></script>\n'))
    return out


def neg_cargo_lock(rng):
    out = []
    for _ in range(15):
        body = "# This file is automatically @generated by Cargo.\nversion = 4\n\n"
        for p in rng.sample(["serde", "regex", "memchr", "aho-corasick", "clap", "anyhow", "rayon", "crc32fast"], 4):
            body += (f'[[package]]\nname = "{p}"\nversion = "1.{rng.randint(0, 40)}.{rng.randint(0, 9)}"\n'
                     'source = "registry+https://github.com/rust-lang/crates.io-index"\n'
                     f'checksum = "{rng.hexs(64)}"\n\n')
        out.append(("Cargo.lock", body))
    return out


def neg_go_sum(rng):
    out = []
    for _ in range(15):
        lines = []
        for m in rng.sample(["github.com/stretchr/testify", "golang.org/x/sys", "github.com/google/uuid",
                             "gopkg.in/yaml.v3", "github.com/spf13/cobra", "golang.org/x/crypto"], 3):
            v = f"v{rng.randint(0, 1)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}"
            lines.append(f"{m} {v} h1:{rng.b64of(32)}")
            lines.append(f"{m} {v}/go.mod h1:{rng.b64of(32)}")
        out.append(("go.sum", "\n".join(lines) + "\n"))
    return out


def neg_hashes(rng):
    out = []
    for i in range(15):
        t = i % 4
        if t == 0:
            out.append(("sha256sums", "".join(f"{rng.hexs(64)}  keylint-{a}.tar.gz\n" for a in ["x86_64-linux", "aarch64-darwin"])))
        elif t == 1:
            out.append(("Dockerfile", f"FROM python:3.12-slim@sha256:{rng.hexs(64)}\nRUN pip install uv\n"))
        elif t == 2:
            out.append(("json", json.dumps({"file": "model.bin", "md5": rng.hexs(32), "sha1": rng.hexs(40),
                                            "sha256": rng.hexs(64)}, indent=2) + "\n"))
        else:
            out.append(("xml", f"<dependency>\n  <groupId>org.slf4j</groupId>\n  <artifactId>slf4j-api</artifactId>\n"
                               f"  <version>2.0.13</version>\n  <!-- sha1: {rng.hexs(40)} -->\n</dependency>\n"))
    return out


def neg_css_colours(rng):
    out = []
    for _ in range(12):
        rules = []
        for sel in rng.sample([".btn", ".card", "header", ".nav a", ".alert-danger", "body", ".badge", "footer"], 5):
            rules.append(f"{sel} {{\n  color: #{rng.hexs(6)};\n  background: #{rng.hexs(6)};\n"
                         f"  border: 1px solid #{rng.hexs(3)};\n  box-shadow: 0 1px 2px #{rng.hexs(8)};\n}}")
        out.append((rng.choice(["css", "scss"]), "\n\n".join(rules) + "\n"))
    out.append(("ts", "export const palette = {\n" + "".join(f"  {n}: '#{rng.hexs(6)}',\n" for n in
                                                             ["primary", "secondary", "accent", "muted"]) + "};\n"))
    return out


def neg_base64_images(rng):
    out = []
    for i in range(12):
        png = "iVBORw0KGgoAAAANSUhEUgAA" + rng.s(B64, rng.randint(200, 600)) + "=="
        t = i % 3
        if t == 0:
            out.append(("html", f'<img alt="logo" width="32" height="32"\n     src="data:image/png;base64,{png}">\n'))
        elif t == 1:
            out.append(("css", f".icon-check {{\n  background-image: url(data:image/png;base64,{png});\n}}\n"))
        else:
            svg = base64.b64encode(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><path d="M{rng.randint(1, 9)} 1h6v6z"/></svg>'.encode()).decode()
            out.append(("md", f"![badge](data:image/svg+xml;base64,{svg})\n\nSome docs text.\n"))
    return out


def neg_public_keys(rng):
    out = []
    for i in range(20):
        t = i % 5
        if t == 0:
            out.append(("pem", "-----BEGIN PUBLIC KEY-----\n" + pem_body(rng, "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", 392)
                        + "\n-----END PUBLIC KEY-----\n"))
        elif t == 1:
            out.append(("crt", "-----BEGIN CERTIFICATE-----\n" + pem_body(rng, "MIIDdzCCAl+gAwIBAgIE", 1100)
                        + "\n-----END CERTIFICATE-----\n"))
        elif t == 2:
            out.append(("pub", f"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQ{rng.s(B64, 500)} deploy@build-01\n"))
        elif t == 3:
            out.append(("authorized_keys", f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{rng.s(B64, 43)} ana@laptop\n"
                                           f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{rng.s(B64, 43)} ci@runner\n"))
        else:
            out.append(("asc", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n" + pem_body(rng, "mQINBG", 1000)
                        + "\n=" + rng.s(B64, 4) + "\n-----END PGP PUBLIC KEY BLOCK-----\n"))
    return out


def neg_private_key_placeholders(rng):
    out = []
    docs = [
        "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
        "-----BEGIN PRIVATE KEY-----\nMIIE...\n-----END PRIVATE KEY-----",
        "-----BEGIN OPENSSH PRIVATE KEY-----\n<key>\n-----END OPENSSH PRIVATE KEY-----",
        "-----BEGIN RSA PRIVATE KEY-----\nXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\n-----END RSA PRIVATE KEY-----",
        "-----BEGIN EC PRIVATE KEY-----\n<your-key-here>\n-----END EC PRIVATE KEY-----",
    ]
    for i in range(15):
        d = docs[i % len(docs)]
        t = i % 3
        if t == 0:
            out.append(("md", f"Put your key in `key.pem`:\n\n```\n{d}\n```\n"))
        elif t == 1:
            out.append(("yaml", "tls:\n  key: |\n" + "".join("    " + line + "\n" for line in d.split("\n"))))
        else:
            out.append(("json", json.dumps({"type": "service_account", "private_key": d.replace("...", "MII...") + "\n"}, indent=2) + "\n"))
    # Go's renamed test keys
    for _ in range(3):
        lead, n = PEM_LEADS["RSA PRIVATE KEY"]
        body = pem_body(rng, lead, n)
        out.append(("go", "package tls\n\nvar rsaKeyPEM = testingKey(`-----BEGIN RSA TESTING KEY-----\n" + body +
                    "\n-----END RSA TESTING KEY-----`)\n\nfunc testingKey(s string) string { return strings.ReplaceAll(s, \"TESTING KEY\", \"PRIVATE KEY\") }\n"))
    # BEGIN without END / truncated sample
    out.append(("txt", "-----BEGIN RSA PRIVATE KEY-----\n(truncated)\n"))
    out.append(("py", 'PEM_HEADER = "-----BEGIN PRIVATE KEY-----"\nPEM_FOOTER = "-----END PRIVATE KEY-----"\n\n'
                      "def is_pem(text):\n    return text.startswith(PEM_HEADER) and text.rstrip().endswith(PEM_FOOTER)\n"))
    return out


def neg_connection_strings(rng):
    vals = [
        ("DATABASE_URL", "postgres://postgres:postgres@localhost:5432/app"), ("DATABASE_URL", "postgresql://user:password@localhost/mydb"),
        ("DATABASE_URL", "postgresql://app:${DB_PASSWORD}@db:5432/app"), ("DATABASE_URL", "postgres://app:$DB_PASSWORD@db:5432/app"),
        ("MONGODB_URI", "mongodb://root:example@localhost:27017"), ("MONGODB_URI", "mongodb+srv://admin:<password>@cluster0.abcde.mongodb.net/test"),
        ("MONGODB_URI", "mongodb+srv://app:<db_password>@cluster0.mongodb.net/"), ("MONGO_URL", "mongodb://app:${MONGO_PASSWORD}@mongo:27017/app"),
        ("AMQP_URL", "amqp://guest:guest@localhost:5672/"), ("REDIS_URL", "redis://:changeme@localhost:6379/0"),
        ("REDIS_URL", "redis://localhost:6379/0"), ("MYSQL_URL", "mysql://root:root@127.0.0.1:3306/test"),
        ("DATABASE_URL", "mysql://user:****@db.acme.io/shop"), ("DATABASE_URL", "postgresql://app:%(password)s@db/app"),
        ("DATABASE_URL", "postgresql://app:{{ .Values.db.password }}@db/app"), ("JDBC_URL", "jdbc:postgresql://localhost:5432/app?user=app&password=${DB_PASS}"),
        ("ConnectionStrings__Default", "Server=localhost;Database=App;User Id=sa;Password=<password>;"),
        ("ConnectionStrings__Default", "Server=(localdb)\\mssqllocaldb;Database=App;Trusted_Connection=True;"),
        ("DATABASE_URL", "postgres://postgres:@localhost:5432/postgres"), ("SMTP_URL", "smtp://user:pass@localhost:1025"),
        ("DATABASE_URL", "postgresql://admin:admin@localhost:5432/dev"), ("DATABASE_URL", "mysql://test:test@localhost/test"),
    ]
    out = [_wrap_assign(rng, k, v) for k, v in vals]
    out.append(("compose.yaml", "services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: postgres\n"
                                "      POSTGRES_USER: postgres\n  mq:\n    image: rabbitmq:3\n    environment:\n"
                                "      RABBITMQ_DEFAULT_USER: guest\n      RABBITMQ_DEFAULT_PASS: guest\n"))
    out.append(("compose.yaml", "services:\n  mongo:\n    image: mongo\n    environment:\n      MONGO_INITDB_ROOT_USERNAME: root\n"
                                "      MONGO_INITDB_ROOT_PASSWORD: example\n"))
    return out


def neg_identifiers(rng):
    snippets = [
        ("ts", "export async function getUserAccessToken(userId: string): Promise<string> {\n"
               "  const refreshToken = await store.getRefreshToken(userId);\n  return exchangeRefreshToken(refreshToken);\n}\n"),
        ("py", "class TokenManager:\n    def __init__(self, api_key_header_name='X-Api-Key'):\n        self.api_key_header_name = api_key_header_name\n\n"
               "    def get_access_token(self, client_secret_provider):\n        return client_secret_provider.fetch_client_secret()\n"),
        ("java", "public interface CredentialService {\n    String getSecretAccessKeyForUser(String userId);\n"
                 "    void rotateApiKey(String apiKeyId);\n    boolean validatePasswordStrength(String password);\n}\n"),
        ("go", "func (c *Client) refreshAccessToken(ctx context.Context) (string, error) {\n\ttokenSource := c.oauthConfig.TokenSource(ctx, c.token)\n"
               "\tnewToken, err := tokenSource.Token()\n\treturn newToken.AccessToken, err\n}\n"),
        ("py", 'PASSWORD_MIN_LENGTH = 12\nAPI_KEY_HEADER = "X-Api-Key"\nTOKEN_TYPE = "Bearer"\nSECRET_KEY_SETTING = "DJANGO_SECRET_KEY"\n'),
        ("js", "const passwordField = document.querySelector('#password');\nconst apiKeyInput = form.elements.namedItem('apiKey');\n"
               "const secretName = 'stripeSecretKeyLive';\n"),
        ("yaml", "fields:\n  - name: password\n    type: password\n    required: true\n  - name: api_key\n    type: secret\n"
                 "  - name: access_token_ttl\n    type: duration\n    default: 3600s\n"),
        ("rs", "pub fn get_secret_access_key(profile: &Profile) -> Option<&str> {\n    profile.secret_access_key.as_deref()\n}\n\n"
               "pub const AUTHORIZATION_HEADER: &str = \"Authorization\";\n"),
        ("json", '{\n  "password": "",\n  "token_type": "bearer",\n  "expires_in": 3600,\n  "grant_type": "client_credentials"\n}\n'),
        ("sql", "CREATE TABLE api_keys (\n  id BIGSERIAL PRIMARY KEY,\n  user_id BIGINT NOT NULL,\n  key_hash TEXT NOT NULL,\n"
                "  last_used_at TIMESTAMPTZ\n);\nCREATE INDEX idx_api_keys_user_id ON api_keys(user_id);\n"),
        ("env", "TOKEN_EXPIRY_SECONDS=3600\nPASSWORD_RESET_URL=https://acme.io/reset\nAPI_KEY_PREFIX=acme_\nSECRET_ROTATION_DAYS=90\n"),
        ("py", "def hash_password(password: str, salt: bytes) -> bytes:\n    return hashlib.pbkdf2_hmac('sha256', password.encode(), salt, 600_000)\n"),
        ("ts", "type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };\n"
               "export const credentialKeys: (keyof Credentials)[] = ['accessKeyId', 'secretAccessKey', 'sessionToken'];\n"),
        ("yaml", "- name: Set password\n  ansible.builtin.user:\n    name: deploy\n    password: \"{{ deploy_password | password_hash('sha512') }}\"\n"),
        ("properties", "spring.security.oauth2.client.registration.github.client-secret=${GITHUB_CLIENT_SECRET}\n"
                       "security.password.min-length=12\nauth.token.header=Authorization\n"),
        ("py", "AWS_ACCESS_KEY_ID_ENV = 'AWS_ACCESS_KEY_ID'\nAWS_SECRET_ACCESS_KEY_ENV = 'AWS_SECRET_ACCESS_KEY'\n"
               "REQUIRED = [AWS_ACCESS_KEY_ID_ENV, AWS_SECRET_ACCESS_KEY_ENV]\n"),
        ("java", 'private static final String GITHUB_TOKEN_PROPERTY = "github.token";\nprivate static final String SECRET_KEY_ALGORITHM = "HmacSHA256";\n'),
        ("cs", 'public const string ClientSecretName = "AzureAd:ClientSecret";\npublic string ApiKeyHeaderName { get; set; } = "X-Api-Key";\n'),
        ("go", 'const (\n\tHeaderAuthorization = "Authorization"\n\tEnvGitlabToken      = "GITLAB_TOKEN"\n\tDefaultTokenTTL     = 15 * time.Minute\n)\n'),
        ("md", "### Authentication\n\nCall `getUserAccessToken()` and pass the result as `Authorization: Bearer <token>`.\n"
               "Tokens expire after one hour; use `refreshAccessToken()` to renew.\n"),
    ]
    return snippets


SOURCE_SNIPPETS = [
    ("py", '''"""Small inventory helpers."""
from dataclasses import dataclass


@dataclass
class Item:
    sku: str
    qty: int
    price_cents: int

    @property
    def total(self) -> int:
        return self.qty * self.price_cents


def restock(items, threshold=5):
    return [i for i in items if i.qty < threshold]
'''),
    ("rs", '''use std::collections::HashMap;

/// Count word frequencies in `text`.
pub fn word_counts(text: &str) -> HashMap<&str, usize> {
    let mut counts = HashMap::new();
    for w in text.split_whitespace() {
        *counts.entry(w).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn counts() {
        assert_eq!(word_counts("a b a")["a"], 2);
    }
}
'''),
    ("go", '''package ratelimit

import (
	"sync"
	"time"
)

// Limiter is a simple token bucket.
type Limiter struct {
	mu     sync.Mutex
	tokens float64
	rate   float64
	last   time.Time
}

func (l *Limiter) Allow() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	l.tokens += now.Sub(l.last).Seconds() * l.rate
	l.last = now
	if l.tokens >= 1 {
		l.tokens--
		return true
	}
	return false
}
'''),
    ("js", '''export function formatPrice(cents, currency = 'EUR') {
  return new Intl.NumberFormat('de-DE', { style: 'currency', currency }).format(cents / 100);
}

export function groupBy(list, key) {
  return list.reduce((acc, x) => {
    (acc[x[key]] ||= []).push(x);
    return acc;
  }, {});
}
'''),
    ("java", '''package io.acme.orders;

import java.util.List;
import java.util.stream.Collectors;

public final class OrderService {
    private final OrderRepository repo;

    public OrderService(OrderRepository repo) {
        this.repo = repo;
    }

    public List<Order> pending() {
        return repo.findAll().stream().filter(o -> !o.isShipped()).collect(Collectors.toList());
    }
}
'''),
    ("sh", '''#!/usr/bin/env bash
set -euo pipefail
for f in "$@"; do
  if [[ -f "$f" ]]; then
    gzip -9 --keep "$f"
    echo "compressed $f"
  fi
done
'''),
    ("yaml", '''name: ci
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - run: pip install -r requirements.txt
      - run: pytest -q
'''),
    ("c", '''#include <stdint.h>
#include <stddef.h>

uint32_t fnv1a(const uint8_t *data, size_t len) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= data[i];
        h *= 16777619u;
    }
    return h;
}
'''),
    ("Makefile", '''.PHONY: build test lint

build:
\tcargo build --release

test:
\tcargo test --all

lint:
\tcargo clippy -- -D warnings
'''),
    ("toml", '''[package]
name = "widgets"
version = "0.4.1"
edition = "2021"

[dependencies]
serde = { version = "1", features = ["derive"] }
anyhow = "1"
'''),
]


def neg_source_code(rng):
    out = list(SOURCE_SNIPPETS)
    # numeric / random-looking but harmless values
    out.append(("py", f"TEST_VECTORS = [\n    (b'', 0x{rng.hexs(8)}),\n    (b'abc', 0x{rng.hexs(8)}),\n]\n"
                      f"SEED = {rng.digits(19)}\n"))
    out.append(("json", json.dumps({"buildId": rng.digits(10), "version": "3.4.1", "commit": rng.hexs(7),
                                    "timestamp": "2025-03-02T12:00:00Z"}, indent=2) + "\n"))
    out.append(("txt", "".join(f"{rng.s(B62, 8)}\n" for _ in range(10))))  # short random ids (too short for any rule)
    out.append(("md", "# Widgets\n\nInstall with `pip install widgets` and run `widgets --help`.\n\n"
                      "| Flag | Meaning |\n|---|---|\n| `--token-file` | read the API token from a file |\n"))
    out.append(("ts", "export enum Role { Admin = 'admin', Viewer = 'viewer' }\nexport const ROLE_KEY = 'acme.role';\n"))
    return out


def neg_encrypted_secrets(rng):
    out = []
    for i in range(10):
        t = i % 3
        if t == 0:
            out.append(("enc.yaml", f"db_password: ENC[AES256_GCM,data:{rng.b64of(18)},iv:{rng.b64of(32)},tag:{rng.b64of(16)},type:str]\n"
                                    f"sops:\n    age:\n        - recipient: age1{rng.s(BECH32, 58)}\n"
                                    f"          enc: |\n            -----BEGIN AGE ENCRYPTED FILE-----\n            {rng.b64of(60)}\n"
                                    "            -----END AGE ENCRYPTED FILE-----\n"
                                    f"    lastmodified: \"2025-03-01T10:00:00Z\"\n    mac: ENC[AES256_GCM,data:{rng.b64of(48)},type:str]\n"
                                    "    version: 3.9.0\n"))
        elif t == 1:
            out.append(("vault.yml", "$ANSIBLE_VAULT;1.1;AES256\n" + "".join(rng.hexs(80) + "\n" for _ in range(5))))
        else:
            out.append(("yaml", "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: db\nspec:\n"
                                f"  encryptedData:\n    password: Ag{rng.s(B64, 300)}==\n"))
    return out


def neg_public_identifiers(rng):
    """Values documented as identifiers / public by design (not secrets)."""
    vals = [
        ("AWS_ROLE_UNIQUE_ID", lambda: "AROA" + rng.s(B32, 16)), ("IAM_USER_ID", lambda: "AIDA" + rng.s(B32, 16)),
        ("IAM_GROUP_ID", lambda: "AGPA" + rng.s(B32, 16)), ("STRIPE_ACCOUNT", lambda: "acct_" + rng.s(B62, 16)),
        ("STRIPE_CUSTOMER", lambda: "cus_" + rng.s(B62, 14)),
        ("GOOGLE_CLIENT_ID", lambda: rng.digits(12) + "-" + rng.s(B36, 32) + ".apps.googleusercontent.com"),
        ("OPENAI_ORG_ID", lambda: "org-" + rng.s(B62, 24)), ("OPENAI_PROJECT_ID", lambda: "proj_" + rng.s(B62, 24)),
        ("MAPBOX_ACCESS_TOKEN", lambda: "pk." + b64url_json({"u": "acme-maps", "a": rng.s(B36, 25)}) + "." + rng.s(B64URL, 22)),
        ("GA_MEASUREMENT_ID", lambda: "G-" + rng.s(UPALNUM, 10)), ("SLACK_CHANNEL_ID", lambda: "C" + rng.s(UPALNUM, 10)),
        ("ALGOLIA_APP_ID", lambda: rng.s(UPALNUM, 10)), ("SQUARE_APPLICATION_ID", lambda: "sq0idp-" + rng.s(B64URL, 22)),
        ("POSTHOG_PROJECT_KEY", lambda: "phc_" + rng.s(B62, 43)), ("MAILGUN_PUBLIC_KEY", lambda: "pubkey-" + rng.hexs(32)),
        ("NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY", lambda: "pk_live_" + rng.s(B62, 24)),
        ("LAUNCHDARKLY_CLIENT_SIDE_ID", lambda: rng.hexs(24)),
    ]
    return [_wrap_assign(rng, k, g()) for k, g in vals]


def neg_non_secret_values(rng):
    """Secret-named keys whose value is a path, URL without credentials, boolean, number or file reference (§G 4)."""
    vals = [("SECRET_KEY_FILE", "/run/secrets/django_secret_key"), ("password_file", "/etc/app/db_password"),
            ("token_path", "/var/run/secrets/kubernetes.io/serviceaccount/token"), ("API_KEY_URL", "https://docs.acme.io/api-keys"),
            ("PASSWORD_AUTH", "true"), ("TOKEN_TTL", "3600"), ("GOOGLE_APPLICATION_CREDENTIALS", "/secrets/gcp/sa.json"),
            ("PRIVATE_KEY_PATH", "~/.ssh/id_ed25519"), ("AUTH_URL", "https://login.microsoftonline.com/common/oauth2/v2.0/token"),
            ("SECRETS_BACKEND", "vault"), ("TOKEN", "null"), ("PASSWORD", "none"), ("API_KEY", "undefined"),
            ("CLIENT_SECRET", "false"), ("OKTA_ORG_URL", "https://acme.okta.com"), ("VAULT_ADDR", "https://vault.acme.io:8200"),
            ("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"), ("JWT_ALGORITHM", "RS256"), ("JWT_PUBLIC_KEY_URL",
            "https://auth.acme.io/.well-known/jwks.json"), ("DATABASE_URL", "sqlite:///./app.db")]
    return [_wrap_assign(rng, k, v) for k, v in vals]


def neg_minified_generated(rng):
    out = []
    for _ in range(6):
        ids = [rng.s(LETTERS, rng.randint(1, 3)) for _ in range(400)]
        body = ";".join(f"var {a}=function({b},{c}){{return {b}.{rng.s(LETTERS, 6)}({c})}}" for a, b, c in zip(ids, ids[1:], ids[2:]))
        out.append(("min.js", "!function(){" + body + "}();\n"))
    for _ in range(4):
        out.append(("js.map", json.dumps({"version": 3, "file": "app.min.js", "sources": ["src/app.ts"],
                                          "mappings": ";".join(rng.s(B64, rng.randint(4, 12)) for _ in range(300))}) + "\n"))
    for _ in range(4):
        raw = ", ".join(f"0x{rng.hexs(2)}" for _ in range(160))
        out.append(("pb.go", "// Code generated by protoc-gen-go. DO NOT EDIT.\n// source: orders.proto\n\npackage orderspb\n\n"
                              f"var file_orders_proto_rawDesc = []byte{{\n\t{raw},\n}}\n"))
    return out


NEGATIVE_CATEGORIES = [
    ("aws_example_keys", neg_aws_examples), ("jwt_samples", neg_jwt_samples), ("placeholders", neg_placeholders),
    ("provider_doc_examples", neg_provider_doc_examples), ("wrong_length", neg_wrong_length),
    ("wrong_alphabet", neg_wrong_alphabet), ("wrong_checksum", neg_wrong_checksum), ("env_references", neg_env_references),
    ("uuids", neg_uuids), ("git_shas", neg_git_shas), ("lockfile_integrity", neg_lockfiles), ("cargo_lock", neg_cargo_lock),
    ("go_sum", neg_go_sum), ("content_hashes", neg_hashes), ("css_colours", neg_css_colours), ("base64_images", neg_base64_images),
    ("public_keys_certs", neg_public_keys), ("private_key_placeholders", neg_private_key_placeholders),
    ("connection_string_placeholders", neg_connection_strings), ("identifiers", neg_identifiers),
    ("source_code", neg_source_code), ("encrypted_secrets", neg_encrypted_secrets), ("public_identifiers", neg_public_identifiers),
    ("non_secret_values", neg_non_secret_values), ("minified_generated", neg_minified_generated),
]


# ---------------------------------------------------------------------------
# driver
# ---------------------------------------------------------------------------
def _ext_path(root: str, sub: str, idx: int, ext: str) -> tuple[str, str]:
    rel = os.path.join(root, sub, f"{idx}.{ext}")
    return rel, rel


def generate(outdir: str, seed: int) -> tuple[int, int]:
    rng = R(seed)
    for sub in ("positive", "negative"):
        p = os.path.join(outdir, sub)
        if os.path.isdir(p):
            shutil.rmtree(p)
    os.makedirs(outdir, exist_ok=True)
    labels = []
    counters: dict[str, int] = {}

    def write(rel: str, text: str):
        full = os.path.join(outdir, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)

    # positives ------------------------------------------------------------------
    specs = build_specs() + build_specs_tier3_generic()
    for spec in specs:
        options = [("t", t) for t in spec.templates] + [("s", f) for f in spec.special]
        # specials first (they are the most realistic carriers), then a random spread of syntaxes
        specials = [o for o in options if o[0] == "s"]
        generic = [o for o in options if o[0] == "t"]
        rng.shuffle(specials)
        rng.shuffle(generic)
        picks = (specials[:max(1, spec.n // 2)] + generic)[:spec.n] if specials else generic[:spec.n]
        while len(picks) < spec.n:
            picks.append(rng.choice(options))
        for how, t in picks:
            secret = spec.gen(rng)
            value = spec.wrap(rng, secret) if spec.wrap else secret
            name = rng.choice(spec.names)
            extras = [(k, g(rng)) for k, g in spec.extras]
            ctx = Ctx(rng, name, value, extras=extras, header=spec.header, host=spec.host, kw=spec.kw)
            ctx.secret = secret
            ext, text = (TEMPLATES[t](ctx) if how == "t" else t(ctx))
            if secret not in text:  # label the form that is actually in the file
                for alt in (json.dumps(secret)[1:-1], xml_attr(secret)):
                    if alt in text:
                        secret = alt
                        break
            if secret not in text:
                raise AssertionError(f"{spec.provider}/{spec.kind}: secret not found verbatim in {how}:{getattr(t, '__name__', t)}")
            counters[spec.provider] = counters.get(spec.provider, 0) + 1
            rel = os.path.join("positive", spec.provider, f"{counters[spec.provider]}.{ext}")
            write(rel, text)
            labels.append({"path": rel, "label": "positive", "provider": spec.provider, "kind": spec.kind,
                           "secret": secret})
    npos = len(labels)

    # negatives ------------------------------------------------------------------
    for cat, fn in NEGATIVE_CATEGORIES:
        for i, (ext, text) in enumerate(fn(rng), 1):
            rel = os.path.join("negative", cat, f"{i}.{ext}")
            write(rel, text)
            labels.append({"path": rel, "label": "negative", "provider": None, "kind": cat, "secret": None})

    with open(os.path.join(outdir, "labels.jsonl"), "w", encoding="utf-8") as fh:
        for rec in labels:
            fh.write(json.dumps(rec, sort_keys=True) + "\n")
    return npos, len(labels) - npos


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1); same seed, same corpus")
    args = ap.parse_args()
    npos, nneg = generate(args.outdir, args.seed)
    providers = len({d for d in os.listdir(os.path.join(args.outdir, "positive"))})
    cats = len(os.listdir(os.path.join(args.outdir, "negative")))
    print(f"wrote {npos} positive files ({providers} providers) and {nneg} negative files ({cats} categories) to {args.outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
