//! The encoder: start line, headers in order, a `Content-Length` computed from the body, the
//! blank line and the body. CR and LF inside header values are written as spaces so a value can
//! never inject a header.

use crate::headers::{Headers, same_name};
use crate::message::{Message, Request, Response};

fn clean(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains(['\r', '\n']) {
        std::borrow::Cow::Owned(s.replace(['\r', '\n'], " "))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

fn write_rest(out: &mut Vec<u8>, headers: &Headers, body: &[u8]) {
    for h in headers {
        if same_name(&h.name, "Content-Length") {
            continue;
        }
        out.extend_from_slice(clean(&h.name).as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(clean(&h.value).as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
}

impl Request {
    /// The wire form. Any `Content-Length` header is replaced by the body's real length.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256 + self.body.len());
        out.extend_from_slice(
            format!(
                "{} {} SIP/2.0\r\n",
                self.method,
                clean(&self.uri).replace(' ', "%20")
            )
            .as_bytes(),
        );
        write_rest(&mut out, &self.headers, &self.body);
        out
    }
}

impl Response {
    /// The wire form. Any `Content-Length` header is replaced by the body's real length.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256 + self.body.len());
        let reason = clean(&self.reason);
        if reason.is_empty() {
            out.extend_from_slice(format!("SIP/2.0 {}\r\n", self.status).as_bytes());
        } else {
            out.extend_from_slice(format!("SIP/2.0 {} {}\r\n", self.status, reason).as_bytes());
        }
        write_rest(&mut out, &self.headers, &self.body);
        out
    }
}

impl Message {
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Message::Request(r) => r.encode(),
            Message::Response(r) => r.encode(),
        }
    }
}
