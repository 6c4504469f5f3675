#!/usr/bin/env bash
# Fails when building the `medproof` binary alone (scripts/demo.sh) would resolve other
# features than `cargo test --workspace` (.ci/run): each such crate, and everything
# that depends on it, would then be compiled twice on a fresh machine. The fix is the
# feature-unification list in service/Cargo.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
# The normal (target) edges only: build scripts' dependencies are compiled apart from
# the binary's (resolver 2), whatever features they get.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cargo tree --locked -e normal -f '{p} [{f}]' --prefix none -p medproof-service >"$work/alone"
cargo tree --locked -e normal,dev -f '{p} [{f}]' --prefix none --workspace >"$work/workspace"
python3 - "$work/alone" "$work/workspace" <<'PY'
import re, sys

def load(path):
    # Per crate, the feature sets of its instances (a crate can be built twice: for
    # the target and, under a proc-macro, for the host).
    out = {}
    for line in open(path):
        m = re.match(r"(\S+ v\S+)(?: \(.*?\))?(?: \(\*\))? \[(.*)\]", line.strip())
        if m:
            out.setdefault(m.group(1), set()).add(frozenset(f for f in m.group(2).split(",") if f))
    return out

def show(sets):
    return " | ".join(",".join(sorted(f)) or "-" for f in sorted(sets, key=sorted))

alone, workspace = load(sys.argv[1]), load(sys.argv[2])
if not alone or not workspace:
    sys.exit("cargo tree printed no crates")
stale = [(p, f) for p, f in sorted(alone.items()) if workspace.get(p, f) != f]
for p, f in stale:
    print(f"{p}: alone [{show(f)}], in the test build [{show(workspace[p])}]", file=sys.stderr)
if stale:
    sys.exit("the medproof binary alone resolves other features than the test build: see service/Cargo.toml")
print(f"features: the medproof binary alone resolves the test build's features ({len(alone)} crates)")
PY
