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
        if len(v) >= 8 and len(set(v)) <= max(4, len(v) // 6):
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
def snake(name: str) -> str:
    return name.lower()


def camel(name: str) -> str:
    parts = [p for p in name.lower().split("_") if p]
    return parts[0] + "".join(p.capitalize() for p in parts[1:])


def pascal(name: str) -> str:
    return "".join(p.capitalize() for p in name.lower().split("_") if p)


def dotted(name: str) -> str:
    return ".".join(p for p in name.lower().split("_") if p)


def kebab(name: str) -> str:
    return "-".join(p for p in name.lower().split("_") if p)


def service_of(name: str) -> str:
    return name.split("_")[0].lower() if "_" in name else "app"


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
    lines += [f"{k}={v}" for k, v in _fill(rng)]
    lines.append("")
    lines += [f"{k}={v}" for k, v in c.extras]
    v = c.value if all(ch not in c.value for ch in " #'\"$") else '"' + c.value + '"'
    if "$" in c.value:
        v = "'" + c.value + "'"
    lines.append(f"{c.name}={v}")
    lines += [f"{k}={v}" for k, v in _fill(rng, lo=0, hi=2)]
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
