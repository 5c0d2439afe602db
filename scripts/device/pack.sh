#!/usr/bin/env bash
# On the dev machine: builds test_cuda and ax-engine-bench in build-cuda and packs what
# scripts/device/{test,bench}.sh need into .cuda-carry (ignored by git; carry it):
#   bin/*.xz          stripped, xz-compressed binaries (the device image lacks the
#                     Debian nlohmann-json/PCRE2/ICU headers, so we build here)
#   libs.tar.xz       libicuuc/libicudata 72 and libpcre2-8 they link
#   stories260K/      the shared test checkpoint
set -euo pipefail
cd "$(dirname "$0")/../.."
exclude=$(git rev-parse --git-path info/exclude)  # a worktree's .git is a file
mkdir -p "$(dirname "$exclude")"
grep -qx '/.cuda-carry/' "$exclude" 2>/dev/null || echo '/.cuda-carry/' >> "$exclude"
[ -f build-cuda/build.ninja ] || cmake -S . -B build-cuda -G Ninja -DAX_BUILD_TESTS=ON -DAX_WERROR=ON -DCMAKE_BUILD_TYPE=Release
ninja -C build-cuda -j"${JOBS:-1}" test_cuda ax-engine-bench bench_cuda_ops bench_gemm_rows
rm -rf .cuda-carry && mkdir -p .cuda-carry/bin
for b in test_cuda ax-engine-bench bench_cuda_ops bench_gemm_rows; do
  strip -o .cuda-carry/bin/$b build-cuda/bin/$b
  xz -6 .cuda-carry/bin/$b
done
L=/usr/lib/x86_64-linux-gnu
tar cJf .cuda-carry/libs.tar.xz -C $L libicuuc.so.72.1 libicudata.so.72.1 libpcre2-8.so.0.11.2
cp -r ../shared/models/stories260K .cuda-carry/stories260K
rm -rf .cuda-carry/stories260K/tools
du -sh .cuda-carry
