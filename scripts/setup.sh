#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian 12 machine (run as root, or with sudo available).
# Installs the Debian packages kws needs, creates .venv/ with the package and its extras,
# and fetches the pinned third-party sources (CMSIS-DSP, QEMU plugin header) into third_party/.
# A second run skips everything that is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

APT_PKGS=(
  build-essential cmake ninja-build pkg-config dpkg-dev
  gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi
  qemu-system-arm libglib2.0-dev
  libsndfile1 sox
  espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts
  fortunes
  python3-venv
)

missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "[setup] installing Debian packages: ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "[setup] Debian packages: present"
fi

PY=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  echo "[setup] creating .venv"
  "$PY" -m venv .venv
fi
STAMP=.venv/.kws-installed
if [[ ! -f $STAMP || pyproject.toml -nt $STAMP ]]; then
  echo "[setup] installing the kws package and its extras into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[train,dev,search]"
  touch "$STAMP"
else
  echo "[setup] .venv: present"
fi

if [[ -x scripts/fetch_third_party.sh ]]; then
  scripts/fetch_third_party.sh
fi
echo "[setup] done: CLI at $ROOT/.venv/bin/kws"
