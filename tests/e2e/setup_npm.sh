#!/usr/bin/env bash
# Installs the official `openai` and `@anthropic-ai/sdk` npm packages and
# `puppeteer-core` and `ajv` (pinned in package.json) into DIR once: the e2e tests drive
# the server with the real clients, the chat page with Debian's chromium, and validate
# structured outputs with ajv.
# DIR lies in the build tree.
set -euo pipefail
src_dir="$(cd "$(dirname "$0")" && pwd)"
dir="$1"
mkdir -p "$dir"
cp "$src_dir/package.json" "$dir/package.json"
installed() {  # the pinned version of package $1 is in node_modules
  local want have
  want=$(node -p "require('$src_dir/package.json').dependencies['$1']")
  have=$(node -p "require('$dir/node_modules/$1/package.json').version" 2>/dev/null) || return 1
  [ "$want" = "$have" ]
}
installed openai && installed @anthropic-ai/sdk && installed puppeteer-core && installed ajv && exit 0
cd "$dir"
npm install --no-audit --no-fund --no-package-lock --loglevel=error
