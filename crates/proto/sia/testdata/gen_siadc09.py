#!/usr/bin/env python3
"""Capture DC-09 frames from the independent `siadc09` sender (PyPI, 1.0.1).

Usage: python3 -m venv /tmp/siavenv && /tmp/siavenv/bin/pip install siadc09
       /tmp/siavenv/bin/python gen_siadc09.py > siadc09_frames.txt

Encrypted frames carry random padding, so a re-run yields different bytes; the committed
file is one capture. Line format: name | key (hex, or -) | frame bytes as hex.
"""
from datetime import datetime, UTC
from siadc09 import account, message, xdata

TS = datetime(2025, 3, 14, 8, 30, 0, tzinfo=UTC)
KEYS = {
    "aes128": "30313233343536373839414243444546",  # ASCII "0123456789ABCDEF"
    "aes192": "303132333435363738394142434445463031323334353637",
    "aes256": "3031323334353637383941424344454630313233343536373839414243444546",
}


def emit(name, key, frame):
    print(f"{name} | {key or '-'} | {frame.hex()}")


def event(acct, token, seq, data, xd=(), ts=TS):
    return message.EventMessage(acct, config={
        "idtoken": token, "seqno": seq, "data": xdata.Data(data),
        "xdata": list(xd), "timestamp": ts})


print("# Captured with siadc09 1.0.1 (gen_siadc09.py); timestamp 08:30:00,03-14-2025 UTC")
plain = account.Account(acct=0x1234, pref=0x34, rcvr=0x12)
emit("sia_dcs_plain", None, event(plain, "SIA-DCS", 7, b"#1234|Nri1/PA501",
     [xdata.XData("X", "E114.3055"), xdata.XData("Y", "N30.5928")]).encode(encrypt=False))
emit("sia_dcs_plain_no_ts", None, event(account.Account(acct=0x1234), "SIA-DCS", 8,
     b"#1234|Nri1/BA003", ts=None).encode(encrypt=False))
emit("adm_cid_plain", None, event(plain, "ADM-CID", 9, b"#1234|1120 01 015").encode(encrypt=False))
emit("null_plain", None, message.NullMessage(plain, timestamp=TS, seqno=0).encode(encrypt=False))
emit("ack_plain", None, message.AckMessage(plain, seq=7).encode(encrypt=False))
emit("nak", None, message.NakMessage(plain, timestamp=TS).encode())
emit("duh", None, message.DuhMessage(plain, seq=7).encode())

for name, key in KEYS.items():
    acct = account.Account(acct=0x1234, pref=0x34, rcvr=0x12, key=key)
    emit(f"sia_dcs_{name}", key, event(acct, "SIA-DCS", 10, b"#1234|Nri1/PA501",
         [xdata.XData("V", "http://10.0.0.5/cam1")]).encode(encrypt=True))
    emit(f"adm_cid_{name}", key, event(acct, "ADM-CID", 11, b"#1234|1122 01 003").encode(encrypt=True))
    emit(f"null_{name}", key, message.NullMessage(acct, timestamp=TS, seqno=0).encode(encrypt=True))
    emit(f"ack_{name}", key, message.AckMessage(acct, seq=10, timestamp=TS).encode(encrypt=True))
