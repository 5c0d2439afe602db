#!/usr/bin/env bash
# Installs the Debian packages AX Engine needs to build and test, and only when one
# is missing, so it is cheap to call before every build. Needs root (or sudo) only
# when something must be installed.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  nlohmann-json3-dev      # config.json / safetensors headers / CLI JSON
  libpcre2-dev            # Unicode-aware regex for tokenizer pre-tokenizers (\p{L}, \p{N})
  libicu-dev              # NFC normalization for tokenizers
  libcpp-httplib-dev      # HTTP/SSE for ax-engine-server and ax-loadgen
  libgtest-dev libgmock-dev  # unit and golden tests
  libbenchmark-dev        # micro-benchmarks of kernels and the tokenizer
  chromium                # a real browser for the chat page's e2e test (puppeteer-core)
  clang libclang-rt-14-dev ninja-build  # libFuzzer + ASan/UBSan targets (make fuzz, tests/fuzz)
  clang-tidy clang-format  # lint gates (scripts/lint.sh: make lint-ci in CI, make lint)
  python3-dev python3-pybind11  # the ax_engine Python module (bindings/python)
  python3-pytest          # its tests, run by ctest with Debian's python3
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
