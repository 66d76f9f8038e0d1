"""Our panel simulator (`xiaoan sim dc09`) against pysiaalarm's receiver: pysiaalarm's parser
accepts our frames (CRC, plain and AES-128) and our simulator accepts pysiaalarm's ACKs."""

import pathlib
import socket
import subprocess
import sys

import pytest

from conftest import BIN

RECEIVER = pathlib.Path(__file__).parent / "bench" / "pysia_receiver.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def pysia():
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(RECEIVER), "--port", str(port), "--accounts", "1",
                             "--print"], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line.startswith("pysiaalarm receiver:"), line
    yield port, proc
    proc.terminate()
    proc.wait(timeout=10)


@pytest.mark.parametrize("args,code", [
    (["--account", "1111", "--event", "PA"], "PA"),
    (["--account", "1111", "--cid", "1120"], "PA"),
    (["--account", "2222", "--key", "AAAAAAAAAAAAAAAA", "--event", "BA"], "BA"),
])
def test_pysiaalarm_accepts_our_simulated_panel(pysia, args, code):
    port, proc = pysia
    out = subprocess.run([BIN, "sim", "dc09", "--to", f"127.0.0.1:{port}", *args],
                         capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    assert "ACK" in out.stdout, out.stdout
    event = proc.stdout.readline().split()
    assert event[:1] == ["event"] and event[1] == args[1] and event[2] == code, event
