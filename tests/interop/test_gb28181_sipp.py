"""GB/T 28181 interop: SIPp (Debian `sip-tester`, an independent SIP implementation) plays a
device against xiaoan's platform over UDP and TCP: REGISTER → 401 → authenticated REGISTER → 200,
a keepalive, a GB2312 alarm → 200, and the platform's own `Response` MESSAGE (a new Call-ID,
answered by SIPp's out-of-call scenario); the alarm shows as an incident. A wrong password and a
replayed Authorization are refused."""

import pathlib
import shutil
import subprocess
import time

import pytest

SIPP = shutil.which("sipp")
pytestmark = pytest.mark.skipif(SIPP is None, reason="sipp (Debian package sip-tester) not installed")

PASSWORD = "12345678"
# The demo binds this one-key alarm input to 恩施市实验小学's 南门门卫室.
ALARM_INPUT = "42280100001340000001"
PLATFORM = "42280100002000000001"
DOMAIN = "4228010000"

HEAD = """<?xml version="1.0" encoding="ISO-8859-1"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="{name}">
"""


def register(auth: bool, cseq: int, expires: int = 3600) -> str:
    authz = "\n      [authentication username={dev} password={pw}]" if auth else ""
    return f"""
  <send retrans="500">
    <![CDATA[
      REGISTER sip:{PLATFORM}@{DOMAIN} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];rport;branch=[branch]
      From: <sip:{{dev}}@{DOMAIN}>;tag=[pid]SIPpTag00[call_number]
      To: <sip:{{dev}}@{DOMAIN}>
      Call-ID: [call_id]
      CSeq: {cseq} REGISTER
      Contact: <sip:{{dev}}@[local_ip]:[local_port]>
      Max-Forwards: 70
      User-Agent: SIPp GB28181 device
      Expires: {expires}{authz}
      Content-Length: 0

    ]]>
  </send>
"""


def message(cseq: int, body: str) -> str:
    return f"""
  <send retrans="500">
    <![CDATA[
      MESSAGE sip:{PLATFORM}@{DOMAIN} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];rport;branch=[branch]
      From: <sip:{{dev}}@{DOMAIN}>;tag=[pid]SIPpTag00[call_number]
      To: <sip:{PLATFORM}@{DOMAIN}>
      Call-ID: [call_id]
      CSeq: {cseq} MESSAGE
      Max-Forwards: 70
      User-Agent: SIPp GB28181 device
      Content-Type: Application/MANSCDP+xml
      Content-Length: [len]

{body}
    ]]>
  </send>
"""


KEEPALIVE = """<?xml version="1.0" encoding="GB2312"?>
<Notify>
<CmdType>Keepalive</CmdType>
<SN>11</SN>
<DeviceID>{dev}</DeviceID>
<Status>OK</Status>
</Notify>"""

ALARM = """<?xml version="1.0" encoding="GB2312"?>
<Notify>
<CmdType>Alarm</CmdType>
<SN>{sn}</SN>
<DeviceID>{dev}</DeviceID>
<AlarmPriority>4</AlarmPriority>
<AlarmMethod>2</AlarmMethod>
<AlarmTime>{time}</AlarmTime>
<AlarmDescription>南门一键报警柱按下</AlarmDescription>
<Longitude>109.4869</Longitude>
<Latitude>30.2952</Latitude>
</Notify>"""


def recv(status: int, auth: bool = False) -> str:
    extra = ' auth="true"' if auth else ""
    return f'  <recv response="{status}"{extra}/>\n'


def scenario(path: pathlib.Path, name: str, steps: list[str], dev: str) -> pathlib.Path:
    text = HEAD.format(name=name) + "".join(steps) + "</scenario>\n"
    path.write_bytes(text.replace("{dev}", dev).replace("{pw}", PASSWORD).encode("gb2312"))
    return path


def out_of_call(path: pathlib.Path) -> pathlib.Path:
    """Answers any request the platform sends (catalog query, device info, alarm subscription,
    alarm Response)."""
    text = HEAD.format(name="ooc") + """
  <recv request="MESSAGE|SUBSCRIBE" regexp_match="true"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]ooc[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
</scenario>
"""
    path.write_text(text)
    return path


