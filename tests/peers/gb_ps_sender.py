#!/usr/bin/python3
"""GB/T 28181 media sender built on GStreamer: a live 640x360 test pattern encoded by x264
(a keyframe every 25 frames), muxed to MPEG-PS by mpegpsmux (it writes the PSM once, at the
start) and split into RTP packets by hand (payload type 96, at most 1400 bytes of payload,
marker on the last packet of a frame, timestamp = PTS at 90 kHz), sent over UDP or, with
--tcp, over a TCP connection with RFC 4571 framing (a 2-byte length before each packet).

    /usr/bin/python3 gb_ps_sender.py HOST PORT [--tcp] [--ssrc N] [--seconds S]
"""

import argparse
import random
import socket
import struct
import sys
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

MAX_PAYLOAD = 1400
PIPELINE = (
    "videotestsrc is-live=true ! video/x-raw,width=640,height=360,framerate=25/1 "
    "! x264enc key-int-max=25 tune=zerolatency speed-preset=ultrafast "
    "! video/x-h264,profile=baseline ! h264parse config-interval=-1 ! mpegpsmux "
    "! appsink name=sink sync=false max-buffers=200"
)


class Rtp:
    def __init__(self, ssrc: int, send):
        self.ssrc = ssrc & 0xFFFFFFFF
        self.seq = random.randrange(1 << 16)
        self.send = send
        self.packets = 0

    def frame(self, data: bytes, ts: int):
        chunks = [data[i:i + MAX_PAYLOAD] for i in range(0, len(data), MAX_PAYLOAD)] or [b""]
        for i, chunk in enumerate(chunks):
            marker = 0x80 if i == len(chunks) - 1 else 0
            header = struct.pack("!BBHII", 0x80, marker | 96, self.seq, ts & 0xFFFFFFFF, self.ssrc)
            self.send(header + chunk)
            self.seq = (self.seq + 1) & 0xFFFF
            self.packets += 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--tcp", action="store_true", help="RTP over TCP (RFC 4571), connecting")
    ap.add_argument("--ssrc", type=int, default=random.randrange(1 << 32))
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()

    if args.tcp:
        sock = socket.create_connection((args.host, args.port), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def send(packet: bytes):
            sock.sendall(struct.pack("!H", len(packet)) + packet)
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

        def send(packet: bytes):
            sock.sendto(packet, (args.host, args.port))

    Gst.init(None)
    pipe = Gst.parse_launch(PIPELINE)
    sink = pipe.get_by_name("sink")
    pipe.set_state(Gst.State.PLAYING)
    rtp = Rtp(args.ssrc, send)
    # mpegpsmux may push one frame as several buffers: they are gathered by PTS and sent as
    # one RTP frame when the next PTS begins.
    pending, pending_ts, frames = b"", None, 0
    end = time.monotonic() + args.seconds
    try:
        while time.monotonic() < end:
            sample = sink.emit("try-pull-sample", Gst.SECOND)
            if sample is None:
                continue
            buf = sample.get_buffer()
            data = buf.extract_dup(0, buf.get_size())
            ts = None if buf.pts == Gst.CLOCK_TIME_NONE else buf.pts * 90000 // Gst.SECOND
            if ts is not None and pending_ts is not None and ts != pending_ts and pending:
                rtp.frame(pending, pending_ts)
                frames += 1
                pending = b""
            if ts is not None:
                pending_ts = ts
            pending += data
        if pending and pending_ts is not None:
            rtp.frame(pending, pending_ts)
            frames += 1
    except (BrokenPipeError, ConnectionResetError, ConnectionRefusedError) as e:
        print(f"gb_ps_sender: connection ended: {e}", file=sys.stderr)
    finally:
        pipe.set_state(Gst.State.NULL)
        sock.close()
    print(f"gb_ps_sender: {frames} frames, {rtp.packets} packets", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
