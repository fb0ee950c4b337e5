#!/usr/bin/env bash
# Fetch pinned third-party sources into third_party/ (git-ignored). Idempotent: skips what is
# already there. Never commit what this script downloads.
#
#   third_party/cmsis-dsp/{Include,Source,PrivateInclude?}  CMSIS-DSP C sources, from the PyPI
#                                                            sdist of `cmsisdsp` (pinned + sha256)
#   third_party/qemu/qemu-plugin.h                           TCG plugin API header, from Debian's
#                                                            `qemu` source package (bookworm, 7.2)
#   third_party/mbedtls/{include,library,LICENSE}            mbedTLS from Debian's `mbedtls` source
#                                                            package (pinned version + sha256): the
#                                                            blob loader's SHA-256 and ECDSA P-256
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TP=$ROOT/third_party
mkdir -p "$TP"

CMSISDSP_VERSION=1.10.3
CMSISDSP_SHA256=307d32298faa7c58db912851027fce35f886fec7eb1a27c4b309ce1a97f47519
# The plugin header of QEMU 7.2 declares this API version; qemu-system-arm 7.2 accepts it.
QEMU_PLUGIN_API_VERSION=1
MBEDTLS_DEB_VERSION=2.28.3-1
MBEDTLS_ORIG_SHA256=3b4953aa55a681e084d31892d9904cc5328d6b4958ea57b90ae4b4f94ae69a8d

PY=${PYTHON:-}
if [[ -z $PY ]]; then
  if [[ -x $ROOT/.venv/bin/python ]]; then PY=$ROOT/.venv/bin/python; else PY=python3; fi
fi

fetch_cmsis_dsp() {
  local dest=$TP/cmsis-dsp
  if [[ -f $dest/.version && $(cat "$dest/.version") == "$CMSISDSP_VERSION" ]]; then
    echo "[fetch] CMSIS-DSP $CMSISDSP_VERSION: present"
    return
  fi
  local tmp
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  # pip reads the sdist's metadata by running its setup.py, which imports setuptools and numpy.
  if ! "$PY" -c "import setuptools, numpy" 2>/dev/null; then
    echo "[fetch] ERROR: $PY lacks setuptools or numpy (run scripts/setup.sh, or set PYTHON=)" >&2
    exit 1
  fi
  echo "cmsisdsp==$CMSISDSP_VERSION --hash=sha256:$CMSISDSP_SHA256" >"$tmp/req.txt"
  echo "[fetch] CMSIS-DSP $CMSISDSP_VERSION (PyPI sdist)"
  # --no-build-isolation: pip prepares the sdist's metadata with the venv's setuptools instead
  # of installing the sdist's build requirements (numpy, cmake) just to download it.
  "$PY" -m pip download -q --no-deps --no-binary :all: --no-build-isolation \
      --require-hashes -r "$tmp/req.txt" -d "$tmp/dl"
  local sdist=$tmp/dl/cmsisdsp-$CMSISDSP_VERSION.tar.gz
  local got
  got=$(sha256sum "$sdist" | cut -d' ' -f1)
  if [[ $got != "$CMSISDSP_SHA256" ]]; then
    echo "[fetch] ERROR: $sdist sha256 $got != pinned $CMSISDSP_SHA256" >&2
    exit 1
  fi
  mkdir -p "$tmp/x"
  tar -xzf "$sdist" -C "$tmp/x"
  local src=$tmp/x/cmsisdsp-$CMSISDSP_VERSION
  rm -rf "$dest.new"
  mkdir -p "$dest.new"
  for d in Include Source PrivateInclude; do
    [[ -d $src/$d ]] && cp -r "$src/$d" "$dest.new/"
  done
  [[ -f $src/LICENSE ]] && cp "$src/LICENSE" "$dest.new/"
  [[ -f $dest.new/Include/arm_math.h ]] || { echo "[fetch] ERROR: no Include/arm_math.h in $sdist" >&2; exit 1; }
  echo "$CMSISDSP_VERSION" >"$dest.new/.version"
  rm -rf "$dest"
  mv "$dest.new" "$dest"
}

