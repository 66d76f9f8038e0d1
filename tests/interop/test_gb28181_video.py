"""GB/T 28181 live video from an independent camera: tests/peers/gb_camera.py (SIP written from
the standard, no xiaoan code) registers to `xiaoan demo`, answers the platform's INVITE and
streams PS over RTP made by GStreamer (x264enc + mpegpsmux, tests/peers/gb_ps_sender.py). The
camera is configured (an extra --config file) at alarm point 2, so the platform keeps it
invited; the test waits until GET /api/v1/cameras shows it live at 640x360. Once with media over
UDP and once over TCP (the platform listens, the camera connects, RFC 4571)."""

import pathlib
import subprocess
import time

import pytest

from conftest import BIN, Xiaoan

PEERS = pathlib.Path(__file__).resolve().parents[1] / "peers"
CAMERA = "42280100001320000009"
GATE = "42280100001320000001"

CONFIG = """
[gb28181]
media_transport = "{transport}"

[[cameras]]
id = "{gate}"
name = "南门摄像机"
school_id = 1
alarm_point_id = 1
source = {{ kind = "gb28181", device_id = "{gate}", channel_id = "{gate}" }}

[[cameras]]
id = "{camera}"
name = "interop camera"
school_id = 1
alarm_point_id = 2
source = {{ kind = "gb28181", device_id = "{camera}", channel_id = "{camera}" }}
"""


def gstreamer_available() -> bool:
    r = subprocess.run(["/usr/bin/python3", "-c",
                        "import gi; gi.require_version('Gst', '1.0'); from gi.repository import Gst;"
                        "Gst.init(None); assert Gst.ElementFactory.find('mpegpsmux')"],
                       capture_output=True)
    return r.returncode == 0


@pytest.fixture(params=["udp", "tcp-passive"])
def video_server(request, tmp_path_factory):
    if not gstreamer_available():
        pytest.skip("GStreamer (python3-gi, mpegpsmux, x264enc) is not installed")
    tmp = tmp_path_factory.mktemp("xiaoan-video")
    config = tmp / "video.toml"
    config.write_text(CONFIG.format(transport=request.param, gate=GATE, camera=CAMERA))
    server = Xiaoan(tmp, ["--config", str(config)])
    camera = subprocess.Popen(
        ["/usr/bin/python3", str(PEERS / "gb_camera.py"), "--server", "%s:%d" % server.sip,
         "--device-id", CAMERA, "--password", "12345678", "--seconds", "120"],
        stderr=open(tmp / "gb_camera.log", "wb"))
    yield server, request.param, tmp
    camera.terminate()
    camera.wait(timeout=10)
    server.stop()


def camera_state(server):
    cams = server.get("/api/v1/cameras")["cameras"]
    return next((c for c in cams if c["id"] == CAMERA), None)


def test_an_independent_camera_becomes_live_at_640x360(video_server):
    server, transport, tmp = video_server
    deadline = time.monotonic() + 30
    state = None
    while time.monotonic() < deadline:
        state = camera_state(server)
        if state and state["link"] == "live" and state["width"] == 640:
            break
        time.sleep(0.5)
    log = (tmp / "gb_camera.log").read_text(errors="replace")
    assert state is not None, "the camera is not in GET /api/v1/cameras"
    assert state["link"] == "live", f"{transport}: {state}\n{log}"
    assert (state["width"], state["height"]) == (640, 360), state
    assert state["codec"] == "h264", state
    assert "INVITE answered " + ("tcp" if transport != "udp" else "udp") in log, log
    # Frames keep arriving.
    time.sleep(1.5)
    assert camera_state(server)["last_frame_age_ms"] < 1000
