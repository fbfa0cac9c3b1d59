#!/usr/bin/env bash
# Installs avsep into ./.venv on a fresh Debian machine with Python 3.11, then separates the
# bundled example video into ./separated/. Safe to run again (it only adds what is missing).
#
#   bash install.sh           separation only: what `avsep separate` needs, nothing else
#   bash install.sh --train   also training, evaluation and the tests: the `train`, `dev` and
#                             `cluster` extras and the Debian packages `avsep data build` renders with
#
# AVSEP_SKIP_EXAMPLE=1 skips the example run; PYTHON=... picks the interpreter (python3.11).
set -euo pipefail
cd "$(dirname "$0")"

TRAIN=0
for arg in "$@"; do
  case "$arg" in
    --train) TRAIN=1 ;;
    -h|--help) sed -n '2,10s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option '$arg'; use --train (training and tests) or nothing (separation only)" >&2; exit 2 ;;
  esac
done

# Separation needs no Debian package beyond venv support: PyAV and torch wheels carry their
# libraries. The training list is avsep/train/dataset/system.py APT_PACKAGES (a test compares).
DEBIAN_PACKAGES=(python3-venv)
TRAIN_DEBIAN_PACKAGES=(fluidsynth fluid-soundfont-gm timgm6mb-soundfont
  musescore-general-soundfont-small openclipart-svg fonts-noto-color-emoji librsvg2-bin)
# The tests drive the avsep pick page in a headless browser: Debian's chromium and its driver
# (tests/browser.py BROWSER_PACKAGES; a test compares).
TEST_DEBIAN_PACKAGES=(chromium chromium-driver)
EXTRAS=""
if [ "$TRAIN" = 1 ]; then
  DEBIAN_PACKAGES+=("${TRAIN_DEBIAN_PACKAGES[@]}" "${TEST_DEBIAN_PACKAGES[@]}")
  EXTRAS="[train,dev,cluster]"
fi

missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update
  # No recommends: fluidsynth would otherwise bring qsynth with Qt 6 and GTK 3.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi

PY=${PYTHON:-python3.11}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".$EXTRAS"

if [ "${AVSEP_SKIP_EXAMPLE:-0}" != "1" ]; then
  # No boxes: the player finder finds the guitarist and the saxophone and names the outputs.
  .venv/bin/avsep separate examples/duet.mp4 -o separated --overwrite
  echo "Separated examples/duet.mp4 into separated/duet/ (acoustic_guitar.wav, saxophone.wav)."
fi
