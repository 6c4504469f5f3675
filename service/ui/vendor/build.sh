#!/usr/bin/env bash
# Rebuilds noble-curves.js, the page's one third-party file: BN254 (G1, G2, pairing,
# scalar field) and Poseidon from @noble/curves (MIT, audited, no dependencies but
# @noble/hashes, MIT), bundled into one ES module by esbuild. The versions are pinned;
# the output is committed, so building medproof never needs npm or the network.
# Usage: bash service/ui/vendor/build.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm init -y >/dev/null
npm install --silent --no-audit --no-fund @noble/curves@2.0.1 esbuild@0.25.12
cat > entry.js <<'JS'
export { bn254, bn254_Fr } from "@noble/curves/bn254.js";
export { grainGenConstants, poseidon } from "@noble/curves/abstract/poseidon.js";
JS
npx esbuild entry.js --bundle --format=esm --minify --legal-comments=inline \
  --banner:js="// @noble/curves 2.0.1 (MIT, github.com/paulmillr/noble-curves), bundled by service/ui/vendor/build.sh" \
  --outfile="$here/noble-curves.js"
cp node_modules/@noble/curves/LICENSE "$here/LICENSE-noble-curves"
cp node_modules/@noble/hashes/LICENSE "$here/LICENSE-noble-hashes"
