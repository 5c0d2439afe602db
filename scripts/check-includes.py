#!/usr/bin/python3
"""Include-direction check: fails when a layer includes a header of a layer it does not
depend on (a lower layer including a higher one, or two unrelated layers).

The layers and what each may include are read from the `layers` block of
docs/architecture.md (one line per layer: `folder: folders it may include`; what those
may include is allowed too). The same doc's table of libraries must name the same
folders, so the two cannot drift apart.

Usage: scripts/check-includes.py [--list]   (--list prints each layer's allowed set)
Exit 0 when clean, 1 on a violation or a malformed layer block.
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
# Searched, after the including file's own folder, for `#include "..."` (CMake's include dirs).
INCLUDE_ROOTS = [ROOT / "src", ROOT / "include"]
SOURCE_SUFFIXES = {".h", ".hpp", ".cpp", ".cc", ".cu", ".cuh"}
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')

# Known violations, each with its reason: (including file, included file) -> reason.
# Keep it short: fix the include or move the code instead where the fix is small.
ALLOWLIST: dict[tuple[str, str], str] = {
    ("src/backend/backend.cpp", "src/backend/cpu/cpu_backend.h"):
        "CreateBackend (library ax_backend, which compiles cpu/ too) constructs the CPU backend, "
        "the fallback of every choice; the CUDA backend registers itself through registry.h instead",
}


def read_layers() -> dict[str, list[str]]:
    text = DOC.read_text()
    m = re.search(r"```layers\n(.*?)```", text, re.S)
    if not m:
        sys.exit(f"check-includes: no ```layers block in {DOC.relative_to(ROOT)}")
    layers: dict[str, list[str]] = {}
    for n, line in enumerate(m.group(1).splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if ":" not in line:
            sys.exit(f"check-includes: layers block line {n}: expected 'folder: deps', got {line!r}")
        folder, deps = line.split(":", 1)
        layers[folder.strip()] = deps.split()
    for folder, deps in layers.items():
        for d in deps:
            if d not in layers:
                sys.exit(f"check-includes: layer {folder} depends on {d}, which is not a layer")
        if not (ROOT / folder).is_dir():
            sys.exit(f"check-includes: layer folder {folder} does not exist")
    # The human table (`| lib | folder | links |`) must name the same folders.
    table = set()
    for row in re.findall(r"^\|[^|\n]*\|\s*([^|\n]+?)\s*\|[^|\n]*\|\s*$", text, re.M):
        for part in re.split(r"[,\s]+", row):
            m2 = re.fullmatch(r"([\w/]+)/\{([\w,]+)\}", part)
            if m2:
                table.update(f"{m2.group(1)}/{x}" for x in m2.group(2).split(","))
            elif re.fullmatch(r"[\w/.]+", part) and part != "folder" and not part.startswith("-"):
                table.add(part)
    missing = sorted(f for f in table if not any(f == l or f.startswith(l + "/") for l in layers))
    if missing:
        sys.exit(f"check-includes: docs/architecture.md's table names {missing}, which the layers block lacks")
    return layers


def closure(layers: dict[str, list[str]]) -> dict[str, set[str]]:
    allowed: dict[str, set[str]] = {}

    def visit(f: str, stack: tuple[str, ...]) -> set[str]:
        if f in allowed:
            return allowed[f]
        if f in stack:
            sys.exit(f"check-includes: the layers form a cycle: {' -> '.join(stack + (f,))}")
        s = {f}
        for d in layers[f]:
            s |= visit(d, stack + (f,))
        allowed[f] = s
        return s

    for f in layers:
        visit(f, ())
    return allowed


def layer_of(path: Path, folders: list[str]) -> str | None:
    rel = path.relative_to(ROOT).as_posix()
    best = None
    for f in folders:
        if (rel == f or rel.startswith(f + "/")) and (best is None or len(f) > len(best)):
            best = f
    return best


def resolve(src: Path, name: str) -> Path | None:
    for base in [src.parent] + INCLUDE_ROOTS:
        p = (base / name).resolve()
        if p.is_file() and p.is_relative_to(ROOT):
            return p
    return None


def main() -> int:
    layers = read_layers()
    allowed = closure(layers)
    folders = list(layers)
    if "--list" in sys.argv:
        for f in folders:
            print(f"{f}: {' '.join(sorted(allowed[f] - {f}))}")
        return 0
    violations, used = [], set()
    for folder in folders:
        for src in sorted((ROOT / folder).rglob("*")):
            if src.suffix not in SOURCE_SUFFIXES or not src.is_file():
                continue
            own = layer_of(src, folders)
            if own != folder:
                continue  # belongs to a nested layer, checked there
            for n, line in enumerate(src.read_text(errors="replace").splitlines(), 1):
                m = INCLUDE_RE.match(line)
                if not m:
                    continue
                target = resolve(src, m.group(1))
                if target is None:
                    continue  # a system or generated header
                theirs = layer_of(target, folders)
                if theirs is None or theirs in allowed[own]:
                    continue
                key = (src.relative_to(ROOT).as_posix(), target.relative_to(ROOT).as_posix())
                if key in ALLOWLIST:
                    used.add(key)
                    continue
                violations.append(f"{key[0]}:{n}: layer {own} includes {key[1]} (layer {theirs}), "
                                  f"which it may not: {own} may include {' '.join(sorted(allowed[own] - {own})) or 'nothing'}")
    for key in sorted(set(ALLOWLIST) - used):
        violations.append(f"check-includes: allowlisted {key[0]} -> {key[1]} no longer occurs: remove it")
    for v in violations:
        print(v)
    if violations:
        print(f"check-includes: {len(violations)} violation(s); the order is the layers block of docs/architecture.md")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
