"""DC-09 interop: frames built by siadc09 (an independent DC-09-2026 sender) sent to the real
xiaoan receiver over TCP and UDP; the replies are decoded and checked with siadc09, and what the
console shows is checked through the HTTP API.

Demo accounts: 1111 plain and 2222 AES-128 (ASCII key AAAAAAAAAAAAAAAA) at alarm point 1,
3333 AES-256 at alarm point 2, all at 恩施市实验小学."""

import datetime
import itertools
import re
import socket
import time

import pytest
from siadc09 import account, admcid, message, siadcs, util

from conftest import exchange

SCHOOL = "恩施市实验小学"
AES256_HEX = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
ACCOUNTS = {
    "1111": (None, 1),
    "2222": (b"AAAAAAAAAAAAAAAA", 1),
    "3333": (AES256_HEX, 2),
}
EVENTS = [
    # (token, data after "#acct|", incident kind, code in details)
    ("SIA-DCS", "Nri1/PA501", "panic", "PA"),
    ("SIA-DCS", "Nri1/BA001", "burglary", "BA"),
    ("ADM-CID", "1120 01 015", "panic", None),
    ("ADM-CID", "1122 01 015", "silent_panic", None),
]

_seq = itertools.count(11)


def next_seq() -> int:
    return next(_seq) % 9999 + 1


def acct(number: str) -> account.Account:
    key, _ = ACCOUNTS[number]
    return account.Account(acct=int(number, 16), key=key)


def keys_of(a: account.Account):
    return {a.get_id(): a.key} if a.key is not None else None


def frame(number: str, token: str, data: str, seq: int, timestamp=None) -> bytes:
    """A siadc09-encoded frame (encrypted when the account has a key)."""
    a = acct(number)
    content = f"#{number}|{data}".encode()
    group = siadcs.DataDcsGroup(content) if token == "SIA-DCS" else admcid.DataCid(content)
    m = message.EventMessage(a, config={"idtoken": token, "seqno": seq, "data": group})
    return m.encode(timestamp=timestamp or message.now())


def check_ack(reply: bytes | None, number: str, seq: int):
    """siadc09 decodes the reply and accepts it as the ACK of our frame."""
    assert reply is not None, "no reply"
    a = acct(number)
    parsed = message.parse_frame(reply, keys=keys_of(a))
    assert isinstance(parsed, message.AckMessage), f"not an ACK: {reply!r}"
    assert parsed.seq == seq
    assert parsed.account.acct == int(number, 16)
    if a.key is not None:
        # *ACK: decrypted with the account key, carries the receiver's time.
        assert parsed.encrypted
        assert reply.startswith(b"\n") and b'"*ACK"' in reply
        assert parsed.timestamp is not None
        skew = abs((parsed.timestamp - datetime.datetime.now(datetime.UTC)).total_seconds())
        assert skew < 5, f"*ACK timestamp off by {skew} s"
    else:
        assert not parsed.encrypted
        assert b'"ACK"' in reply
    return parsed


@pytest.mark.parametrize("transport", ["tcp", "udp"])
@pytest.mark.parametrize("number", list(ACCOUNTS))
@pytest.mark.parametrize("token,data,kind,code", EVENTS, ids=[e[1] for e in EVENTS])
def test_event_is_acked_and_becomes_the_right_incident(fresh, transport, number, token, data,
                                                       kind, code):
    seq = next_seq()
    reply = fresh.send(transport, frame(number, token, data, seq))
    check_ack(reply, number, seq)
    # The ACK leaves only after the commit: the incident is already there.
    incidents = fresh.open_incidents()
    assert len(incidents) == 1, incidents
    inc = incidents[0]
    assert inc["source"] == "dc09"
    assert inc["kind"] == kind
    assert inc["press_count"] == 1
    assert inc["school"]["name"] == SCHOOL
    assert inc["alarm_point_id"] == ACCOUNTS[number][1]
    d = inc["details"]
    assert d["account"] == number
    assert d["protocol"] == token
    assert d["sequence"] == seq
    assert d["encrypted"] == (ACCOUNTS[number][0] is not None)
    if code is not None:
        assert d["code"] == code


def parse_nak(reply: bytes) -> datetime.datetime:
    """Checks a NAK by hand and returns its timestamp.

    siadc09's decoder rejects the `"NAK"0000R0L0A0[]_ts` form the standard prescribes (it wants
    a `#acct` field: "Missing #acct field"), so the reply is parsed here: envelope, CRC-16/ARC
    (siadc09's own `util.crc`), length, token, sequence 0000 and the receiver's timestamp."""
    m = re.fullmatch(
        rb'\n([0-9A-F]{4})([0-9A-F]{4})("NAK"0000R0L0A0\[\]_(\d\d:\d\d:\d\d,\d\d-\d\d-\d{4}))\r',
        reply)
    assert m, f"not a NAK: {reply!r}"
    span = m.group(3)
    assert int(m.group(1), 16) == util.crc(span), "NAK CRC"
    assert int(m.group(2), 16) == len(span), "NAK length"
    return util.fromtimestamp(m.group(4).decode())


