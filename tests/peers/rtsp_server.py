#!/usr/bin/python3
"""A test RTSP camera: GStreamer's RTSP server with a 640x360 25 fps H.264 test pattern
(constrained baseline, a keyframe every second, SPS/PPS repeated) at rtsp://127.0.0.1:PORT/test.

Usage: /usr/bin/python3 tests/peers/rtsp_server.py PORT
Prints "rtsp://127.0.0.1:PORT/test ready" once it listens. Needs python3-gi and
gir1.2-gst-rtsp-server-1.0 with gstreamer1.0-plugins-{base,good,ugly,bad}.
"""

import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

Gst.init(None)
port = sys.argv[1] if len(sys.argv) > 1 else "8554"
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(port)
factory = GstRtspServer.RTSPMediaFactory()
factory.set_shared(True)
factory.set_launch(
    "( videotestsrc is-live=true ! video/x-raw,width=640,height=360,framerate=25/1 "
    "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 "
    "! video/x-h264,profile=baseline ! rtph264pay name=pay0 pt=96 config-interval=1 )"
)
server.get_mount_points().add_factory("/test", factory)
if server.attach(None) == 0:
    print(f"cannot listen on 127.0.0.1:{port}", file=sys.stderr, flush=True)
    sys.exit(1)
loop = GLib.MainLoop()
print(f"rtsp://127.0.0.1:{port}/test ready", flush=True)
loop.run()
