#!/usr/bin/env python3
"""Generate the deterministic benchmark corpus used by scripts/bench.sh.

Usage:
    python3 scripts/bench/corpus.py OUTDIR [--size-mb 300] [--seed 1]

Writes a tree of source-like files under OUTDIR: twelve "projects" with
nested directories, each holding code (.py .js .ts .go .rs .java), config and
data (.json .yaml .env .tf), docs (.md), lockfiles (package-lock.json,
yarn.lock, Cargo.lock, go.sum), minified bundles (.min.js) and a few binary
images (.png). Sizes follow what public source trees look like: most files are
a few KB, a few are several MB (lockfiles, bundles, JSON data). About one file
in 120 gets a fake key of one of a dozen providers, in the syntax of its file
type. Nothing in the corpus is a real credential.

The same --size-mb and --seed always give byte-identical output (Python 3.9+,
standard library only). A JSON summary (files, bytes, keys planted per
provider; no key values) is printed on stdout.
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
import zlib

VERSION = 1  # bump when the output changes, so bench.sh regenerates cached corpora

B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
B64 = B62 + "+/"
B64URL = B62 + "-_"
B32 = string.ascii_uppercase + "234567"
HEX = "0123456789abcdef"
B36 = string.digits + string.ascii_lowercase
# substrings a scanner may treat as placeholder text: kept out of fake keys
BAD = ("test", "fake", "demo", "exampl", "sample", "dummy", "xxxx", "todo", "redact", "secret",
       "token", "passw", "abcd", "1234", "0000", "aaaa")

# Common identifier words, most frequent first (weights fall off like a Zipf law).
WORDS = """
get set data value name id type item list key user config result error index
file path size count string new find create update read write load save check
parse format node request response context options params message event handle
time date start end info log debug test default init open close run send build
option field status state object map table query row column model view service
client server url host port address session cache buffer offset length text
token auth api http json input output source target items entry entries group
filter sort order page limit total min max first last next prev parent child
root tree line lines char bytes byte number flag flags mode level version tag
tags label labels match pattern rule rules scope local global remote repo
branch commit diff patch hash sum check valid invalid enabled disabled active
account email password secret access permission role admin owner member team
project org task job queue worker pool thread lock wait timeout retry delay
callback handler listener observer factory builder manager provider registry
store storage db database schema migration record records entity payload
header headers body content meta metadata extra env environment region zone
cluster instance container image volume network route router controller
component props children render style theme color width height top left
client_id user_id order_id created updated deleted visible hidden public
private internal util utils helper helpers common core base main app
""".split()

SENTENCE_WORDS = """
the a to of and in is it that for this we if not be with on as are by or
when from at return returns value values should can will must may have has
used use uses using only all any each one two new old first last next before
after into out over without already still never always also otherwise then
file files line lines path paths user users request requests response error
errors config configuration option options default key keys token tokens
cache data table row rows field fields list map set item items result results
call calls called handle handles handled check checks checked read reads write
writes update updates create creates delete deletes load loads save saves
parse parses return returned empty null missing invalid valid current given
""".split()

# Words a secret scanner keys on, made rarer so their density per MB is close to
# that of public JS/TS/Python/Go trees (e.g. "key" a few hundred times per MB).
DAMP = {"key": 0.25, "keys": 0.25, "value": 0.2, "values": 0.2, "token": 0.1, "tokens": 0.1,
        "api": 0.25, "auth": 0.3, "secret": 0.05, "password": 0.1, "private": 0.15,
        "access": 0.3, "permission": 0.5, "session": 0.5}

HOSTS = ["api.internal", "localhost", "example.org", "cdn.jsdelivr.net", "registry.npmjs.org",
         "github.com", "docs.python.org", "golang.org", "crates.io", "s3.amazonaws.com",
         "storage.googleapis.com", "hub.docker.com", "www.w3.org", "schemas.microsoft.com"]

PKG_NAMES = """
react lodash express axios chalk debug commander yargs glob minimatch semver
uuid moment dayjs webpack babel-core eslint prettier typescript jest mocha
rxjs tslib zone-js vue svelte next postcss autoprefixer sass less
serde tokio rand regex log clap anyhow thiserror bytes futures hyper tower
tracing libc syn quote proc-macro2 itertools once_cell parking_lot memchr
""".split()

SCOPES = ["@babel", "@types", "@angular", "@aws-sdk", "@google-cloud", "@jest", "@vue", "@nestjs"]


class Gen:
    """All randomness goes through one seeded generator."""

    def __init__(self, seed: int):
        self.r = random.Random(seed)
        weights = [DAMP.get(w, 1.0) / (i + 1) ** 0.9 for i, w in enumerate(WORDS)]
        self.word_cum = list(_accumulate(weights))
        sweights = [DAMP.get(w, 1.0) / (i + 1) ** 0.7 for i, w in enumerate(SENTENCE_WORDS)]
        self.sent_cum = list(_accumulate(sweights))

    def word(self) -> str:
        return self.r.choices(WORDS, cum_weights=self.word_cum)[0]

    def words(self, lo=1, hi=3) -> list:
        return self.r.choices(WORDS, cum_weights=self.word_cum, k=self.r.randint(lo, hi))

    def snake(self, lo=1, hi=3) -> str:
        return "_".join(self.words(lo, hi))

    def camel(self, lo=1, hi=3) -> str:
        w = self.words(lo, hi)
        return w[0] + "".join(x.capitalize() for x in w[1:])

    def pascal(self, lo=1, hi=3) -> str:
        return "".join(x.capitalize() for x in self.words(lo, hi))

    def upper(self, lo=1, hi=3) -> str:
        return self.snake(lo, hi).upper()

    def sentence(self, lo=4, hi=14) -> str:
        w = self.r.choices(SENTENCE_WORDS, cum_weights=self.sent_cum, k=self.r.randint(lo, hi))
        return " ".join(w).capitalize()

    def num(self) -> str:
        return str(self.r.choice([0, 1, 2, 3, 8, 10, 16, 32, 64, 100, 128, 256, 1000, 1024, 4096,
                                  self.r.randint(0, 99999)]))

    def url(self) -> str:
        scheme = self.r.choice(["https", "https", "https", "http"])
        return f"{scheme}://{self.r.choice(HOSTS)}/{self.snake(1, 2)}/{self.snake(1, 2)}"

    def s(self, alphabet: str, n: int) -> str:
        while True:
            v = "".join(self.r.choices(alphabet, k=n))
            low = v.lower()
            if not any(b in low for b in BAD):
                return v

    def hexs(self, n: int) -> str:
        return "".join(self.r.choices(HEX, k=n))

    def b64(self, nbytes: int) -> str:
        return base64.b64encode(self.r.randbytes(nbytes)).decode()

    def version(self) -> str:
        r = self.r
        return f"{r.randint(0, 12)}.{r.randint(0, 30)}.{r.randint(0, 40)}"

    def pkg(self) -> str:
        r = self.r
        base = r.choice(PKG_NAMES) if r.random() < 0.5 else self.snake(1, 2).replace("_", "-")
        return f"{r.choice(SCOPES)}/{base}" if r.random() < 0.15 else base


def _accumulate(xs):
    total = 0.0
    for x in xs:
        total += x
        yield total


# ---------------------------------------------------------------------------
# code: each language has statement and block generators; files are built from
# a pool of pre-generated blocks so that hundreds of MB take seconds
# ---------------------------------------------------------------------------

def py_stmt(g: Gen, ind: str) -> list:
    r = g.r
    k = r.randint(0, 11)
    a, b = g.snake(), g.snake()
    if k == 0:
        return [f"{ind}{a} = {b}.{g.snake(1, 2)}({g.snake()}, {g.num()})"]
    if k == 1:
        return [f"{ind}if {a} is None:", f"{ind}    raise ValueError(\"{g.sentence()}\")"]
    if k == 2:
        return [f"{ind}for {a} in {b}:", f"{ind}    {g.snake()}.append({a}.{g.snake(1, 1)})"]
    if k == 3:
        return [f"{ind}# {g.sentence()}"]
    if k == 4:
        return [f"{ind}{a}[\"{g.snake(1, 2)}\"] = {g.snake()}"]
    if k == 5:
        return [f"{ind}logger.{r.choice(['debug', 'info', 'warning'])}(\"{g.sentence(3, 8)} %s\", {a})"]
    if k == 6:
        return [f"{ind}return {a}"]
    if k == 7:
        return [f"{ind}{a} = {{", f"{ind}    \"{g.snake(1, 1)}\": {g.snake()},",
                f"{ind}    \"{g.snake(1, 1)}\": \"{g.url() if r.random() < 0.3 else g.sentence(2, 5)}\",", f"{ind}}}"]
    if k == 8:
        return [f"{ind}with open({a}, \"{r.choice('rw')}\") as {g.word()[0]}:",
                f"{ind}    {b} = json.load({a})"]
    if k == 9:
        return [f"{ind}try:", f"{ind}    {a} = self.{g.snake()}({b})",
                f"{ind}except {g.pascal(1, 2)}Error as e:", f"{ind}    raise {g.pascal(1, 2)}Error(e)"]
    if k == 10:
        return [""]
    return [f"{ind}self.{a} = {b} or {g.num()}"]


def py_block(g: Gen) -> list:
    r = g.r
    ind = "    " if r.random() < 0.5 else ""
    args = ", ".join(g.snake(1, 2) for _ in range(r.randint(0, 4)))
    if ind:
        args = "self" + (", " + args if args else "")
    lines = [f"{ind}def {g.snake()}({args}):"]
    if r.random() < 0.6:
        lines.append(f"{ind}    \"\"\"{g.sentence(5, 15)}.\"\"\"")
    for _ in range(r.randint(2, 14)):
        lines += py_stmt(g, ind + "    ")
    lines.append("")
    return lines


def py_header(g: Gen) -> list:
    mods = ["os", "sys", "json", "logging", "re", "time", "typing", "pathlib", "dataclasses"]
    lines = [f"\"\"\"{g.sentence(6, 12)}.\"\"\"", ""]
    lines += [f"import {m}" for m in g.r.sample(mods, g.r.randint(1, 5))]
    lines += [f"from .{g.snake(1, 2)} import {g.pascal()}, {g.snake()}" for _ in range(g.r.randint(0, 4))]
    lines += ["", "logger = logging.getLogger(__name__)", "", "",
              f"class {g.pascal()}({g.r.choice(['object', 'Base', 'Exception', 'dict'])}):",
              f"    \"\"\"{g.sentence(5, 12)}.\"\"\"", ""]
    return lines


def c_stmt(g: Gen, ind: str, lang: str) -> list:
    """Statements for the C-like languages (js, ts, go, rs, java)."""
    r = g.r
    k = r.randint(0, 10)
    a, b = g.camel(), g.camel()
    decl = {"js": "const ", "ts": "const ", "go": "", "rs": "let ", "java": "final var "}[lang]
    assign = " := " if lang == "go" else " = "
    end = "" if lang == "go" else ";"
    s = '"'
    if k == 0:
        return [f"{ind}{decl}{a}{assign}{b}.{g.camel(1, 2)}({g.camel()}, {g.num()}){end}"]
    if k == 1:
        cond = f"{a} == nil" if lang == "go" else (f"{a}.is_none()" if lang == "rs" else f"{a} == null")
        if lang in ("go", "rs"):
            head = f"{ind}if {cond} {{"
        else:
            head = f"{ind}if ({cond}) {{"
        err = {"js": f"throw new Error({s}{g.sentence()}{s});",
               "ts": f"throw new Error({s}{g.sentence()}{s});",
               "go": f"return fmt.Errorf({s}{g.sentence(3, 8)}: %w{s}, err)",
               "rs": f"return Err(Error::{g.pascal(1, 2)}({s}{g.sentence(3, 8)}{s}.into()));",
               "java": f"throw new IllegalStateException({s}{g.sentence()}{s});"}[lang]
        return [head, f"{ind}    {err}", f"{ind}}}"]
    if k == 2:
        if lang == "go":
            return [f"{ind}for _, {a} := range {b} {{", f"{ind}\t{g.camel()} = append({g.camel()}, {a}.{g.pascal(1, 1)})", f"{ind}}}"]
        if lang == "rs":
            return [f"{ind}for {g.snake(1, 1)} in {g.snake()}.iter() {{", f"{ind}    {g.snake()}.push({g.snake(1, 1)}.{g.snake(1, 1)}.clone());", f"{ind}}}"]
        if lang == "java":
            return [f"{ind}for (var {a} : {b}) {{", f"{ind}    {g.camel()}.add({a}.get{g.pascal(1, 1)}());", f"{ind}}}"]
        return [f"{ind}for (const {a} of {b}) {{", f"{ind}  {g.camel()}.push({a}.{g.camel(1, 1)});", f"{ind}}}"]
    if k == 3:
        return [f"{ind}// {g.sentence()}"]
    if k == 4:
        return [f"{ind}{a}.{g.camel(1, 2)}({s}{g.snake(1, 3)}{s}, {g.camel()}){end}"]
    if k == 5:
        return [f"{ind}return {a}{end}"]
    if k == 6:
        return [""]
    if k == 7:
        v = g.url() if r.random() < 0.3 else f"{g.snake(1, 2)}.{r.choice(['json', 'txt', 'yaml'])}"
        return [f"{ind}{decl}{a}{assign}{s}{v}{s}{end}"]
    if k == 8 and lang in ("js", "ts"):
        return [f"{ind}{decl}{{ {g.camel(1, 1)}, {g.camel(1, 1)} }} = await {g.camel()}({s}/{g.snake(1, 2)}{s}, {{",
                f"{ind}  method: {s}{r.choice(['GET', 'POST', 'PUT'])}{s},",
                f"{ind}  headers: {{ {s}Content-Type{s}: {s}application/json{s} }},", f"{ind}}});"]
    if k == 9:
        return [f"{ind}log.{r.choice(['debug', 'info', 'warn'])}({s}{g.sentence(3, 9)}{s}, {a}){end}"]
    return [f"{ind}{a}{' = ' if lang != 'go' else ' = '}{b} + {g.num()}{end}"]


def c_block(g: Gen, lang: str) -> list:
    r = g.r
    name = g.camel()
    n = r.randint(2, 12)
    if lang in ("js", "ts"):
        ty = ": " + r.choice(["string", "number", "boolean", "Promise<void>", g.pascal()]) if lang == "ts" else ""
        args = ", ".join(g.camel(1, 2) + (": " + r.choice(["string", "number", g.pascal(1, 2)]) if lang == "ts" else "") for _ in range(r.randint(0, 3)))
        lines = [f"/**", f" * {g.sentence()}.", f" */"] if r.random() < 0.4 else []
        lines.append(f"{'export ' if r.random() < 0.4 else ''}{'async ' if r.random() < 0.3 else ''}function {name}({args}){ty} {{")
        ind = "  "
    elif lang == "go":
        args = ", ".join(f"{g.camel(1, 2)} {r.choice(['string', 'int', 'bool', '[]byte', '*' + g.pascal()])}" for _ in range(r.randint(0, 3)))
        recv = f"({g.word()[0]} *{g.pascal()}) " if r.random() < 0.5 else ""
        lines = [f"// {g.pascal()} {g.sentence().lower()}."] if r.random() < 0.5 else []
        lines.append(f"func {recv}{g.pascal()}({args}) ({r.choice(['string', 'int', '*' + g.pascal()])}, error) {{")
        ind = "\t"
    elif lang == "rs":
        args = ", ".join(f"{g.snake(1, 2)}: {r.choice(['&str', 'usize', 'bool', '&[u8]', '&' + g.pascal()])}" for _ in range(r.randint(0, 3)))
        lines = [f"    /// {g.sentence()}."] if r.random() < 0.6 else []
        lines.append(f"    {'pub ' if r.random() < 0.5 else ''}fn {g.snake()}(&self{', ' + args if args else ''}) -> Result<{g.pascal(1, 2)}, Error> {{")
        ind = "        "
    else:
        args = ", ".join(f"{r.choice(['String', 'int', 'long', 'boolean', g.pascal()])} {g.camel(1, 2)}" for _ in range(r.randint(0, 3)))
        lines = [f"    /** {g.sentence()}. */"] if r.random() < 0.5 else []
        lines.append(f"    {r.choice(['public', 'private', 'protected'])} {r.choice(['void', 'String', 'int', g.pascal()])} {name}({args}) {{")
        ind = "        "
    for _ in range(n):
        lines += c_stmt(g, ind, lang)
    lines.append({"js": "}", "ts": "}", "go": "}", "rs": "    }", "java": "    }"}[lang])
    lines.append("")
    return lines


def c_header(g: Gen, lang: str) -> list:
    r = g.r
    if lang in ("js", "ts"):
        lines = [f"import {{ {g.camel()}, {g.camel()} }} from '{r.choice(['./', '../'])}{g.camel(1, 2)}';" for _ in range(r.randint(1, 6))]
        lines += [f"import {g.camel(1, 1)} from '{g.pkg()}';" for _ in range(r.randint(0, 3))]
        return ["'use strict';", ""] + lines + [""]
    if lang == "go":
        imps = r.sample(["fmt", "errors", "io", "os", "strings", "context", "net/http", "encoding/json", "time", "sync"], r.randint(2, 6))
        return [f"// Package {g.word()} {g.sentence().lower()}.", f"package {g.word()}", "", "import ("] + [f"\t\"{m}\"" for m in imps] + [")", "",
                f"type {g.pascal()} struct {{"] + [f"\t{g.pascal()} {r.choice(['string', 'int', 'bool', 'time.Time'])} `json:\"{g.snake()}\"`" for _ in range(r.randint(1, 6))] + ["}", ""]
    if lang == "rs":
        lines = [f"//! {g.sentence()}.", ""] + [f"use crate::{g.snake(1, 1)}::{{{g.pascal()}, {g.snake()}}};" for _ in range(r.randint(1, 4))]
        lines += ["use std::collections::HashMap;", "", "#[derive(Debug, Clone)]", f"pub struct {g.pascal()} {{"]
        lines += [f"    {g.snake()}: {r.choice(['String', 'usize', 'bool', 'Vec<u8>', 'HashMap<String, String>'])}," for _ in range(r.randint(1, 6))]
        return lines + ["}", "", f"impl {g.pascal()} {{"]
    lines = [f"package com.{g.word()}.{g.word()};", ""] + [f"import java.util.{r.choice(['List', 'Map', 'Optional', 'ArrayList', 'HashMap'])};" for _ in range(r.randint(1, 5))]
    return lines + ["", "/**", f" * {g.sentence()}.", " */", f"public class {g.pascal()} {{", ""]


def c_footer(lang: str) -> list:
    return ["}", ""] if lang in ("rs", "java") else []


LANGS = ["py", "js", "ts", "go", "rs", "java"]


def make_pools(g: Gen, blocks_per_lang: int) -> dict:
    pools = {}
    for lang in LANGS:
        blocks = []
        for _ in range(blocks_per_lang):
            lines = py_block(g) if lang == "py" else c_block(g, lang)
            blocks.append("\n".join(lines) + "\n")
        pools[lang] = blocks
    # minified bundles: short identifiers, long lines
    mins = []
    for _ in range(blocks_per_lang):
        r = g.r
        ids = [r.choice(string.ascii_letters) + r.choice(string.ascii_letters + "$_" + string.digits + "  ").strip() for _ in range(6)]
        parts = [
            f"function({ids[0]},{ids[1]},{ids[2]}){{\"use strict\";var {ids[3]}={ids[2]}({g.r.randint(0, 999)}),{ids[4]}={ids[2]}.n({ids[3]})",
            f"{ids[0]}.exports={{{g.camel(1, 2)}:function(){{return {ids[4]}.{g.camel()}}},{g.camel(1, 1)}:\"{g.sentence(2, 6)}\"}}",
            f"{ids[1]}.{g.camel()}=function({ids[5]}){{return null!=={ids[5]}&&\"object\"==typeof {ids[5]}&&!Array.isArray({ids[5]})}}",
            f"var {ids[3]}=\"{g.url()}\",{ids[4]}=[\"{g.camel()}\",\"{g.camel()}\",\"{g.snake()}\"]",
            f"return {ids[0]}.{g.camel()}({ids[1]},{{{g.camel(1, 1)}:{g.num()},{g.camel(1, 1)}:!0,{g.camel(1, 1)}:void 0}})",
            f"}},{g.r.randint(1, 99999)}:function({ids[0]},{ids[1]}){{",
        ]
        mins.append(";".join(r.sample(parts, r.randint(3, 6))))
    pools["min"] = mins
    return pools


def code_file(g: Gen, pools: dict, lang: str, size: int) -> str:
    header = py_header(g) if lang == "py" else c_header(g, lang)
    out = ["\n".join(header) + "\n"]
    n = len(out[0])
    blocks = pools[lang]
    while n < size:
        b = blocks[g.r.randrange(len(blocks))]
        out.append(b)
        n += len(b)
    out += ["\n".join(c_footer(lang))] if lang != "py" else []
    return "".join(out)


def minified_file(g: Gen, pools: dict, size: int) -> str:
    """A webpack-style bundle: a license comment, then lines of 30-500 KB."""
    out = [f"/*! {g.pkg()} v{g.version()} | (c) {g.pascal()} | MIT License */\n"]
    n = len(out[0])
    line, ln = [], 0
    limit = g.r.randint(30_000, 500_000)
    mins = pools["min"]
    while n < size:
        piece = mins[g.r.randrange(len(mins))]
        line.append(piece)
        ln += len(piece) + 1
        n += len(piece) + 1
        if ln > limit:
            out.append(";".join(line) + "\n")
            line, ln = [], 0
    if line:
        out.append(";".join(line) + "\n")
    return "".join(out)


# ---------------------------------------------------------------------------
# config, data, docs, lockfiles
# ---------------------------------------------------------------------------

def rand_scalar(g: Gen):
    r = g.r
    k = r.randint(0, 7)
    if k == 0:
        return r.randint(0, 100000)
    if k == 1:
        return r.random() < 0.5
    if k == 2:
        return g.url() if r.random() < 0.3 else g.camel(1, 2)
    if k == 3:
        return g.sentence(2, 8)
    if k == 4:
        return f"{g.snake(1, 2)}-{g.version()}"
    if k == 5:
        return None
    return g.snake(1, 2)


def rand_obj(g: Gen, depth: int) -> dict:
    obj = {}
    for _ in range(g.r.randint(2, 8)):
        if depth > 0 and g.r.random() < 0.3:
            obj[g.snake(1, 2)] = rand_obj(g, depth - 1)
        elif depth > 0 and g.r.random() < 0.1:
            obj[g.snake(1, 2)] = [rand_scalar(g) for _ in range(g.r.randint(1, 5))]
        else:
            obj[g.camel(1, 2)] = rand_scalar(g)
    return obj


def json_file(g: Gen, size: int) -> str:
    if size < 20_000:
        return json.dumps(rand_obj(g, 3), indent=2) + "\n"
    # data file: an array of records
    recs, n = [], 0
    i = 0
    while n < size:
        i += 1
        rec = {"id": i, "uuid": "%08x-%04x-%04x-%04x-%012x" % tuple(g.r.getrandbits(b) for b in (32, 16, 16, 16, 48)),
               "name": g.pascal(1, 2), "description": g.sentence(4, 16),
               "created_at": f"20{g.r.randint(15, 25)}-{g.r.randint(1, 12):02d}-{g.r.randint(1, 28):02d}T{g.r.randint(0, 23):02d}:{g.r.randint(0, 59):02d}:00Z",
               "tags": [g.word() for _ in range(g.r.randint(0, 4))], "score": round(g.r.random() * 100, 3),
               g.snake(1, 1): rand_scalar(g)}
        s = json.dumps(rec)
        recs.append(s)
        n += len(s) + 4
    return "[\n  " + ",\n  ".join(recs) + "\n]\n"


def yaml_file(g: Gen, size: int) -> str:
    r = g.r
    out, n = [], 0
    while n < size:
        k = r.randint(0, 2)
        if k == 0:
            app = g.snake(1, 2).replace("_", "-")
            doc = ["apiVersion: apps/v1", "kind: Deployment", "metadata:", f"  name: {app}", "  labels:", f"    app: {app}",
                   "spec:", f"  replicas: {r.randint(1, 5)}", "  template:", "    spec:", "      containers:",
                   f"        - name: {app}", f"          image: {g.r.choice(['ghcr.io', 'docker.io'])}/{g.word()}/{app}:{g.version()}",
                   "          env:"]
            for _ in range(r.randint(1, 6)):
                var = g.upper()
                if r.random() < 0.1:
                    doc += [f"            - name: {var}", "              valueFrom:", "                secretKeyRef:",
                            f"                  name: {app}-secrets", f"                  key: {g.snake(1, 2)}"]
                else:
                    doc += [f"            - name: {var}", f"              value: \"{rand_scalar(g)}\""]
            doc += ["          ports:", f"            - containerPort: {r.choice([80, 443, 3000, 8080, 9090])}", "---"]
        elif k == 1:
            doc = [f"name: {g.sentence(2, 4)}", "on:", "  push:", "    branches: [main]", "  pull_request:", "jobs:",
                   f"  {g.snake(1, 1)}:", "    runs-on: ubuntu-latest", "    steps:", "      - uses: actions/checkout@v4"]
            for _ in range(r.randint(1, 6)):
                doc += [f"      - name: {g.sentence(2, 5)}", f"        run: {r.choice(['npm', 'cargo', 'go', 'make', 'python -m'])} {g.word()} {g.word()}"]
                if r.random() < 0.1:
                    doc += ["        env:", f"          {g.upper()}: ${{{{ secrets.{g.upper()} }}}}"]
        else:
            doc = [f"# {g.sentence()}"]
            for _ in range(r.randint(3, 15)):
                doc.append(f"{g.snake(1, 2)}:")
                for _ in range(r.randint(1, 5)):
                    v = rand_scalar(g)
                    doc.append(f"  {g.snake(1, 2)}: {json.dumps(v) if isinstance(v, str) and ':' in v else v}")
        s = "\n".join(doc) + "\n"
        out.append(s)
        n += len(s)
    return "".join(out)


def env_file(g: Gen) -> str:
    r = g.r
    lines = [f"# {g.sentence()}"]
    for _ in range(r.randint(3, 25)):
        var = g.upper()
        v = r.choice([str(r.choice([80, 3000, 5432, 6379, 8080])), "true", "false", "info", "debug",
                      f"${{{g.upper()}}}", g.url(), f"postgres://app:${{DB_PASSWORD}}@db:5432/{g.word()}",
                      g.snake(1, 2), f"/var/lib/{g.word()}/{g.word()}"])
        lines.append(f"{var}={v}")
        if r.random() < 0.1:
            lines.append("")
    return "\n".join(lines) + "\n"


def tf_file(g: Gen, size: int) -> str:
    r = g.r
    out, n = [], 0
    while n < size:
        kind = r.choice(["aws_s3_bucket", "aws_iam_role", "aws_instance", "google_storage_bucket", "aws_security_group",
                         "kubernetes_secret", "aws_lambda_function", "azurerm_key_vault"])
        lines = [f"resource \"{kind}\" \"{g.snake(1, 2)}\" {{"]
        for _ in range(r.randint(2, 9)):
            v = rand_scalar(g)
            v = json.dumps(v) if isinstance(v, str) else ("null" if v is None else str(v).lower())
            lines.append(f"  {g.snake(1, 2)} = {v}")
        if r.random() < 0.3:
            lines += ["", "  tags = {", f"    Name        = \"{g.snake(1, 2)}\"", f"    Environment = var.{g.snake(1, 1)}", "  }"]
        lines += ["}", ""]
        if r.random() < 0.3:
            lines += [f"variable \"{g.snake(1, 2)}\" {{", f"  description = \"{g.sentence()}\"", "  type        = string",
                      f"  sensitive   = {str(r.random() < 0.3).lower()}", "}", ""]
        s = "\n".join(lines) + "\n"
        out.append(s)
        n += len(s)
    return "".join(out)


def md_file(g: Gen, size: int) -> str:
    r = g.r
    out = [f"# {g.pascal(1, 2)}\n\n"]
    n = len(out[0])
    while n < size:
        k = r.randint(0, 5)
        if k == 0:
            s = f"## {g.sentence(2, 5)}\n\n"
        elif k == 1:
            s = "".join(f"- {g.sentence(3, 12)}\n" for _ in range(r.randint(2, 6))) + "\n"
        elif k == 2:
            cmds = [f"{r.choice(['npm install', 'cargo add', 'pip install', 'go get'])} {g.pkg()}",
                    f"export {g.upper()}=\"{g.snake(1, 2)}\"", f"curl -sSL {g.url()} | sh"]
            s = "```sh\n" + "\n".join(r.sample(cmds, r.randint(1, 3))) + "\n```\n\n"
        else:
            words = " ".join(g.sentence(6, 18) + "." for _ in range(r.randint(2, 6)))
            # wrap at about 80 columns, like hand-written docs
            lines, cur = [], ""
            for w in words.split():
                if len(cur) + len(w) + 1 > 78:
                    lines.append(cur)
                    cur = w
                else:
                    cur = f"{cur} {w}" if cur else w
            lines.append(cur)
            s = "\n".join(lines) + "\n\n"
        out.append(s)
        n += len(s)
    return "".join(out)


def lock_file(g: Gen, kind: str, size: int) -> str:
    r = g.r
    out, n = [], 0
    if kind == "package-lock.json":
        out.append('{\n  "name": "%s",\n  "version": "%s",\n  "lockfileVersion": 3,\n  "requires": true,\n  "packages": {\n' % (g.snake(1, 2), g.version()))
    elif kind == "Cargo.lock":
        out.append("# This file is automatically @generated by Cargo.\n# It is not intended for manual editing.\nversion = 4\n\n")
    elif kind == "yarn.lock":
        out.append("# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.\n# yarn lockfile v1\n\n\n")
    first = True
    while n < size:
        name, ver = g.pkg(), g.version()
        if kind == "package-lock.json":
            deps = ",\n".join(f'        "{g.pkg()}": "^{g.version()}"' for _ in range(r.randint(0, 4)))
            s = (("" if first else ",\n") + f'    "node_modules/{name}": {{\n      "version": "{ver}",\n'
                 f'      "resolved": "https://registry.npmjs.org/{name}/-/{name.split("/")[-1]}-{ver}.tgz",\n'
                 f'      "integrity": "sha512-{g.b64(64)}"' + (f',\n      "dependencies": {{\n{deps}\n      }}' if deps else "")
                 + (',\n      "dev": true' if r.random() < 0.5 else "") + "\n    }")
        elif kind == "Cargo.lock":
            deps = "".join(f' "{g.pkg()}",\n' for _ in range(r.randint(0, 5)))
            s = (f'[[package]]\nname = "{name.split("/")[-1]}"\nversion = "{ver}"\n'
                 f'source = "registry+https://github.com/rust-lang/crates.io-index"\nchecksum = "{g.hexs(64)}"\n'
                 + (f"dependencies = [\n{deps}]\n" if deps else "") + "\n")
        elif kind == "yarn.lock":
            deps = "".join(f'    "{g.pkg()}" "^{g.version()}"\n' for _ in range(r.randint(0, 4)))
            s = (f'"{name}@^{ver}":\n  version "{ver}"\n  resolved "https://registry.yarnpkg.com/{name}/-/{name.split("/")[-1]}-{ver}.tgz#{g.hexs(40)}"\n'
                 f"  integrity sha512-{g.b64(64)}\n" + (f"  dependencies:\n{deps}" if deps else "") + "\n")
        else:  # go.sum
            mod = f"github.com/{g.word()}/{g.snake(1, 2).replace('_', '-')}"
            s = f"{mod} v{ver} h1:{g.b64(32)}\n{mod} v{ver}/go.mod h1:{g.b64(32)}\n"
        first = False
        out.append(s)
        n += len(s)
    if kind == "package-lock.json":
        out.append("\n  }\n}\n")
    return "".join(out)


def png_file(g: Gen, size: int) -> bytes:
    header = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + struct.pack(">IIBBBBB", 64, 64, 8, 6, 0, 0, 0)
    return header + g.r.randbytes(max(0, size - len(header)))


# ---------------------------------------------------------------------------
# fake keys
# ---------------------------------------------------------------------------

def crc_b62(body: str) -> str:
    n = zlib.crc32(body.encode()) & 0xFFFFFFFF
    out = ""
    while n:
        n, d = divmod(n, 62)
        out = B62[d] + out
    return out.rjust(6, "0")


def b36(n: int, width: int) -> str:
    out = ""
    while n:
        n, d = divmod(n, 36)
        out = B36[d] + out
    return out.rjust(width, "0")


def gitlab_pat(g: Gen) -> str:
    r = g.r
    payload = f"c:{b36(r.randint(1, 30), 1)}\no:{b36(r.randint(36 ** 3, 36 ** 5), 1)}\nu:{b36(r.randint(36 ** 4, 36 ** 6), 1)}".encode()
    payload += r.randbytes(16) + bytes([16])
    p64 = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    head = "glpat-" + p64 + ".01." + b36(len(p64), 2)
    return head + b36(zlib.crc32(head.encode()) & 0xFFFFFFFF, 7)


def rsa_pem(g: Gen) -> str:
    body = "MIIEowIBAAKCAQEA" + "".join(g.r.choices(B64, k=1174))
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END RSA PRIVATE KEY-----"


# provider, environment variable name, generator
KEYS = [
    ("github", "GITHUB_TOKEN", lambda g: (lambda b: "ghp_" + b + crc_b62(b))(g.s(B62, 30))),
    ("npm", "NPM_TOKEN", lambda g: (lambda b: "npm_" + b + crc_b62(b))(g.s(B62, 30))),
    ("gitlab", "GITLAB_TOKEN", gitlab_pat),
    ("aws", "AWS_ACCESS_KEY_ID", lambda g: "AKIA" + g.s(B32, 16)),
    ("stripe", "STRIPE_SECRET_KEY", lambda g: "sk_live_" + g.s(B62, 24)),
    ("slack", "SLACK_BOT_TOKEN", lambda g: f"xoxb-{g.r.randint(10**10, 10**11)}-{g.r.randint(10**11, 10**12)}-{g.s(B62, 24)}"),
    ("slack", "SLACK_WEBHOOK_URL", lambda g: f"https://hooks.slack.com/services/T{g.s(string.ascii_uppercase + string.digits, 8)}/B{g.s(string.ascii_uppercase + string.digits, 10)}/{g.s(B62, 24)}"),
    ("openai", "OPENAI_API_KEY", lambda g: "sk-proj-" + g.s(B64URL, 74) + "T3BlbkFJ" + g.s(B64URL, 74)),
    ("anthropic", "ANTHROPIC_API_KEY", lambda g: "sk-ant-api03-" + g.s(B64URL, 93) + "AA"),
    ("google", "GOOGLE_API_KEY", lambda g: "AIzaSy" + g.s(B64URL, 33)),
    ("sendgrid", "SENDGRID_API_KEY", lambda g: "SG." + g.s(B64URL, 22) + "." + g.s(B64URL, 43)),
    ("private-key", "TLS_PRIVATE_KEY", rsa_pem),
]


def key_lines(g: Gen, ext: str, var: str, key: str) -> list:
    """The key assigned to a variable in the syntax of a file type."""
    multi = "\n" in key
    camel = var.lower().split("_")
    camel = camel[0] + "".join(w.capitalize() for w in camel[1:])
    if ext == "py":
        return [f'{var} = """{key}"""' if multi else f'{var} = "{key}"']
    if ext in ("js", "ts"):
        return [f"const {camel} = `{key}`;" if multi else f"const {camel} = '{key}';"]
    if ext == "go":
        return [f"const {var.title().replace('_', '')} = `{key}`" if multi else f'const {var.title().replace("_", "")} = "{key}"']
    if ext == "rs":
        return [f'    const {var}: &str = r"{key}";']
    if ext == "java":
        return [f'    static final String {var} = "{json.dumps(key)[1:-1]}";']
    if ext == "json":
        return [f'  "{var.lower()}": {json.dumps(key)},']
    if ext == "yaml":
        if multi:
            return [f"{var.lower()}: |"] + ["  " + ln for ln in key.split("\n")]
        return [f"{var.lower()}: {key}"]
    if ext == "tf":
        return [f'{var.lower()} = {json.dumps(key)}'] if not multi else [f"{var.lower()} = <<EOT", key, "EOT"]
    if ext == "md":
        return ["```sh", f"export {var}='{key}'", "```"] if not multi else ["```", key, "```"]
    return [f'{var}="{key}"' if multi else f"{var}={key}"]  # .env and the rest


def plant(g: Gen, text: str, ext: str) -> tuple:
    """Inserts one fake key (two lines for AWS) at a line boundary of `text`."""
    provider, var, make = g.r.choice(KEYS)
    lines = key_lines(g, ext, var, make(g))
    if provider == "aws":
        lines += key_lines(g, ext, "AWS_SECRET_ACCESS_KEY", g.s(B64, 40))
    cut = text.find("\n", g.r.randrange(max(1, len(text))))
    cut = len(text) if cut < 0 else cut + 1
    return text[:cut] + "\n".join(lines) + "\n" + text[cut:], provider


# ---------------------------------------------------------------------------
# layout
# ---------------------------------------------------------------------------

# share of the corpus bytes per kind of file (about what public source trees hold)
SHARES = [("code", 0.56), ("min", 0.08), ("lock", 0.08), ("json", 0.09), ("md", 0.07),
          ("yaml", 0.04), ("tf", 0.02), ("env", 0.005), ("png", 0.025)]
CODE_MIX = [("py", 0.2), ("js", 0.18), ("ts", 0.2), ("go", 0.17), ("rs", 0.12), ("java", 0.13)]
KEY_EVERY = 120  # about one file in KEY_EVERY gets a key


def sizes_for(g: Gen, kind: str, budget: int) -> list:
    """File sizes (bytes) for one kind until the budget is spent. No file takes
    more than a third of the budget, so small corpora keep their mix."""
    r = g.r
    cap = max(budget // 3, 2_000)
    out, total = [], 0
    while total < budget:
        if kind == "code":
            s = int(r.lognormvariate(8.4, 1.1))  # median ~4.4 KB, tail to a few hundred KB
            s = min(max(s, 80), 600_000)
            if r.random() < 0.002:
                s = r.randint(1_000_000, 3_000_000)  # generated code (protobuf, bindings)
        elif kind == "min":
            s = int(r.lognormvariate(12.2, 1.0))  # median ~200 KB
            s = min(max(s, 5_000), 6_000_000)
        elif kind == "lock":
            s = int(r.lognormvariate(12.5, 1.0))
            s = min(max(s, 2_000), 8_000_000)
        elif kind == "json":
            s = int(r.lognormvariate(7.5, 1.8)) if r.random() < 0.97 else r.randint(1_000_000, 12_000_000)
            s = max(s, 60)
        elif kind == "md":
            s = min(max(int(r.lognormvariate(8.3, 1.0)), 200), 300_000)
        elif kind in ("yaml", "tf"):
            s = min(max(int(r.lognormvariate(7.3, 1.0)), 100), 200_000)
        elif kind == "env":
            s = 0  # env files are as long as their lines
        else:
            s = min(max(int(r.lognormvariate(9.0, 1.3)), 300), 2_000_000)
        s = min(s, cap)
        out.append(s)
        total += s if s else 400
    return out


def generate(outdir: str, size_mb: float, seed: int) -> dict:
    g = Gen(seed)
    budget = int(size_mb * 1_000_000)
    pools = make_pools(g, 4000)
    files = []  # (kind, ext, size)
    for kind, share in SHARES:
        for s in sizes_for(g, kind, int(budget * share)):
            if kind == "code":
                ext = g.r.choices([e for e, _ in CODE_MIX], weights=[w for _, w in CODE_MIX])[0]
            elif kind == "lock":
                ext = g.r.choice(["package-lock.json", "yarn.lock", "Cargo.lock", "go.sum"])
            else:
                ext = {"min": "min.js", "json": "json", "md": "md", "yaml": "yaml", "tf": "tf", "env": "env",
                       "png": "png"}[kind]
            files.append((kind, ext, s))
    g.r.shuffle(files)

    # twelve projects, each a tree of directories of 5-40 files
    projects = [f"{g.snake(1, 2).replace('_', '-')}-{i}" for i in range(12)]
    dirs = []
    for p in projects:
        for _ in range(max(1, len(files) // (12 * 18))):
            depth = g.r.randint(0, 4)
            parts = [p] + [g.r.choice(["src", "lib", "pkg", "internal", "app", "components", "utils", "api",
                                       "config", "docs", "test", "scripts", g.snake(1, 1)]) for _ in range(depth)]
            dirs.append(os.path.join(*parts))

    if os.path.exists(outdir):
        shutil.rmtree(outdir)
    planted = {}
    total_bytes = 0
    used = set()
    for i, (kind, ext, size) in enumerate(files):
        d = dirs[g.r.randrange(len(dirs))]
        if kind == "lock":
            name = ext
        elif kind == "env":
            name = g.r.choice([".env", ".env.local", ".env.production", ".env.example", "settings.env"])
        else:
            name = f"{g.snake(1, 3)}.{ext}"
        path = os.path.join(outdir, d, name)
        if path in used:
            path = os.path.join(outdir, d, f"{i}-{name}")
        used.add(path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if kind == "png":
            data = png_file(g, size)
        else:
            if kind == "code":
                text = code_file(g, pools, ext, size)
            elif kind == "min":
                text = minified_file(g, pools, size)
            elif kind == "lock":
                text = lock_file(g, ext, size)
            elif kind == "json":
                text = json_file(g, size)
            elif kind == "md":
                text = md_file(g, size)
            elif kind == "yaml":
                text = yaml_file(g, size)
            elif kind == "tf":
                text = tf_file(g, size)
            else:
                text = env_file(g)
            if kind not in ("lock",) and g.r.randrange(KEY_EVERY) == 0:
                key_ext = {"min.js": "js"}.get(ext, ext)
                text, provider = plant(g, text, key_ext)
                planted[provider] = planted.get(provider, 0) + 1
            data = text.encode()
        with open(path, "wb") as f:
            f.write(data)
        total_bytes += len(data)
    return {"version": VERSION, "seed": seed, "size_mb": size_mb, "files": len(files),
            "bytes": total_bytes, "keys_planted": sum(planted.values()),
            "keys_by_provider": dict(sorted(planted.items()))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--size-mb", type=float, default=300.0, help="approximate total size (default 300)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.size_mb <= 0:
        ap.error("--size-mb must be positive")
    summary = generate(a.outdir, a.size_mb, a.seed)
    json.dump(summary, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
