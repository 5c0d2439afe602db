#!/usr/bin/python3
"""Build the demo model's training corpus from text that Debian ships.

Run with Debian's own interpreter (/usr/bin/python3, standard library only)
through make_corpus.sh, which downloads the .deb files and unpacks them into
--root first.  Every source below is public domain or under a permissive licence
(PSF, BSD, Expat/MIT, Apache-2.0, PostgreSQL); models/ax-demo-qwen3/README.md
lists them with the copyright files they come from.

Output (in --out):
  train.txt, valid.txt   documents separated by a line "<|endoftext|>"
  stats.json             per-source document and byte counts, package versions
The split is by document: sha256(source/name) % 100 == 0 goes to valid (1 %).
Everything is deterministic: same packages in, same bytes out.
"""
import argparse
import ast
import base64
import gzip
import hashlib
import html
import html.parser
import json
import os
import random
import re
import subprocess
import sys
import unicodedata

EOT = "<|endoftext|>"

# --------------------------------------------------------------------------
# Cleaning
# --------------------------------------------------------------------------
_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\xad\u200b\ufeff\ufffd\ue000-\uf8ff]")


def clean(text, max_blank=2):
    """Normalise newlines/Unicode, drop control chars, strip trailing space,
    collapse runs of blank lines to at most `max_blank`."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text)
    text = _CTRL.sub("", text)
    text = text.replace(EOT, "")
    lines = [ln.rstrip() for ln in text.split("\n")]
    out, blank = [], 0
    for ln in lines:
        if ln == "":
            blank += 1
            if blank > max_blank:
                continue
        else:
            blank = 0
        out.append(ln)
    return "\n".join(out).strip("\n") + "\n"


def looks_binary_or_junk(text):
    """Too many non-text characters, or lines that are data rather than text."""
    if not text.strip():
        return True
    bad = sum(1 for c in text if ord(c) > 0x2FFF and not c.isalpha())
    if bad > 0.01 * len(text):
        return True
    lines = text.split("\n")
    longest = max(len(ln) for ln in lines)
    if longest > 2000:
        return True
    # Generated tables: mostly digits / hex / punctuation.
    alnum = sum(1 for c in text if c.isalpha())
    if alnum < 0.35 * len(text):
        return True
    return False


# --------------------------------------------------------------------------
# HTML to text
# --------------------------------------------------------------------------
SKIP_TAGS = {"script", "style", "head", "svg", "noscript", "form", "button", "select", "nav"}
SKIP_CLASSES = {
    "sphinxsidebar", "related", "footer", "headerlink", "viewcode-back", "viewcode-link",
    "navheader", "navfooter", "nosearch", "breadcrumbs", "mobile-nav", "menu",
    "searchbox", "sidebar", "toc-backref", "copy-button", "nav", "version_switcher_placeholder",
    "language_switcher_placeholder", "linenos", "lineno", "fancy-toc1", "fancy-toc2",
}
SKIP_IDS = {"hd", "ft", "global-nav", "sidebar", "searchbox", "searchmenu", "submenu",
            "toc", "document-nav", "skip-to-content"}
BLOCK_TAGS = {"p", "div", "section", "article", "h1", "h2", "h3", "h4", "h5", "h6",
              "ul", "ol", "dl", "dt", "dd", "table", "tr", "blockquote", "pre",
              "hr", "figure", "figcaption", "caption", "tbody", "thead", "center"}
VOID_TAGS = {"br", "img", "input", "meta", "link", "hr", "area", "base", "col",
             "embed", "param", "source", "track", "wbr"}


class _Extractor(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out = []          # list of text pieces
        self.skip_tag = None   # tag name of the element being skipped
        self.skip_depth = 0
        self.pre = 0

    def _skippable(self, tag, attrs):
        if tag in SKIP_TAGS:
            return True
        a = dict(attrs)
        classes = set((a.get("class") or "").split())
        if classes & SKIP_CLASSES:
            return True
        if (a.get("id") or "") in SKIP_IDS:
            return True
        if a.get("role") in ("navigation", "search"):
            return True
        if tag == "div" and "display:none" in (a.get("style") or "").replace(" ", ""):
            return True
        return False

    def handle_starttag(self, tag, attrs):
        if self.skip_tag is not None:
            if tag == self.skip_tag:
                self.skip_depth += 1
            return
        if tag not in VOID_TAGS and self._skippable(tag, attrs):
            self.skip_tag, self.skip_depth = tag, 1
            return
        if tag == "pre":
            self.out.append("\n\n")
            self.pre += 1
        elif tag == "br":
            self.out.append("\n")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag in ("td", "th"):
            self.out.append(" ")
        elif tag in BLOCK_TAGS:
            self.out.append("\n\n")

    def handle_startendtag(self, tag, attrs):
        if self.skip_tag is None and tag == "br":
            self.out.append("\n")

    def handle_endtag(self, tag):
        if self.skip_tag is not None:
            if tag == self.skip_tag:
                self.skip_depth -= 1
                if self.skip_depth == 0:
                    self.skip_tag = None
            return
        if tag == "pre":
            self.pre = max(0, self.pre - 1)
            self.out.append("\n\n")
        elif tag in BLOCK_TAGS or tag == "li":
            self.out.append("\n")

    def handle_data(self, data):
        if self.skip_tag is not None:
            return
        if self.pre:
            self.out.append(data)
        else:
            self.out.append(re.sub(r"\s+", " ", data))


def html_to_text(raw):
    p = _Extractor()
    p.feed(raw)
    p.close()
    text = "".join(p.out)
    text = text.replace("\u00b6", "").replace("\u00a0", " ")
    # Strip the indentation the whitespace-collapsing left at line starts,
    # but only outside code blocks: code lines keep theirs.
    lines = []
    for ln in text.split("\n"):
        if ln.startswith(" ") and not ln.startswith("    "):
            ln = ln.lstrip(" ")
        lines.append(ln)
    text = "\n".join(lines)
    text = re.sub(r"\n- *\n(\s*\n)*(?=\S)", "\n- ", text)   # "<li><p>" left "-" alone on a line
    return clean(text, max_blank=1)


# --------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------
def walk(root, suffix):
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for f in sorted(files):
            if f.endswith(suffix):
                yield os.path.join(d, f)


def read_text(path):
    with open(path, "rb") as f:
        raw = f.read()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def html_source(name, root, skip_re):
    skip = re.compile(skip_re)
    for path in walk(root, ".html"):
        rel = os.path.relpath(path, root)
        if skip.search(rel):
            continue
        raw = read_text(path)
        if raw is None:
            raw = open(path, "rb").read().decode("latin-1")
        text = html_to_text(raw)
        if len(text) < 200 or looks_binary_or_junk(text):
            continue
        yield f"{name}/{rel}", text


def python_source(name, root, skip_re):
    skip = re.compile(skip_re)
    for path in walk(root, ".py"):
        rel = os.path.relpath(path, root)
        if skip.search(rel):
            continue
        if os.path.getsize(path) > 400_000:
            continue
        text = read_text(path)
        if text is None:
            continue
        try:
            ast.parse(text)        # drops deliberately broken test inputs
        except (SyntaxError, ValueError):
            continue
        text = clean(text.expandtabs(8) if "\t" in text else text)
        if len(text) < 200 or looks_binary_or_junk(text):
            continue
        yield f"{name}/{rel}", text


def kjv_source():
    """bible-kjv-text: dump every verse with the `bible` program; one doc per book."""
    out = subprocess.run([R("/usr/bin/bible"), "-p", R("/usr/lib"), "-l", "100000", "gen1:1-rev22:21"],
                         check=True, capture_output=True).stdout.decode("ascii", "replace")
    books, cur_book, cur = [], None, []
    for ln in out.split("\n"):
        m = re.match(r"^([1-3]?\s?[A-Za-z ]+?) (\d+)$", ln)
        if m:
            book = m.group(1)
            if book != cur_book and cur:
                books.append((cur_book, "\n".join(cur)))
                cur = []
            cur_book = book
            cur.append("\n" + ln + "\n")
        elif ln.strip():
            cur.append(re.sub(r"^\s+", "", ln))
    if cur:
        books.append((cur_book, "\n".join(cur)))
    for book, text in books:
        yield f"kjv/{book}", clean(text)


_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _dict_num(s):
    n = 0
    for c in s:
        n = n * 64 + _B64.index(c)
    return n


def dictd_source(name, index_path, dict_path, chunk=16_000):
    """A dictd database: entries in index order, grouped into ~16 KB documents."""
    with gzip.open(dict_path, "rb") as f:
        data = f.read()
    entries = []
    with open(index_path, encoding="utf-8", errors="replace") as f:
        for ln in f:
            parts = ln.rstrip("\n").split("\t")
            if len(parts) < 3 or parts[0].startswith("00-database") or parts[0].startswith("00database"):
                continue
            off, ln_ = _dict_num(parts[1]), _dict_num(parts[2])
            entries.append((off, ln_))
    seen, texts = set(), []
    for off, n in sorted(set(entries)):
        if off in seen:
            continue
        seen.add(off)
        body = data[off:off + n].decode("utf-8", "replace")
        texts.append(clean(body).strip("\n"))
    doc, k = [], 0
    for t in texts:
        doc.append(t)
        if sum(len(x) for x in doc) > chunk:
            yield f"{name}/{k:04d}", clean("\n\n".join(doc))
            doc, k = [], k + 1
    if doc:
        yield f"{name}/{k:04d}", clean("\n\n".join(doc))


ROOT = "/"          # set from --root: the folder the .deb files were unpacked into
SPHINX_SKIP = (r"^(_static|_sources|_images|_downloads|_modules)/|genindex|search\.html|"
               r"modindex|^(changes|changelog|history|whatsnew/changelog)(\.html|/)|^download\.html$")


def R(path):
    return os.path.join(ROOT, path.lstrip("/"))


def sphinx_docs(name, pkg, licence, extra_skip=None):
    skip = SPHINX_SKIP + ("|" + extra_skip if extra_skip else "")
    return (name, pkg, licence, lambda: html_source(name, R(f"/usr/share/doc/{pkg}/html"), skip))


def pypkg_code(name, pkg, licence, module):
    """A third-party package's Python sources, without its test suites."""
    return (name, pkg, licence,
            lambda: python_source(name, R(f"/usr/lib/python3/dist-packages/{module}"),
                                  r"(^|/)(__pycache__|tests?|testing|locale)/|(^|/)(test_|conftest)[^/]*\.py$"))


