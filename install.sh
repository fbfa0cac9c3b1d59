#!/usr/bin/env bash
# Installs avsep into ./.venv on a fresh Debian machine with Python 3.11, then separates the
# bundled example video into ./separated/. Safe to run again (it only adds what is missing).
set -euo pipefail
cd "$(dirname "$0")"

DEBIAN_PACKAGES=(python3-venv fluidsynth fluid-soundfont-gm timgm6mb-soundfont
  musescore-general-soundfont-small openclipart-svg fonts-noto-color-emoji librsvg2-bin)
missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y "${missing[@]}"
fi

PY=${PYTHON:-python3.11}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'

if [ "${AVSEP_SKIP_EXAMPLE:-0}" != "1" ]; then
  .venv/bin/avsep separate examples/duet.mp4 --names left right -o separated --overwrite
  echo "Separated examples/duet.mp4 into separated/duet/ (left.wav, right.wav)."
fi
