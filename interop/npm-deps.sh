# Sourced by the interop scripts: installs the npm packages pinned in interop/package.json
# into a cache outside the clone (MEDPROOF_NPM_DIR, default ~/.cache/medproof-npm) when
# they are not there yet or package.json changed; sets $npm_dir.
npm_dir="${MEDPROOF_NPM_DIR:-$HOME/.cache/medproof-npm}"
mkdir -p "$npm_dir"
if ! cmp -s "$here/package.json" "$npm_dir/.installed-package.json"; then
  cp "$here/package.json" "$npm_dir/package.json"
  (cd "$npm_dir" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
  cp "$here/package.json" "$npm_dir/.installed-package.json"
fi
export MEDPROOF_NPM_DIR="$npm_dir"