SOURCES = [
    # (name, Debian package(s), licence, generator factory)
    sphinx_docs("python-docs", "python3.11-doc", "PSF-2.0"),
    ("python-stdlib", "libpython3.11-stdlib libpython3.11-minimal libpython3.11-testsuite", "PSF-2.0",
     lambda: python_source("python-stdlib", R("/usr/lib/python3.11"),
                           r"(^|/)(site-packages|dist-packages|__pycache__)/|^config-|^lib2to3/tests/data/|"
                           r"^test/(tokenizedata|encoded_modules|badsyntax|bad_coding|test_lib2to3/data)|"
                           r"^idlelib/idle_test/|_sysconfigdata|^test/test_unicode_identifiers|"
                           r"^encodings/(cp|mac_|iso|koi|kz|hp|ptcp|tis|palmos)")),
    ("django", "python3-django", "BSD-3-Clause",
     lambda: python_source("django", R("/usr/lib/python3/dist-packages/django"),
                           r"(^|/)(__pycache__|locale)/")),
    pypkg_code("twisted", "python3-twisted", "Expat", "twisted"),
    pypkg_code("sqlalchemy", "python3-sqlalchemy", "Expat", "sqlalchemy"),
    pypkg_code("networkx", "python3-networkx", "BSD-3-Clause", "networkx"),
    pypkg_code("numpy", "python3-numpy", "BSD-3-Clause", "numpy"),
    pypkg_code("pandas", "python3-pandas", "BSD-3-Clause", "pandas"),
    pypkg_code("sklearn", "python3-sklearn", "BSD-3-Clause", "sklearn"),
    sphinx_docs("sklearn-docs", "python-sklearn-doc", "BSD-3-Clause", r"^whats_new"),
    sphinx_docs("ipython-docs", "python-ipython-doc", "BSD-3-Clause", r"^whatsnew/"),
    sphinx_docs("django-docs", "python-django-doc", "BSD-3-Clause", r"^releases/"),
    sphinx_docs("sqlalchemy-docs", "python-sqlalchemy-doc", "Expat", r"^changelog/"),
    sphinx_docs("sphinx-docs", "sphinx-doc", "BSD-2-Clause"),
    sphinx_docs("flask-docs", "python-flask-doc", "BSD-3-Clause"),
    sphinx_docs("jinja2-docs", "python-jinja2-doc", "BSD-3-Clause"),
    sphinx_docs("werkzeug-docs", "python-werkzeug-doc", "BSD-3-Clause"),
    sphinx_docs("click-docs", "python-click-doc", "BSD-3-Clause"),
    sphinx_docs("pytest-docs", "python-pytest-doc", "Expat"),
    sphinx_docs("requests-docs", "python-requests-doc", "Apache-2.0"),
    sphinx_docs("tornado-docs", "python-tornado-doc", "Apache-2.0", r"^releases(/|\.html)"),
    sphinx_docs("celery-docs", "python-celery-doc", "BSD-2-Clause", r"^history/"),
    sphinx_docs("scrapy-docs", "python-scrapy-doc", "BSD-3-Clause", r"^(news|404)\.html$"),
    ("postgresql-docs", "postgresql-doc-15", "PostgreSQL",
     lambda: html_source("postgresql-docs", R("/usr/share/doc/postgresql-doc-15/html"),
                         r"^(bookindex|release-|appendix-obsolete)")),
    ("sqlite-docs", "sqlite3-doc", "public-domain",
     lambda: html_source("sqlite-docs", R("/usr/share/doc/sqlite3"),
                         r"^(releaselog/|changes\.html|chronology\.html|syntaxdiagrams|"
                         r"doc_keyword_crossref|doc_target_crossref|doc_backlink_crossref|"
                         r"keyword_index|toc\.html|sitemap|mingw|fileio|c3ref/(objlist|funclist|constlist)\.html)")),
    ("kjv", "bible-kjv-text bible-kjv", "public-domain", lambda: kjv_source()),
    ("devils-dictionary", "dict-devil", "public-domain",
     lambda: dictd_source("devils-dictionary", R("/usr/share/dictd/devil.index"), R("/usr/share/dictd/devil.dict.dz"))),
    ("jargon-file", "dict-jargon", "public-domain",
     lambda: dictd_source("jargon-file", R("/usr/share/dictd/jargon.index"), R("/usr/share/dictd/jargon.dict.dz"))),
]