ensure_deb_src() {
  # A deb-src entry for the same mirror and suite as the binary packages.
  if ! grep -rqs "deb-src" /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null; then
    local uri
    uri=$(grep -hs -m1 -E '^URIs:.*debian/?$' /etc/apt/sources.list.d/*.sources | awk '{print $2}')
    [[ -z $uri ]] && uri=$(grep -hs -m1 -E '^deb .*debian/? bookworm' /etc/apt/sources.list | awk '{print $2}')
    [[ -z $uri ]] && { echo "[fetch] ERROR: no Debian mirror found in /etc/apt to add a deb-src line" >&2; exit 1; }
    local SUDO=""
    [[ $(id -u) -ne 0 ]] && SUDO=sudo
    echo "[fetch] adding a deb-src entry for bookworm"
    printf 'Types: deb-src\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" \
      | $SUDO tee /etc/apt/sources.list.d/kws-debian-src.sources >/dev/null
    $SUDO apt-get update -qq
  fi
}

fetch_qemu_plugin_header() {
  local dest=$TP/qemu
  if [[ -f $dest/qemu-plugin.h ]]; then
    echo "[fetch] qemu-plugin.h: present"
    return
  fi
  ensure_deb_src
  local tmp
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  echo "[fetch] qemu source package (download only)"
  # Same Debian version as the installed qemu-system-arm, so the header matches its plugin API.
  local ver
  ver=$(dpkg-query -W -f='${Version}' qemu-system-arm 2>/dev/null | sed 's/+b[0-9]*$//')
  (cd "$tmp" && { apt-get source -qq --download-only "qemu=$ver" 2>/dev/null \
                  || apt-get source -qq --download-only qemu; }) >/dev/null
  local orig
  orig=$(echo "$tmp"/qemu_*.orig.tar.*)
  [[ -f $orig ]] || { echo "[fetch] ERROR: no qemu orig tarball downloaded" >&2; exit 1; }
  # apt-get source checks the .dsc's signed checksums of the tarball.
  local member
  member=$(tar -tf "$orig" | grep '/include/qemu/qemu-plugin.h$' || true)
  mkdir -p "$tmp/x"
  local top=${member%%/*}
  tar -xf "$orig" -C "$tmp/x" "$member" "$top/VERSION"
  local hdr=$tmp/x/$member
  # The header must come from the same QEMU release (major.minor) as qemu-system-arm.
  local src_ver inst_ver
  src_ver=$(cut -d. -f1,2 "$tmp/x/$top/VERSION")
  inst_ver=$(qemu-system-arm --version 2>/dev/null | sed -n 's/^QEMU emulator version \([0-9]*\.[0-9]*\).*/\1/p')
  if [[ -n $inst_ver && $src_ver != "$inst_ver" ]]; then
    echo "[fetch] ERROR: qemu source $src_ver does not match qemu-system-arm $inst_ver" >&2
    exit 1
  fi
  grep -q "QEMU_PLUGIN_VERSION $QEMU_PLUGIN_API_VERSION\b" "$hdr" || {
    echo "[fetch] ERROR: $orig: qemu-plugin.h is not plugin API version $QEMU_PLUGIN_API_VERSION" >&2; exit 1; }
  mkdir -p "$dest"
  cp "$hdr" "$dest/qemu-plugin.h.new"
  echo "$(basename "$orig") (QEMU $src_ver)" >"$dest/SOURCE"
  mv "$dest/qemu-plugin.h.new" "$dest/qemu-plugin.h"
}

fetch_mbedtls() {
  local dest=$TP/mbedtls
  if [[ -f $dest/.version && $(cat "$dest/.version") == "$MBEDTLS_DEB_VERSION" ]]; then
    echo "[fetch] mbedTLS $MBEDTLS_DEB_VERSION: present"
    return
  fi
  ensure_deb_src
  local tmp
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  echo "[fetch] mbedtls $MBEDTLS_DEB_VERSION source package (download only)"
  (cd "$tmp" && apt-get source -qq --download-only "mbedtls=$MBEDTLS_DEB_VERSION") >/dev/null 2>&1 \
    || { echo "[fetch] ERROR: apt-get source mbedtls=$MBEDTLS_DEB_VERSION failed" >&2; exit 1; }
  local orig=$tmp/mbedtls_${MBEDTLS_DEB_VERSION%-*}.orig.tar.gz
  local got
  got=$(sha256sum "$orig" | cut -d' ' -f1)
  if [[ $got != "$MBEDTLS_ORIG_SHA256" ]]; then
    echo "[fetch] ERROR: $orig sha256 $got != pinned $MBEDTLS_ORIG_SHA256" >&2
    exit 1
  fi
  mkdir -p "$tmp/x"
  tar -xzf "$orig" -C "$tmp/x"
  local top
  top=$(echo "$tmp"/x/*)
  rm -rf "$dest.new"
  mkdir -p "$dest.new"
  cp -r "$top/include" "$top/library" "$top/LICENSE" "$dest.new/"
  echo "$MBEDTLS_DEB_VERSION" >"$dest.new/.version"
  rm -rf "$dest"
  mv "$dest.new" "$dest"
}

fetch_cmsis_dsp
fetch_qemu_plugin_header
fetch_mbedtls
echo "[fetch] third_party/: ready"
