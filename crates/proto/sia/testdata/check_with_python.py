#!/usr/bin/env python3
"""One-off interop check: feed frames printed by `cargo run -p xiaoan-sia --example
emit_frames` to the independent siadc09 decoder (all frames) and to pysiaalarm's receiver
parser (requests only). Usage:

    cargo run -q -p xiaoan-sia --example emit_frames > /tmp/ours.txt
    /tmp/siavenv/bin/python crates/proto/sia/testdata/check_with_python.py /tmp/ours.txt
"""
import sys
from siadc09 import message
from pysiaalarm import SIAAccount
from pysiaalarm.event import SIAEvent

ok = True
for raw in open(sys.argv[1]):
    name, key, frame = [x.strip() for x in raw.split("|")]
    frame = bytes.fromhex(frame)
    keybytes = bytes.fromhex(key) if key != "-" else None
    try:
        m = message.parse_frame(frame, keys=keybytes)
        res = f"siadc09 OK {type(m).__name__} seq={m.seq} ts={m.timestamp} data={m.data!r}"
    except Exception as e:  # noqa: BLE001
        ok = False
        res = f"siadc09 FAIL {e!r}"
    if name.split("_")[0] in ("sia", "adm", "null"):
        acct = SIAAccount("1234", keybytes.decode() if keybytes else None, allowed_timeband=None)
        try:
            ev = SIAEvent.from_line(frame.decode("ascii").strip("\n\r"), {"1234": acct})
            valid = ev.valid_message
            res += f" | pysiaalarm code={getattr(ev, 'code', None)} valid={valid} resp={ev.response}"
        except Exception as e:  # noqa: BLE001
            ok = False
            res += f" | pysiaalarm FAIL {e!r}"
    print(f"{name}: {res}")
print("ALL OK" if ok else "FAILURES")
