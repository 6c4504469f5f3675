#!/usr/bin/env python3
"""An independent check of medproof's transparency log, written from the specifications
(c2sp.org/signed-note, c2sp.org/tlog-checkpoint, c2sp.org/tlog-tiles, RFC 6962 section
2.1) and not from medproof's code. Given the log's URL and its note verifier key:

  - recomputes the key id from the key name and the key, and checks the one in the key;
  - fetches /checkpoint and verifies the log's Ed25519 signature over the note's text
    (and that a changed byte of the text fails it);
  - fetches every entry bundle and hash tile of the checkpoint's tree, checks that each
    entry hashes (SHA-256 of 0x00 and the entry) to its level-0 tile hash, that each
    higher tile hash is the Merkle Tree Hash of the hashes below, and recomputes the
    tree's root from the entries: it must be the checkpoint's.

With --witness, also checks a witness's cosignature (c2sp.org/tlog-cosignature, Ed25519
v1) on a cosigned checkpoint file of the same log.

Usage: tlog.py URL VERIFIER_KEY [LEDGER_PUBLIC_KEY_HEX] [--witness WITNESS_KEY FILE]
Needs the `cryptography` package.
"""

import base64
import hashlib
import sys
import urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

TILE = 256


def fail(msg):
    print(f"tlog.py: {msg}", file=sys.stderr)
    sys.exit(1)


