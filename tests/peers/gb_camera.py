#!/usr/bin/python3
"""A small GB/T 28181 camera for interop tests, written from the standard's text and RFC 3261
without any of xiaoan's code: SIP over UDP, REGISTER with the MD5 digest answer, a keepalive
MESSAGE every 20 s, 200 OK to the platform's MESSAGE/SUBSCRIBE/NOTIFY, and live video: an
INVITE is answered with an SDP answer (a=sendonly, PS on 96, the offer's y=), the ACK starts
gb_ps_sender.py (GStreamer) towards the offer's address and port (UDP, or TCP when the
platform listens: a=setup:passive), a BYE stops it. Runs until killed or --seconds pass.

    /usr/bin/python3 gb_camera.py --server 127.0.0.1:5060 --device-id 4228… --password …
"""

import argparse
import hashlib
import os
import random
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l": "content-length",
           "c": "content-type"}


def md5(s: str) -> str:
    return hashlib.md5(s.encode()).hexdigest()


def parse(data: bytes):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("utf-8", "replace").split("\r\n")
    headers = []
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            k = k.strip().lower()
            headers.append((COMPACT.get(k, k), v.strip()))
    return lines[0], headers, body


def get(headers, name):
    return next((v for k, v in headers if k == name), None)


def param(header: str, name: str):
    for part in header.replace(",", " ").split():
        if part.startswith(name + "="):
            return part.split("=", 1)[1].strip('"')
    return None


