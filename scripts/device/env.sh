# Sourced by scripts/device/{test,bench}.sh on the GPU machine: unpacks the build
# carried from the dev machine (.cuda-carry: bins.tar.xz or bin/*.xz, libs.tar.xz with the Debian ICU,
# PCRE2 and cpp-httplib libraries the binaries link, stories260K/) and sets the library path.
# Made here by scripts/device/pack.sh.
ROOT=$(pwd)
CARRY=$ROOT/.cuda-carry
BIN=/tmp/axbin
OUT=${OUT:-/tmp/ax-device-out}
mkdir -p "$OUT" /tmp/axlib
if [ ! -e /tmp/axlib/libcpp-httplib.so.0.11 ]; then
  tar xJf "$CARRY/libs.tar.xz" -C /tmp/axlib
  (cd /tmp/axlib && ln -sf libicuuc.so.72.1 libicuuc.so.72 && ln -sf libicudata.so.72.1 libicudata.so.72 &&
   ln -sf libpcre2-8.so.0.11.2 libpcre2-8.so.0 && ln -sf libcpp-httplib.so.0.11.4 libcpp-httplib.so.0.11)
fi
mkdir -p "$BIN"
# bins.tar.xz (pack.sh) is unpacked on every call: a warm machine keeps /tmp.
[ -f "$CARRY/bins.tar.xz" ] && xz -dc "$CARRY/bins.tar.xz" | tar xf - -C "$BIN"
for f in "$CARRY"/bin/*.xz; do
  [ -e "$f" ] || continue
  b=$BIN/$(basename "$f" .xz)
  [ -e "$b" ] || { xz -dc "$f" > "$b" && chmod +x "$b"; }
done
CUBLAS_DIR=$(dirname "$(ls /usr/local/cuda/lib64/libcublas.so.13 /usr/local/cuda/targets/x86_64-linux/lib/libcublas.so.13 \
  /opt/torch/.venv/lib/python3*/site-packages/nvidia/cu13/lib/libcublas.so.13 \
  /opt/torch/.venv/lib/python3*/site-packages/nvidia/cublas/lib/libcublas.so.13 2>/dev/null | head -1)")
export LD_LIBRARY_PATH=/tmp/axlib:$CUBLAS_DIR:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
export PYTHONUNBUFFERED=1
