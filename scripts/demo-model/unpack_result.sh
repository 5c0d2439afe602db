#!/bin/sh
# Reassemble the model folder that train.py packed into $OUT (model.tar.gz.partNN)
# and install it as models/<name>/.   Usage: unpack_result.sh FILES_DIR [DEST_PARENT]
set -eu
src=$1
dest=${2:-models}
tmp=$(mktemp -d)
cat "$src"/model.tar.gz.part* > "$tmp/model.tar.gz"
tar -xzf "$tmp/model.tar.gz" -C "$tmp"
for d in "$tmp"/*/; do
    name=$(basename "$d")
    mkdir -p "$dest/$name"
    cp "$d"/* "$dest/$name/"
    ls -l "$dest/$name"
done
rm -rf "$tmp"
