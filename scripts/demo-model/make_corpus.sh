#!/bin/sh
# Build the demo model's corpus reproducibly from Debian packages.
#
#   scripts/demo-model/make_corpus.sh [WORKDIR]      (default: .demo-work)
#
# Downloads the .deb files with apt-get (no install: they are unpacked into
# WORKDIR/root), extracts and cleans the text with Debian's /usr/bin/python3
# (standard library only), and writes
#   WORKDIR/corpus/{train.txt,valid.txt,stats.json,packages.txt}
#   WORKDIR/corpus.tar.gz      what the training run carries to the GPU machine
#   WORKDIR/corpus/SHA256SUMS
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-.demo-work}
mkdir -p "$work/debs" "$work/corpus"
work=$(cd "$work" && pwd)

PKGS="python3.11-doc libpython3.11-stdlib libpython3.11-minimal libpython3.11-testsuite
python3-django python-django-doc python-sqlalchemy-doc sphinx-doc python-flask-doc
python-jinja2-doc python-werkzeug-doc python-click-doc python-pytest-doc python-requests-doc
python-tornado-doc python-celery-doc python-scrapy-doc postgresql-doc-15 sqlite3-doc
python3-twisted python3-sqlalchemy python3-networkx python3-numpy python3-pandas python3-sklearn
python-sklearn-doc python-ipython-doc
bible-kjv-text bible-kjv dict-devil dict-jargon"

# The packages' own files, not installed: download only what is missing.
cd "$work/debs"
missing=""
for p in $PKGS; do
    ls "${p}"_*.deb >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
    if ! apt-get download $missing; then
        apt-get update && apt-get download $missing
    fi
fi
rm -rf "$work/root" && mkdir -p "$work/root"
: > "$work/corpus/packages.txt"
for p in $PKGS; do
    deb=$(ls "${p}"_*.deb | sort | tail -n 1)
    dpkg-deb -x "$deb" "$work/root"
    echo "$p $(dpkg-deb -f "$deb" Version)" >> "$work/corpus/packages.txt"
done

cd "$work"
nice -n 10 /usr/bin/python3 "$here/make_corpus.py" --root "$work/root" \
    --versions "$work/corpus/packages.txt" --out "$work/corpus"

# A tarball with fixed metadata so that the same text gives the same bytes.
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work" \
    -cf - corpus/train.txt corpus/valid.txt corpus/stats.json corpus/packages.txt \
    | gzip -n -9 > "$work/corpus.tar.gz"
(cd "$work/corpus" && sha256sum train.txt valid.txt stats.json packages.txt > SHA256SUMS)
(cd "$work" && sha256sum corpus.tar.gz >> corpus/SHA256SUMS)
cat "$work/corpus/SHA256SUMS"
ls -l "$work/corpus" "$work/corpus.tar.gz"
