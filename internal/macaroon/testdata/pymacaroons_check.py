"""Independent check of internal/macaroon against pymacaroons.

Run by pymacaroons_test.go with /usr/bin/python3. Modes:

  vectors PATH  mint every vector in PATH with pymacaroons and compare the
                exact V2 bytes and text form; verify each with pymacaroons.
  verify        stdin: {"token", "root_key", "satisfy"}; exit 0 if
                pymacaroons verifies the token, 1 if it refuses.
  mint          stdin: one vector description; stdout: {"token"}, the text
                form. A caveat may be {"third_party": {"key", "id",
                "location"}} (random nonce), which internal/macaroon refuses.

Hex is used for keys and ids; caveats are text.
"""

import base64
import binascii
import json
import sys

from nacl.exceptions import CryptoError
from pymacaroons import MACAROON_V2, Macaroon, Verifier
from pymacaroons.exceptions import MacaroonException
from pymacaroons.serializers.binary_serializer import BinarySerializer

PREFIX = "llms_m2_"


def to_text(raw):
    return PREFIX + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def from_text(text):
    if not text.startswith(PREFIX):
        raise ValueError("missing prefix")
    body = text[len(PREFIX):]
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))


def canonical_bytes(m):
    """pymacaroons writes an empty location field when the location is empty;
    the canonical V2 form (libmacaroons, ours) omits it. Nothing else differs."""
    raw = BinarySerializer().serialize_raw(m)
    if m.location == "":
        assert raw[1:3] == b"\x01\x00", "unexpected pymacaroons encoding"
        raw = raw[:1] + raw[3:]
    return raw


def mint(vector):
    root = Macaroon(
        location=vector["location"],
        identifier=binascii.unhexlify(vector["id"]),
        key=binascii.unhexlify(vector["root_key"]),
        version=MACAROON_V2,
    )
    for c in vector["caveats"]:
        if "first_party" in c:
            root.add_first_party_caveat(c["first_party"])
            continue
        tp = c["third_party"]
        root.add_third_party_caveat(
            tp["location"], binascii.unhexlify(tp["key"]), tp["id"].encode()
        )
    return root


def verify(root, root_key, satisfy):
    v = Verifier()
    for cond in satisfy:
        v.satisfy_exact(cond)
    try:
        return v.verify(root, root_key)
    except (MacaroonException, CryptoError):
        return False


def parse(text):
    return BinarySerializer().deserialize_raw(from_text(text))


def satisfied(vector):
    return [c["first_party"] for c in vector["caveats"]]


def check_vectors(path):
    with open(path) as f:
        vectors = json.load(f)["vectors"]
    failures = 0
    for vec in vectors:
        raw = canonical_bytes(mint(vec))
        problems = []
        if binascii.hexlify(raw).decode() != vec["binary"]:
            problems.append("binary differs")
        if to_text(raw) != vec["text"]:
            problems.append("text differs")
        parsed = parse(vec["text"])
        key = binascii.unhexlify(vec["root_key"])
        if not verify(parsed, key, satisfied(vec)):
            problems.append("does not verify")
        if verify(parsed, key + b"x", satisfied(vec)):
            problems.append("verifies with the wrong key")
        for p in problems:
            print("%s: %s" % (vec["name"], p))
        failures += len(problems)
    print("checked %d vectors, %d problems" % (len(vectors), failures))
    return 1 if failures else 0


def main():
    mode = sys.argv[1]
    if mode == "vectors":
        return check_vectors(sys.argv[2])
    req = json.load(sys.stdin)
    if mode == "verify":
        ok = verify(
            parse(req["token"]), binascii.unhexlify(req["root_key"]), req["satisfy"]
        )
        print("verified" if ok else "refused")
        return 0 if ok else 1
    if mode == "mint":
        json.dump({"token": to_text(canonical_bytes(mint(req)))}, sys.stdout)
        return 0
    print("unknown mode", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
