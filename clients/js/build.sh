#!/usr/bin/env bash
# Compiles the client with tsc into OUT_DIR/dist: typescript (pinned in package.json) is
# installed once into OUT_DIR, which lies in the build tree.
#   clients/js/build.sh OUT_DIR
set -euo pipefail
src="$(cd "$(dirname "$0")" && pwd)"
out="$1"
mkdir -p "$out"
cp "$src/package.json" "$out/package.json"
want=$(node -p "require('$src/package.json').devDependencies.typescript")
have=$(node -p "require('$out/node_modules/typescript/package.json').version" 2>/dev/null || true)
if [ "$want" != "$have" ]; then
  (cd "$out" && npm install --no-audit --no-fund --no-package-lock --loglevel=error)
fi
"$out/node_modules/.bin/tsc" -p "$src/tsconfig.json" --outDir "$out/dist"