def run_sipp(xiaoan, tmp: pathlib.Path, scen: pathlib.Path, transport: str, extra=()) -> tuple[int, str]:
    log = tmp / f"{scen.stem}-{transport}-messages.log"
    port = free_port(transport)
    cmd = [SIPP, f"{xiaoan.sip[0]}:{xiaoan.sip[1]}", "-sf", str(scen), "-i", "127.0.0.1",
           "-p", str(port), "-m", "1", "-nostdin", "-t", "u1" if transport == "udp" else "t1",
           "-trace_msg", "-message_file", str(log), "-timeout", "20", "-timeout_error", *extra]
    proc = subprocess.run(cmd, capture_output=True, timeout=40, cwd=tmp)
    messages = log.read_text(errors="replace") if log.exists() else ""
    return proc.returncode, messages + proc.stdout.decode(errors="replace")[-2000:] + proc.stderr.decode(errors="replace")[-2000:]


def free_port(transport: str) -> int:
    import socket
    kind = socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    return pred()


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_a_sipp_device_registers_keeps_alive_and_its_gb2312_alarm_becomes_an_incident(xiaoan, tmp_path, transport):
    xiaoan.resolve_open()
    sn = 7000 + (1 if transport == "udp" else 2)
    now = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime())
    steps = [
        register(False, 1), recv(401, auth=True),
        register(True, 2), recv(200),
        message(3, KEEPALIVE), recv(200),
        message(4, ALARM.format(sn=sn, dev="{dev}", time=now)), recv(200),
        '  <pause milliseconds="2500"/>\n',
    ]
    scen = scenario(tmp_path / "device.xml", "gb28181 device", steps, ALARM_INPUT)
    ooc = out_of_call(tmp_path / "ooc.xml")
    rc, log = run_sipp(xiaoan, tmp_path, scen, transport, ["-oocsf", str(ooc)])
    assert rc == 0, log
    # The 200 OK to REGISTER carries the platform's Date; the platform then sent its own
    # Response MESSAGE for the alarm (CmdType Alarm, Result OK), which SIPp received.
    assert "Date: " in log
    assert "<Response>" in log and "<CmdType>Alarm</CmdType>" in log and "<Result>OK</Result>" in log, log
    # The 200 came after the commit: the incident is there, at the bound alarm point, priority 1
    # (a one-key point), with the device's description.
    incs = wait_for(lambda: [i for i in xiaoan.open_incidents() if i["source"] == "gb28181"])
    assert len(incs) == 1, incs
    inc = incs[0]
    assert inc["school"]["name"] == "恩施市实验小学"
    assert inc["priority"] == 1
    assert inc["details"]["channel_id"] == ALARM_INPUT
    assert inc["details"]["description"] == "南门一键报警柱按下"
    assert inc["details"]["lon"] == pytest.approx(109.4869)


def test_a_wrong_password_is_refused(xiaoan, tmp_path):
    steps = [register(False, 1), recv(401, auth=True), register(True, 2), recv(403)]
    text = (HEAD.format(name="wrong") + "".join(steps) + "</scenario>\n").replace("{dev}", ALARM_INPUT)
    scen = tmp_path / "wrong.xml"
    scen.write_text(text.replace("{pw}", "not-the-password"))
    rc, log = run_sipp(xiaoan, tmp_path, scen, "udp")
    assert rc == 0, log


def test_a_replayed_authorization_is_challenged_again(xiaoan, tmp_path):
    # The second authenticated REGISTER reuses the nonce of the first (SIPp answers the same
    # challenge again): the platform refuses it with a fresh stale challenge, not a 200.
    steps = [
        register(False, 1), recv(401, auth=True),
        register(True, 2), recv(200),
        register(True, 3), recv(401, auth=True),
        register(True, 4), recv(200),
    ]
    scen = scenario(tmp_path / "replay.xml", "replay", steps, ALARM_INPUT)
    rc, log = run_sipp(xiaoan, tmp_path, scen, "udp")
    assert rc == 0, log
    assert "stale=true" in log, log


def test_a_retransmitted_alarm_makes_no_second_incident(xiaoan, tmp_path):
    xiaoan.resolve_open()
    now = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime())
    alarm = message(3, ALARM.format(sn=7100, dev="{dev}", time=now))
    steps = [
        register(False, 1), recv(401, auth=True),
        register(True, 2), recv(200),
        alarm, recv(200),
        # The device did not hear the 200 and sends the same alarm again (same SN and time).
        message(4, ALARM.format(sn=7100, dev="{dev}", time=now)), recv(200),
        '  <pause milliseconds="500"/>\n',
    ]
    scen = scenario(tmp_path / "again.xml", "again", steps, ALARM_INPUT)
    ooc = out_of_call(tmp_path / "ooc.xml")
    rc, log = run_sipp(xiaoan, tmp_path, scen, "udp", ["-oocsf", str(ooc)])
    assert rc == 0, log
    incs = [i for i in xiaoan.open_incidents() if i["source"] == "gb28181"]
    assert len(incs) == 1
    assert incs[0]["press_count"] == 1
