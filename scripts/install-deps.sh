#!/usr/bin/env bash
# Installs the system packages medproof needs when they are missing (Debian/Ubuntu):
# a C toolchain, clang and libclang (RocksDB's C++ and bindgen, for the rocksdb crate),
# and for the interop checks only Node.js, npm, python3-venv (schemathesis), curl and
# Chromium (the page's browser tests). Does nothing when everything is there.
set -euo pipefail
need() { command -v "$1" >/dev/null 2>&1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif need sudo; then sudo "$@"; else "$@"; fi; }

missing=()
need cc || missing+=(build-essential)
# clang++ compiles RocksDB's C++ (.cargo/config.toml says why).
need clang++ || missing+=(clang)
if ! ls /usr/lib/llvm-*/lib/libclang.so* /usr/lib/*/libclang-[0-9]*.so* >/dev/null 2>&1; then
  missing+=(libclang-dev)
fi
if [ "${1:-}" = "--with-node" ]; then
  need node || missing+=(nodejs)
  need npm || missing+=(npm)
  # schemathesis runs from a virtual environment.
  python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
  need curl || missing+=(curl)
  # The web page's browser tests drive Debian's headless Chromium.
  need chromium || need chromium-browser || missing+=(chromium)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi
need cargo || { echo "cargo is missing: install Rust with rustup first" >&2; exit 1; }
