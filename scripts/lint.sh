#!/usr/bin/env bash
# Lint gates (CI runs `scripts/lint.sh ci`; `make lint` runs clang-tidy on the whole tree).
#
#   scripts/lint.sh includes      include direction, whole tree (scripts/check-includes.py)
#   scripts/lint.sh format        clang-format --dry-run --Werror: whole files added since the
#                                 base, and the changed lines of files modified since it
#   scripts/lint.sh tidy          clang-tidy (.clang-tidy) on the C++ files of src/ server/ tools/
#                                 changed since the base (a changed header: its .cpp of the same name)
#   scripts/lint.sh tidy-all      clang-tidy on every such file a CPU-only build compiles (slow)
#   scripts/lint.sh ci            includes, format, tidy
#
# The base: AX_LINT_BASE (a commit, e.g. a pull request's merge base), else LINT_BASE below,
# the commit the gates were introduced at (the tree's older files predate .clang-format).
# The working tree is compared with it, so uncommitted edits count. After a clean
# `make lint` on main, LINT_BASE may move up to keep the tidy gate's file list short.
# clang-tidy reads the compile commands of a CPU-only configure in build-lint (no build
# needed); LINT_JOBS (default 2) clang-tidy processes run at once, niced.
set -euo pipefail
cd "$(dirname "$0")/.."

LINT_BASE=c3cc5ca54c33cebd3003af732df16ba791cdf256
BASE="${AX_LINT_BASE:-$LINT_BASE}"
LINT_BUILD_DIR="${LINT_BUILD_DIR:-build-lint}"
LINT_JOBS="${LINT_JOBS:-2}"
CXX_GLOB=('*.cpp' '*.cc' '*.h' '*.hpp' '*.cu' '*.cuh')

have_base() {
  if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    echo "lint: not a git checkout: nothing to compare with, format and tidy gates skipped" >&2
    return 2
  fi
  if ! git rev-parse -q --verify "$BASE^{commit}" >/dev/null; then
    echo "lint: base $BASE is not in this clone (shallow?): fetch it or set AX_LINT_BASE" >&2
    return 1
  fi
}

# Files (added or modified since the base, still present) matching the C++ globs.
changed_files() {
  git diff --name-only --diff-filter=d "$BASE" -- "${CXX_GLOB[@]}" | grep -v '^tests/fixtures/' || true
}

check_includes() {
  /usr/bin/python3 scripts/check-includes.py
  echo "lint: include direction OK"
}

check_format() {
  have_base || { [ $? -eq 2 ] && return 0; return 1; }
  local bad=0 n=0 f ranges
  # Added files: every line.
  while read -r f; do
    [ -n "$f" ] || continue
    n=$((n + 1))
    clang-format --dry-run --Werror "$f" || bad=1
  done < <(git diff --name-only --diff-filter=A "$BASE" -- "${CXX_GLOB[@]}" | grep -v '^tests/fixtures/' || true)
  # Modified files: only the lines changed since the base (new-side hunk ranges).
  while read -r f; do
    [ -n "$f" ] || continue
    ranges=$(git diff -U0 "$BASE" -- "$f" | sed -nE 's/^@@ -[0-9,]+ \+([0-9]+)(,([0-9]+))? @@.*/\1 \3/p' |
      awk '{ c = ($2 == "") ? 1 : $2; if (c > 0) printf "--lines=%d:%d ", $1, $1 + c - 1 }')
    [ -n "$ranges" ] || continue
    n=$((n + 1))
    # shellcheck disable=SC2086
    clang-format --dry-run --Werror $ranges "$f" || bad=1
  done < <(git diff --name-only --diff-filter=M "$BASE" -- "${CXX_GLOB[@]}" | grep -v '^tests/fixtures/' || true)
  if [ "$bad" -ne 0 ]; then
    echo "lint: format: stage the change (git add) and run 'git clang-format $BASE', or clang-format -i --lines=A:B FILE" >&2
    return 1
  fi
  echo "lint: format OK ($n file(s) changed since ${BASE:0:12})"
}

configure_lint_build() {
  if [ ! -f "$LINT_BUILD_DIR/compile_commands.json" ]; then
    cmake -S . -B "$LINT_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DAX_CUDA=OFF -DAX_BUILD_TESTS=ON \
      -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
  fi
}

# The translation units of src/ server/ tools/ in the compile database.
tidy_units() {
  /usr/bin/python3 - "$LINT_BUILD_DIR/compile_commands.json" <<'EOF'
import json, os, sys
root = os.getcwd() + "/"
for e in json.load(open(sys.argv[1])):
    f = os.path.normpath(os.path.join(e["directory"], e["file"]))
    if f.startswith(root):
        rel = f[len(root):]
        if rel.split("/")[0] in ("src", "server", "tools"):
            print(rel)
EOF
}

run_tidy() {  # files...
  if [ $# -eq 0 ]; then
    echo "lint: tidy: no changed C++ file of src/ server/ tools/ since ${BASE:0:12}"
    return 0
  fi
  local start=$SECONDS rc
  set +e
  printf '%s\n' "$@" | nice -n 10 xargs -P "$LINT_JOBS" -n 1 \
    clang-tidy -p "$LINT_BUILD_DIR" --quiet --warnings-as-errors='*' 2>&1 |
    grep -v -E '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$'
  rc=${PIPESTATUS[1]}
  set -e
  if [ "$rc" -ne 0 ]; then
    echo "lint: tidy: findings above (.clang-tidy says which checks and why); fix them or, where a check" \
      "is wrong for one line, add // NOLINT(check-name) with a reason" >&2
    return 1
  fi
  echo "lint: tidy OK ($# file(s), $((SECONDS - start)) s)"
}

check_tidy() {
  have_base || { [ $? -eq 2 ] && return 0; return 1; }
  configure_lint_build
  local units f stem
  units=$(tidy_units | sort -u)
  local -a files=()
  while read -r f; do
    [ -n "$f" ] || continue
    case "$f" in
      *.h | *.hpp | *.cuh)
        # Its .cpp beside it, else one of the same name elsewhere (include/ax/x.h: src/*/x.cpp).
        stem="${f%.*}"
        if grep -qxF "$stem.cpp" <<<"$units"; then
          f="$stem.cpp"
        else
          f=$(grep -m1 "/$(basename "$stem").cpp\$" <<<"$units" || true)
        fi
        ;;
    esac
    [ -n "$f" ] && grep -qxF "$f" <<<"$units" && files+=("$f")
  done < <(changed_files | sort -u)
  mapfile -t files < <(printf '%s\n' "${files[@]}" | grep -v '^$' | sort -u)
  run_tidy "${files[@]}"
}

check_tidy_all() {
  configure_lint_build
  local -a files
  mapfile -t files < <(tidy_units | sort -u)
  run_tidy "${files[@]}"
}

case "${1:-ci}" in
  includes) check_includes ;;
  format) check_format ;;
  tidy) check_tidy ;;
  tidy-all) check_tidy_all ;;
  ci) check_includes; check_format; check_tidy ;;
  *) echo "usage: scripts/lint.sh [includes|format|tidy|tidy-all|ci]" >&2; exit 2 ;;
esac
