"""Fixtures for the interop tests (DC-09, GB/T 28181): the real xiaoan binary started as `xiaoan demo` on free
ports in a temporary data directory, and helpers to talk DC-09 (TCP/UDP) and HTTP to it."""

import os
import pathlib
import queue
import re
import socket
import subprocess
import threading
import time

import pytest
import requests

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("XIAOAN_BIN") or str(ROOT / "target" / "debug" / "xiaoan")


class Xiaoan:
    """A running `xiaoan demo` with its DC-09 and HTTP addresses and logged-in users."""

    def __init__(self, tmp: pathlib.Path, extra_args=()):
        self.tmp = tmp
        self.log = open(tmp / "xiaoan.log", "wb")
        self.proc = subprocess.Popen(
            [BIN, "demo", "--http", "127.0.0.1:0", "--dc09", "127.0.0.1:0", "--sip", "127.0.0.1:0",
             "--data-dir", str(tmp / "data"), *extra_args],
            stdout=subprocess.PIPE, stderr=self.log, cwd=tmp,
        )
        lines: "queue.Queue[str]" = queue.Queue()

        def pump():
            for raw in self.proc.stdout:
                lines.put(raw.decode("utf-8", "replace"))

        threading.Thread(target=pump, daemon=True).start()
        self.dc09 = None
        self.sip = None
        self.http = None
        deadline = time.monotonic() + 30
        while (self.dc09 is None or self.http is None) and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            if m := re.match(r"DC-09 receiver: 127\.0\.0\.1:(\d+)", line):
                self.dc09 = ("127.0.0.1", int(m.group(1)))
            if m := re.match(r"GB/T 28181 platform: 127\.0\.0\.1:(\d+)", line):
                self.sip = ("127.0.0.1", int(m.group(1)))
            if m := re.match(r"xiaoan demo: (http://127\.0\.0\.1:\d+)/", line):
                self.http = m.group(1)
        if self.dc09 is None or self.http is None:
            self.stop()
            raise RuntimeError(f"xiaoan did not start; see {tmp / 'xiaoan.log'}")
        self.tokens = {}

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    # --- HTTP -------------------------------------------------------------------------------

    def token(self, user: str) -> str:
        if user not in self.tokens:
            r = requests.post(f"{self.http}/api/v1/login",
                              json={"username": user, "password": "demo"}, timeout=10)
            r.raise_for_status()
            self.tokens[user] = r.json()["token"]
        return self.tokens[user]

    def get(self, path: str, user: str = "operator"):
        r = requests.get(f"{self.http}{path}",
                         headers={"Authorization": f"Bearer {self.token(user)}"}, timeout=10)
        r.raise_for_status()
        return r.json()

    def post(self, path: str, body: dict, user: str = "supervisor"):
        r = requests.post(f"{self.http}{path}", json=body,
                          headers={"Authorization": f"Bearer {self.token(user)}"}, timeout=10)
        r.raise_for_status()
        return r.json()

    def open_incidents(self):
        return self.get("/api/v1/incidents?state=open")["incidents"]

    def all_incidents(self):
        return self.get("/api/v1/incidents")["incidents"]

    def resolve_open(self):
        """Resolves every open incident, so the next alarm at a point makes a new one."""
        for inc in self.open_incidents():
            self.post(f"/api/v1/incidents/{inc['id']}/claim", {})
            self.post(f"/api/v1/incidents/{inc['id']}/resolve",
                      {"disposition": "test", "note": "interop test"})

    # --- DC-09 ------------------------------------------------------------------------------

    def tcp(self, frame: bytes, wait: float = 5.0) -> bytes | None:
        """Sends one frame on a new TCP connection; returns the reply (None: none in `wait`)."""
        with socket.create_connection(self.dc09, timeout=wait) as s:
            return exchange(s, frame, wait)

    def udp(self, frame: bytes, wait: float = 5.0) -> bytes | None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(wait)
            s.sendto(frame, self.dc09)
            try:
                data, _ = s.recvfrom(4096)
            except TimeoutError:
                return None
            return data

    def send(self, transport: str, frame: bytes, wait: float = 5.0) -> bytes | None:
        return self.tcp(frame, wait) if transport == "tcp" else self.udp(frame, wait)


def exchange(s: socket.socket, frame: bytes, wait: float) -> bytes | None:
    """Writes `frame` on a connected TCP socket and reads one reply up to `<CR>`."""
    s.settimeout(wait)
    s.sendall(frame)
    buf = b""
    try:
        while not buf.endswith(b"\r"):
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
    except TimeoutError:
        return None
    return buf or None


@pytest.fixture(scope="session")
def xiaoan(tmp_path_factory):
    if not os.path.exists(BIN):
        pytest.fail(f"no xiaoan binary at {BIN}: run cargo build first (or set XIAOAN_BIN)")
    server = Xiaoan(tmp_path_factory.mktemp("xiaoan"))
    yield server
    server.stop()


@pytest.fixture
def fresh(xiaoan):
    """The server with no open incident before and after the test."""
    xiaoan.resolve_open()
    yield xiaoan
    xiaoan.resolve_open()