@pytest.mark.parametrize("transport", ["tcp", "udp"])
@pytest.mark.parametrize("number,offset", [("2222", -120), ("3333", -120), ("2222", 60)])
def test_timestamp_outside_the_window_gets_nak_and_no_incident(fresh, transport, number, offset):
    stale = message.now() + datetime.timedelta(seconds=offset)
    reply = fresh.send(transport, frame(number, "SIA-DCS", "Nri1/PA501", next_seq(), stale))
    assert reply is not None, "no reply"
    with pytest.raises(Exception):
        # Documented above: siadc09 cannot decode the standard NAK form.
        message.parse_frame(reply)
    ts = parse_nak(reply)
    assert abs((ts - datetime.datetime.now(datetime.UTC)).total_seconds()) < 5
    assert fresh.open_incidents() == []


def corrupt_crc(f: bytes) -> bytes:
    crc = int(f[1:5], 16) ^ 0x0101
    return f[:1] + b"%04X" % crc + f[5:]


@pytest.mark.parametrize("number", ["1111", "2222"])
def test_bad_crc_gets_no_reply_and_no_incident_tcp(fresh, number):
    bad = corrupt_crc(frame(number, "SIA-DCS", "Nri1/PA501", next_seq()))
    with socket.create_connection(fresh.dc09) as s:
        assert exchange(s, bad, wait=1.0) is None
        # The connection still works: the next good frame is acknowledged.
        seq = next_seq()
        check_ack(exchange(s, frame(number, "SIA-DCS", "Nri1/RP000", seq), 5.0), number, seq)
    assert fresh.open_incidents() == []


@pytest.mark.parametrize("number", ["1111", "3333"])
def test_bad_crc_gets_no_reply_and_no_incident_udp(fresh, number):
    bad = corrupt_crc(frame(number, "ADM-CID", "1120 01 015", next_seq()))
    assert fresh.udp(bad, wait=1.0) is None
    assert fresh.open_incidents() == []


@pytest.mark.parametrize("transport", ["tcp", "udp"])
@pytest.mark.parametrize("number", list(ACCOUNTS))
def test_retransmission_is_acked_again_and_makes_no_second_incident(fresh, transport, number):
    seq = next_seq()
    ts = message.now()
    first = frame(number, "SIA-DCS", "Nri1/PA501", seq, ts)
    check_ack(fresh.send(transport, first), number, seq)
    # The panel did not hear the ACK: the same frame again (for encrypted accounts siadc09
    # re-encrypts it with fresh padding, the content and timestamp are the same).
    again = first if ACCOUNTS[number][0] is None else frame(number, "SIA-DCS", "Nri1/PA501", seq, ts)
    check_ack(fresh.send(transport, again), number, seq)
    check_ack(fresh.send(transport, first), number, seq)
    incidents = fresh.open_incidents()
    assert len(incidents) == 1
    assert incidents[0]["press_count"] == 1


def test_a_second_press_with_a_new_sequence_joins_the_open_incident(fresh):
    for _ in range(2):
        seq = next_seq()
        check_ack(fresh.tcp(frame("1111", "SIA-DCS", "Nri1/PA501", seq)), "1111", seq)
    incidents = fresh.open_incidents()
    assert len(incidents) == 1
    assert incidents[0]["press_count"] == 2


def test_encrypted_link_test_is_acked(fresh):
    # siadc09 pads with random binary bytes that may contain '#' or 'N' and writes no '|' in a
    # NULL message; the receiver must still find the (empty) data.
    for number in ("2222", "3333"):
        for _ in range(20):
            a = acct(number)
            null = message.NullMessage(a, timestamp=message.now(), seqno=0).encode()
            reply = fresh.udp(null)
            assert reply is not None
            parsed = message.parse_frame(reply, keys=keys_of(a))
            assert isinstance(parsed, message.AckMessage)
            assert parsed.encrypted and parsed.timestamp is not None
    assert fresh.open_incidents() == []


def test_periodic_test_goes_to_the_signal_log(fresh):
    seq = next_seq()
    check_ack(fresh.tcp(frame("3333", "SIA-DCS", "Nri1/RP000", seq)), "3333", seq)
    assert fresh.open_incidents() == []
    signals = fresh.get("/api/v1/signals?limit=20", user="supervisor")["signals"]
    assert any(s["kind"] == "periodic_test" and s["device"] == "3333" for s in signals)


def test_many_frames_pipelined_on_one_connection_are_each_acked(fresh):
    seqs = [next_seq() for _ in range(20)]
    burst = b"".join(frame("1111", "SIA-DCS", "Nri1/RP000", s) for s in seqs)
    with socket.create_connection(fresh.dc09, timeout=5) as s:
        s.sendall(burst)
        buf = b""
        deadline = time.monotonic() + 5
        while buf.count(b"\r") < len(seqs) and time.monotonic() < deadline:
            buf += s.recv(4096)
    replies = [r + b"\r" for r in buf.split(b"\r") if r]
    assert [message.parse_frame(r).seq for r in replies] == seqs
