#!/usr/bin/env bash
# Installs the official `openai` npm package (pinned in package.json) into DIR once:
# the e2e tests drive the server with a real OpenAI client. DIR lies in the build tree.
set -euo pipefail
src_dir="$(cd "$(dirname "$0")" && pwd)"
dir="$1"
mkdir -p "$dir"
cp "$src_dir/package.json" "$dir/package.json"
if [ -f "$dir/node_modules/openai/package.json" ]; then
  want=$(node -p "require('$src_dir/package.json').dependencies.openai")
  have=$(node -p "require('$dir/node_modules/openai/package.json').version")
  [ "$want" = "$have" ] && exit 0
fi
cd "$dir"
npm install --no-audit --no-fund --no-package-lock --loglevel=error