def pkg_version(pkg, versions):
    return versions.get(pkg, "unknown")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--root", default="/", help="where the .deb files were unpacked")
    ap.add_argument("--versions", help="file of 'package version' lines (from make_corpus.sh)")
    ap.add_argument("--valid-mod", type=int, default=100)
    args = ap.parse_args()
    global ROOT
    ROOT = args.root
    versions = {}
    if args.versions:
        for ln in open(args.versions):
            if ln.strip():
                k, v = ln.split()
                versions[k] = v
    os.makedirs(args.out, exist_ok=True)

    seen = set()
    train, valid = [], []
    stats = {"sources": {}, "packages": {}}
    for name, pkgs, lic, gen in SOURCES:
        n_docs = n_bytes = n_dup = 0
        for doc_id, text in gen():
            h = hashlib.sha256(text.encode("utf-8")).digest()
            if h in seen:
                n_dup += 1
                continue
            seen.add(h)
            bucket = int.from_bytes(hashlib.sha256(doc_id.encode()).digest()[:8], "big") % args.valid_mod
            (valid if bucket == 0 else train).append((doc_id, text))
            n_docs += 1
            n_bytes += len(text.encode("utf-8"))
        stats["sources"][name] = {"packages": pkgs, "license": lic, "docs": n_docs,
                                  "bytes": n_bytes, "duplicates_dropped": n_dup}
        for p in pkgs.split():
            stats["packages"][p] = pkg_version(p, versions)
        print(f"{name:20s} {n_docs:6d} docs {n_bytes / 1e6:8.2f} MB  ({n_dup} duplicates dropped)",
              file=sys.stderr)

    # Deterministic shuffle so that a sequential reader sees a mix of sources.
    rng = random.Random(1234)
    rng.shuffle(train)
    for fname, docs in (("train.txt", train), ("valid.txt", valid)):
        with open(os.path.join(args.out, fname), "w", encoding="utf-8", newline="\n") as f:
            for i, (_, text) in enumerate(docs):
                if i:
                    f.write(EOT + "\n")
                f.write(text)
    stats["train_docs"], stats["valid_docs"] = len(train), len(valid)
    with open(os.path.join(args.out, "stats.json"), "w") as f:
        json.dump(stats, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