def get(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.headers.get("Content-Type", ""), r.read()


def leaf_hash(entry):
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def mth(hashes):
    """RFC 6962 Merkle Tree Hash over leaf hashes (k: the largest power of 2 below n)."""
    n = len(hashes)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashes[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(mth(hashes[:k]), mth(hashes[k:]))


def index_path(n):
    """tlog-tiles: N in zero-padded 3-digit elements, all but the last prefixed with x."""
    parts = [f"{n % 1000:03d}"]
    n //= 1000
    while n > 0:
        parts.insert(0, f"x{n % 1000:03d}")
        n //= 1000
    return "/".join(parts)


def tile_path(level, n, width):
    suffix = "" if width == TILE else f".p/{width}"
    return f"tile/{level}/{index_path(n)}{suffix}"


def parse_vkey(vkey, kind):
    """signed-note: a verifier key is name+hexid+base64(type || key), split at the first
    two `+` (base64 may hold `+`); the id is SHA-256(name || "\n" || type || key)[:4]."""
    name, hexid, keyb64 = vkey.strip().split("+", 2)
    key = base64.b64decode(keyb64, validate=True)
    if len(key) != 33 or key[0] != kind:
        fail(f"not a verifier key of type {kind}")
    key_id = hashlib.sha256(name.encode() + b"\n" + key).digest()[:4]
    if key_id.hex() != hexid:
        fail(f"key id {hexid} is not the key's ({key_id.hex()})")
    return name, key_id, key[1:]


def split_note(note):
    """The text (with its final newline) and the (name, signature bytes) lines."""
    text, _, signatures = note.decode("utf-8").rpartition("\n\n")
    lines = []
    for line in signatures.rstrip("\n").split("\n"):
        if not line.startswith("\u2014 "):
            fail(f"not a signature line: {line!r}")
        signer, sig = line[2:].rsplit(" ", 1)
        lines.append((signer, base64.b64decode(sig, validate=True)))
    return text + "\n", lines


def check_cosignature(vkey, path, log_text):
    """tlog-cosignature v1: type 0x04, signature = id || u64 time || Ed25519 over
    "cosignature/v1\ntime <t>\n" || the checkpoint text."""
    name, key_id, raw = parse_vkey(vkey, 0x04)
    public = Ed25519PublicKey.from_public_bytes(raw)
    text, lines = split_note(open(path, "rb").read())
    if text != log_text:
        fail("the cosigned checkpoint is not the log's current one")
    for signer, sig in lines:
        if signer != name or sig[:4] != key_id:
            continue
        if len(sig) != 4 + 8 + 64:
            fail("a cosignature of the wrong length")
        time = int.from_bytes(sig[4:12], "big")
        message = f"cosignature/v1\ntime {time}\n".encode() + text.encode()
        try:
            public.verify(sig[12:], message)
        except InvalidSignature:
            fail("the witness's cosignature does not verify")
        try:
            public.verify(sig[12:], f"cosignature/v1\ntime {time + 1}\n".encode() + text.encode())
            fail("a cosignature verifies at another time")
        except InvalidSignature:
            pass
        return name, time
    fail(f"no cosignature by {name} in {path}")


def main():
    args = sys.argv[1:]
    witness = None
    if "--witness" in args:
        at = args.index("--witness")
        witness = args[at + 1:at + 3]
        args = args[:at] + args[at + 3:]
        if len(witness) != 2:
            fail("--witness WITNESS_KEY FILE")
    if len(args) not in (2, 3):
        fail(__doc__.strip().splitlines()[-2])
    base = args[0].rstrip("/")
    name, key_id, raw = parse_vkey(args[1], 0x01)
    hexid = key_id.hex()
    if len(args) == 3 and raw.hex() != args[2].strip():
        fail("the verifier key is not the ledger's public key")
    public = Ed25519PublicKey.from_public_bytes(raw)

    content_type, note = get(f"{base}/checkpoint")
    if not content_type.startswith("text/plain"):
        fail(f"/checkpoint is served as {content_type}")
    text, lines = split_note(note)
    verified = False
    for signer, sig in lines:
        if signer != name or sig[:4] != key_id:
            continue
        try:
            public.verify(sig[4:], text.encode())
        except InvalidSignature:
            fail("the checkpoint's signature does not verify")
        changed = bytearray(text.encode())
        changed[len(name) + 1] ^= 1
        try:
            public.verify(sig[4:], bytes(changed))
            fail("a changed checkpoint text verifies")
        except InvalidSignature:
            pass
        verified = True
    if not verified:
        fail("no signature by the log's key on its checkpoint")

    # tlog-checkpoint: origin, decimal size, base64 root, optional extension lines.
    lines = text.split("\n")
    origin, size, root = lines[0], int(lines[1]), base64.b64decode(lines[2], validate=True)
    if origin != name:
        fail(f"the checkpoint's origin {origin!r} is not the key's name {name!r}")
    if size == 0:
        fail("an empty log")

    # Level 0: the entries and their hashes.
    leaves = []
    for n in range((size + TILE - 1) // TILE):
        width = min(TILE, size - n * TILE)
        _, bundle = get(f"{base}/{tile_path('entries', n, width)}")
        entries, at = [], 0
        while at < len(bundle):
            length = int.from_bytes(bundle[at:at + 2], "big")
            entries.append(bundle[at + 2:at + 2 + length])
            at += 2 + length
        if at != len(bundle) or len(entries) != width:
            fail(f"entry bundle {n}: {len(entries)} entries, expected {width}")
        hashes = [leaf_hash(e) for e in entries]
        _, tile = get(f"{base}/{tile_path(0, n, width)}")
        if tile != b"".join(hashes):
            fail(f"level-0 tile {n} is not the hashes of its entries")
        leaves += hashes

    # Higher levels: each hash is the MTH of a full 256^level block of leaves.
    level, tiles = 1, 0
    while size >> (8 * level) > 0:
        count = size >> (8 * level)
        span = TILE ** level
        for n in range((count + TILE - 1) // TILE):
            width = min(TILE, count - n * TILE)
            _, tile = get(f"{base}/{tile_path(level, n, width)}")
            start = n * TILE
            expected = b"".join(mth(leaves[(start + i) * span:(start + i + 1) * span])
                                for i in range(width))
            if tile != expected:
                fail(f"level-{level} tile {n} is not the hashes of the tiles below")
            tiles += 1
        level += 1

    if mth(leaves) != root:
        fail("the entries do not make the checkpoint's root")
    print(f"tlog.py: the checkpoint of {origin} verifies under its key (id {hexid}); "
          f"{size} entries from the entry bundles make its root, and {tiles} higher "
          f"tiles hold the hashes below them")
    if witness:
        who, time = check_cosignature(witness[0], witness[1], text)
        print(f"tlog.py: {who} cosigned that checkpoint at {time} (tlog-cosignature v1)")


if __name__ == "__main__":
    main()
