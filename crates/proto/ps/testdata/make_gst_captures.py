#!/usr/bin/python3
"""Makes the GStreamer golden captures of this directory.

A test pattern is encoded with x264enc, muxed by mpegpsmux into MPEG-PS, and each appsink
sample is split into RTP packets of at most 1400 payload bytes (PT 96, marker on the last,
timestamp = pts in 90 kHz units, sequence increasing). Packets are written with RFC 4571
framing (a 2-byte big-endian length before each packet).

Usage: /usr/bin/python3 make_gst_captures.py
"""
import struct, gi
gi.require_version("Gst", "1.0")
from gi.repository import Gst
Gst.init(None)

def capture(name, launch, ssrc, seq0):
    pipe = Gst.parse_launch(launch + " ! appsink name=sink sync=false emit-signals=false")
    sink = pipe.get_by_name("sink")
    pipe.set_state(Gst.State.PLAYING)
    seq, out, samples = seq0, bytearray(), 0
    while True:
        s = sink.emit("pull-sample")
        if s is None:
            break
        buf = s.get_buffer()
        data = buf.extract_dup(0, buf.get_size())
        pts = buf.pts if buf.pts != Gst.CLOCK_TIME_NONE else 0
        ts = (pts * 90000 // Gst.SECOND) & 0xFFFFFFFF
        samples += 1
        for i in range(0, len(data), 1400):
            chunk = data[i:i + 1400]
            marker = 0x80 if i + 1400 >= len(data) else 0
            hdr = struct.pack(">BBHII", 0x80, marker | 96, seq & 0xFFFF, ts, ssrc)
            pkt = hdr + chunk
            out += struct.pack(">H", len(pkt)) + pkt
            seq += 1
    pipe.set_state(Gst.State.NULL)
    open(name, "wb").write(out)
    print(name, samples, "samples", seq - seq0, "packets", len(out), "bytes")

VIDEO = ("videotestsrc num-buffers=50 pattern=ball ! video/x-raw,width=320,height=240,framerate=25/1 "
         "! x264enc key-int-max=25 speed-preset=ultrafast bitrate=300 {opts} "
         "! video/x-h264,profile={profile} ! h264parse config-interval=-1 ! mux. ")
capture("gst-mpegpsmux-psm-once.rtp",
        VIDEO.format(opts="", profile="baseline") + "mpegpsmux name=mux", 200000001, 65500)
capture("gst-mpegpsmux-bframes-mp3.rtp",
        VIDEO.format(opts="bframes=2", profile="main")
        + "audiotestsrc num-buffers=40 samplesperbuffer=1152 ! audio/x-raw,rate=44100,channels=1 "
        + "! lamemp3enc bitrate=32 ! mpegaudioparse ! mux. mpegpsmux name=mux", 200000002, 1000)
