#!/usr/bin/env bash
# What the separation-only and the training install cost on a fresh machine (README, "Install").
#
#   bash benchmarks/install_cost.sh WHEEL [WORKDIR]
#   bash benchmarks/install_cost.sh --apt-only [WORKDIR]
#
# Python: for the base install (`avsep`) and the training install (`avsep[train]`) of WHEEL,
# downloads every wheel pip picks, with no pip cache (network time, bytes), then creates a fresh
# venv and installs from those files only (install time, bytes on disk). Debian: `apt-get -s`
# against the dpkg status of a fresh Debian 12 machine with Python 3.11 (apt_fresh_status.py),
# with and without recommends: new packages, download and installed size from the archive's
# metadata. Needs a few GB under WORKDIR (default /tmp/avsep-install-cost) and nice-ness: it
# installs torch twice.
set -euo pipefail
WHEEL=${1:?usage: install_cost.sh WHEEL|--apt-only [WORKDIR]}
[ "$WHEEL" = --apt-only ] || WHEEL=$(realpath "$WHEEL")
WORK=${2:-/tmp/avsep-install-cost}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-python3.11}
export PIP_NO_CACHE_DIR=1
mkdir -p "$WORK"
cd "$WORK"

for kind in base train; do
  [ "$WHEEL" = --apt-only ] && break
  spec="avsep @ file://$WHEEL"; [ "$kind" = train ] && spec="avsep[train] @ file://$WHEEL"
  rm -rf "dl-$kind" "env-$kind"
  s=$(date +%s); "$PY" -m pip download -q -d "dl-$kind" "$spec" >/dev/null; download_s=$(( $(date +%s) - s ))
  s=$(date +%s); "$PY" -m venv "env-$kind"
  "env-$kind/bin/python" -m pip install -q --no-index --find-links "dl-$kind" "$spec"; install_s=$(( $(date +%s) - s ))
  printf 'pip %-5s %3d wheels, %5.2f GB download in %4d s; venv + install %4d s, %5.2f GB on disk\n' "$kind" \
    "$(ls "dl-$kind" | wc -l)" "$(du -sb "dl-$kind" | awk '{print $1 / 1e9}')" "$download_s" "$install_s" \
    "$(du -sb "env-$kind" | awk '{print $1 / 1e9}')"
done

python3 "$HERE/apt_fresh_status.py" > status-fresh
apt_cost() {  # label, apt-get install arguments...
  local label=$1; shift
  apt-get -s -o Dir::State::status="$WORK/status-fresh" -o Debug::NoLocking=1 install "$@" 2>/dev/null \
    | awk '/^Inst / && $3 !~ /^\[/ {gsub(/[()]/, "", $3); print $2 " " $3}' > "apt-$label.txt"
  local n=0 download=0 disk=0 size installed
  while read -r package version; do
    read -r size installed < <(apt-cache show "$package=$version" \
      | awk '/^Size:/ {s = $2} /^Installed-Size:/ {i = $2} /^$/ {exit} END {print s + 0, i + 0}')
    n=$((n + 1)); download=$((download + size)); disk=$((disk + installed * 1024))
  done < "apt-$label.txt"
  printf 'apt %-22s %3d new packages, %5.1f MB download, %5.1f MB on disk\n' "$label" "$n" \
    "$(awk "BEGIN {print $download / 1e6}")" "$(awk "BEGIN {print $disk / 1e6}")"
}
TRAIN_PACKAGES=$(sed -n '/^TRAIN_DEBIAN_PACKAGES=(/,/)/p' "$HERE/../install.sh" | tr -d '()' | sed 's/TRAIN_DEBIAN_PACKAGES=//')
apt_cost base --no-install-recommends python3-venv
# shellcheck disable=SC2086
apt_cost train --no-install-recommends python3-venv $TRAIN_PACKAGES
# shellcheck disable=SC2086
apt_cost train-with-recommends python3-venv $TRAIN_PACKAGES