class Camera:
    def __init__(self, args):
        self.a = args
        self.server = (args.server.rsplit(":", 1)[0], int(args.server.rsplit(":", 1)[1]))
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((args.local_ip, 0))
        self.sock.settimeout(0.5)
        self.local = self.sock.getsockname()
        self.tag = "%08x" % random.randrange(1 << 32)
        self.call = "%016x@%s" % (random.randrange(1 << 64), self.local[0])
        self.cseq = 0
        self.sn = 0
        self.registered = False
        self.sessions = {}  # Call-ID -> {"offer": dict, "proc": Popen | None}
        self.log = lambda *m: print("gb_camera:", *m, file=sys.stderr, flush=True)

    # --- sending ---------------------------------------------------------------------------

    def via(self):
        return "SIP/2.0/UDP %s:%d;rport;branch=z9hG4bK%08x" % (*self.local, random.randrange(1 << 32))

    def request(self, method, uri, extra=(), body=b"", to=None, call=None):
        self.cseq += 1
        me = "<sip:%s@%s>;tag=%s" % (self.a.device_id, self.a.domain, self.tag)
        hs = [("Via", self.via()), ("From", me),
              ("To", to or "<sip:%s@%s>" % (self.a.device_id, self.a.domain)),
              ("Call-ID", call or self.call), ("CSeq", "%d %s" % (self.cseq, method)),
              ("Max-Forwards", "70"), ("User-Agent", "gb_camera.py"), *extra,
              ("Content-Length", str(len(body)))]
        msg = "%s %s SIP/2.0\r\n" % (method, uri) + "".join("%s: %s\r\n" % h for h in hs) + "\r\n"
        self.sock.sendto(msg.encode() + body, self.server)

    def respond(self, headers, status, reason, extra=(), body=b""):
        to = get(headers, "to") or ""
        if "tag=" not in to:
            to += ";tag=%s" % self.tag
        hs = [("Via", v) for k, v in headers if k == "via"]
        hs += [("From", get(headers, "from")), ("To", to), ("Call-ID", get(headers, "call-id")),
               ("CSeq", get(headers, "cseq")), ("User-Agent", "gb_camera.py"), *extra,
               ("Content-Length", str(len(body)))]
        msg = "SIP/2.0 %d %s\r\n" % (status, reason) + "".join("%s: %s\r\n" % h for h in hs) + "\r\n"
        self.sock.sendto(msg.encode() + body, self.server)

    def register(self, auth=None):
        uri = "sip:%s@%s" % (self.a.platform_id, self.a.domain)
        extra = [("Contact", "<sip:%s@%s:%d>" % (self.a.device_id, *self.local)), ("Expires", "3600")]
        if auth:
            extra.append(("Authorization", auth))
        self.request("REGISTER", uri, extra)

    def keepalive(self):
        self.sn += 1
        body = ('<?xml version="1.0" encoding="GB2312"?>\r\n<Notify>\r\n<CmdType>Keepalive</CmdType>\r\n'
                "<SN>%d</SN>\r\n<DeviceID>%s</DeviceID>\r\n<Status>OK</Status>\r\n</Notify>\r\n"
                % (self.sn, self.a.device_id)).encode()
        uri = "sip:%s@%s:%d" % (self.a.platform_id, *self.server)
        self.request("MESSAGE", uri, [("Content-Type", "Application/MANSCDP+xml")], body,
                     to="<sip:%s@%s>" % (self.a.platform_id, self.a.domain),
                     call="%016x@%s" % (random.randrange(1 << 64), self.local[0]))

    # --- receiving -------------------------------------------------------------------------

    def on_response(self, first, headers):
        status = int(first.split()[1])
        method = (get(headers, "cseq") or " ").split()[-1]
        if method != "REGISTER":
            return
        if status == 401:
            ch = get(headers, "www-authenticate") or ""
            realm, nonce, qop = param(ch, "realm"), param(ch, "nonce"), param(ch, "qop")
            uri = "sip:%s@%s" % (self.a.platform_id, self.a.domain)
            ha1 = md5("%s:%s:%s" % (self.a.device_id, realm, self.a.password))
            ha2 = md5("REGISTER:%s" % uri)
            auth = 'Digest username="%s", realm="%s", nonce="%s", uri="%s", algorithm=MD5' % (
                self.a.device_id, realm, nonce, uri)
            if qop:
                cnonce = "%08x" % random.randrange(1 << 32)
                resp = md5("%s:%s:00000001:%s:auth:%s" % (ha1, nonce, cnonce, ha2))
                auth += ', qop=auth, nc=00000001, cnonce="%s"' % cnonce
            else:
                resp = md5("%s:%s:%s" % (ha1, nonce, ha2))
            self.register(auth + ', response="%s"' % resp)
        elif status == 200:
            self.registered = True
            self.log("registered")
        else:
            self.log("REGISTER answered", status)

    def on_request(self, first, headers, body):
        method = first.split()[0]
        call = get(headers, "call-id")
        if method == "INVITE":
            self.on_invite(headers, body)
        elif method == "ACK":
            s = self.sessions.get(call)
            if s and s["proc"] is None:
                s["proc"] = self.start_sender(s["offer"])
        elif method == "BYE":
            s = self.sessions.pop(call, None)
            if s and s["proc"]:
                s["proc"].terminate()
            self.respond(headers, 200 if s else 481, "OK" if s else "Call Does Not Exist")
            self.log("BYE", "stream stopped" if s else "for no session")
        else:
            self.respond(headers, 200, "OK")

    def on_invite(self, headers, body):
        offer = {"ip": None, "port": None, "tcp": False, "setup": None, "y": None}
        for line in body.decode("utf-8", "replace").splitlines():
            k, _, v = line.strip().partition("=")
            if k == "c":
                offer["ip"] = v.split()[-1]
            elif k == "m" and v.startswith("video"):
                parts = v.split()
                offer["port"], offer["tcp"] = int(parts[1]), parts[2].upper().startswith("TCP")
            elif k == "a" and v.startswith("setup:"):
                offer["setup"] = v[6:].strip()
            elif k == "y":
                offer["y"] = v.strip()
        if offer["tcp"] and offer["setup"] != "passive":
            self.respond(headers, 488, "Not Acceptable Here")  # this camera only connects
            return
        call = get(headers, "call-id")
        self.sessions[call] = {"offer": offer, "proc": None}
        proto, setup = ("TCP/RTP/AVP", "a=setup:active\r\na=connection:new\r\n") if offer["tcp"] else ("RTP/AVP", "")
        ip = self.local[0]
        sdp = ("v=0\r\no=%s 0 0 IN IP4 %s\r\ns=Play\r\nc=IN IP4 %s\r\nt=0 0\r\n"
               "m=video %d %s 96\r\na=sendonly\r\na=rtpmap:96 PS/90000\r\n%sy=%s\r\nf=\r\n"
               % (self.a.device_id, ip, ip, self.local[1] + 2, proto, setup, offer["y"] or "0000000000"))
        self.respond(headers, 200, "OK",
                     [("Contact", "<sip:%s@%s:%d>" % (self.a.device_id, *self.local)),
                      ("Content-Type", "APPLICATION/SDP")], sdp.encode())
        self.log("INVITE answered", "tcp" if offer["tcp"] else "udp", offer["ip"], offer["port"], offer["y"])

    def start_sender(self, offer):
        cmd = ["/usr/bin/python3", os.path.join(HERE, "gb_ps_sender.py"), offer["ip"], str(offer["port"]),
               "--seconds", str(self.a.stream_seconds)]
        if offer["tcp"]:
            cmd.append("--tcp")
        if offer["y"] and offer["y"].isdigit():
            cmd += ["--ssrc", str(int(offer["y"]))]
        self.log("streaming:", " ".join(cmd[2:]))
        return subprocess.Popen(cmd)

    def run(self):
        self.register()
        end = time.monotonic() + self.a.seconds
        next_keepalive = time.monotonic() + 1
        try:
            while time.monotonic() < end:
                if self.registered and time.monotonic() >= next_keepalive:
                    self.keepalive()
                    next_keepalive = time.monotonic() + 20
                try:
                    data, _ = self.sock.recvfrom(65536)
                except socket.timeout:
                    continue
                if data.strip() == b"":
                    continue
                first, headers, body = parse(data)
                if first.startswith("SIP/2.0"):
                    self.on_response(first, headers)
                else:
                    self.on_request(first, headers, body)
        finally:
            for s in self.sessions.values():
                if s["proc"]:
                    s["proc"].terminate()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", required=True, help="platform HOST:PORT")
    ap.add_argument("--device-id", required=True)
    ap.add_argument("--password", default="12345678")
    ap.add_argument("--platform-id", default="42280100002000000001")
    ap.add_argument("--domain", default="4228010000")
    ap.add_argument("--local-ip", default="127.0.0.1")
    ap.add_argument("--seconds", type=float, default=3600)
    ap.add_argument("--stream-seconds", type=float, default=3600)
    Camera(ap.parse_args()).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
