//! The lenient parser: start line, header lines (case-insensitive names, compact forms,
//! extra whitespace, LF-only line ends, folding), then the body by `Content-Length`.
//!
//! [`Message::parse`] reads one datagram; [`Message::parse_prefix`] reads one message from the
//! front of a stream buffer. Both report positions relative to the start of the input.

use crate::error::ParseError;
use crate::headers::{Headers, canonical_name};
use crate::message::{Message, Request, Response};
use crate::method::Method;
use crate::text::{is_token, is_token_char};

/// How a missing `Content-Length` is read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyRule {
    /// UDP: the body is the rest of the datagram.
    RestOfDatagram,
    /// TCP: no body.
    Zero,
}

pub(crate) enum StartLine {
    Request { method: Method, uri: String },
    Response { status: u16, reason: String },
}

pub(crate) struct Head {
    pub start: StartLine,
    pub headers: Headers,
}

/// Number of leading CR/LF bytes (keep-alives and stray line ends before a message).
pub(crate) fn leading_line_ends(buf: &[u8]) -> usize {
    buf.iter()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .count()
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Parses a start line (without its line end).
pub(crate) fn parse_start_line(line: &[u8], pos: usize) -> Result<StartLine, ParseError> {
    let text = std::str::from_utf8(line)
        .map_err(|_| ParseError::invalid(pos, "start line > not UTF-8"))?;
    let text = text.trim();
    let starts_sip = text
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("SIP/"));
    if starts_sip {
        let mut parts = text.splitn(2, |c: char| c.is_ascii_whitespace());
        let _version = parts.next();
        let rest = parts.next().unwrap_or("").trim_start();
        let (code, reason) = match rest.split_once(|c: char| c.is_ascii_whitespace()) {
            Some((c, r)) => (c, r.trim()),
            None => (rest, ""),
        };
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::invalid(pos, "status line > status code"));
        }
        let status: u16 = code
            .parse()
            .map_err(|_| ParseError::invalid(pos, "status line > status code"))?;
        if !(100..=699).contains(&status) {
            return Err(ParseError::invalid(pos, "status line > status code"));
        }
        return Ok(StartLine::Response {
            status,
            reason: reason.to_string(),
        });
    }
    let mut parts = text.split_ascii_whitespace();
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ParseError::invalid(pos, "request line > shape"));
    };
    if !is_token(method) {
        return Err(ParseError::invalid(pos, "request line > method"));
    }
    let sip_version = version
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("SIP/"));
    if !sip_version {
        return Err(ParseError::invalid(pos, "request line > version"));
    }
    Ok(StartLine::Request {
        method: Method::from_token(method),
        uri: uri.to_string(),
    })
}

/// True when a line (without its line end) looks like a SIP start line; used to resynchronise
/// a stream after garbage.
pub(crate) fn looks_like_start_line(line: &[u8]) -> bool {
    parse_start_line(trim_cr(line), 0).is_ok()
}

/// Parses the head starting at `start`. `Ok(None)`: no blank line yet (every complete line so
/// far is valid). On success returns the head and the offset just past the blank line.
pub(crate) fn parse_head(buf: &[u8], start: usize) -> Result<Option<(Head, usize)>, ParseError> {
    let mut pos = start;
    let mut start_line: Option<StartLine> = None;
    let mut headers = Headers::new();
    loop {
        let Some(rel) = buf
            .get(pos..)
            .and_then(|r| r.iter().position(|&b| b == b'\n'))
        else {
            return Ok(None);
        };
        let end = pos + rel;
        let line = trim_cr(buf.get(pos..end).unwrap_or_default());
        let next = end + 1;
        match start_line {
            None => start_line = Some(parse_start_line(line, pos)?),
            Some(_) if line.is_empty() => {
                let Some(start) = start_line else {
                    return Err(ParseError::invalid(pos, "head > start line"));
                };
                return Ok(Some((Head { start, headers }, next)));
            }
            Some(_) if line.first().copied().is_some_and(is_ws) => {
                let more = String::from_utf8_lossy(line);
                if !headers.continue_last(more.trim()) {
                    return Err(ParseError::invalid(pos, "header > folded line first"));
                }
            }
            Some(_) => {
                let Some(colon) = line.iter().position(|&b| b == b':') else {
                    return Err(ParseError::invalid(pos, "header > missing colon"));
                };
                let name = line.get(..colon).unwrap_or_default();
                let name = trim_ws(name);
                if name.is_empty() || !name.iter().all(|&b| is_token_char(b)) {
                    return Err(ParseError::invalid(pos, "header > name"));
                }
                let value = String::from_utf8_lossy(line.get(colon + 1..).unwrap_or_default());
                let name = String::from_utf8_lossy(name);
                headers.push(canonical_name(&name), value.trim());
            }
        }
        pos = next;
    }
}

fn trim_ws(mut s: &[u8]) -> &[u8] {
    while let Some((&first, rest)) = s.split_first() {
        if !is_ws(first) {
            break;
        }
        s = rest;
    }
    while let Some((&last, rest)) = s.split_last() {
        if !is_ws(last) {
            break;
        }
        s = rest;
    }
    s
}

/// The declared body length; every `Content-Length` header must agree.
pub(crate) fn declared_length(headers: &Headers, pos: usize) -> Result<Option<usize>, ParseError> {
    let mut found: Option<usize> = None;
    for v in headers.get_all("Content-Length") {
        let v = v.trim();
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::invalid(pos, "header > Content-Length"));
        }
        let n: usize = v
            .parse()
            .map_err(|_| ParseError::invalid(pos, "header > Content-Length"))?;
        match found {
            Some(prev) if prev != n => {
                return Err(ParseError::invalid(pos, "header > Content-Length conflict"));
            }
            _ => found = Some(n),
        }
    }
    Ok(found)
}

pub(crate) fn assemble(head: Head, body: Vec<u8>) -> Message {
    match head.start {
        StartLine::Request { method, uri } => Message::Request(Request {
            method,
            uri,
            headers: head.headers,
            body,
        }),
        StartLine::Response { status, reason } => Message::Response(Response {
            status,
            reason,
            headers: head.headers,
            body,
        }),
    }
}

/// Parses one message at the front of `buf`, returning it and the bytes consumed (leading
/// CR/LF included).
pub(crate) fn parse_with(buf: &[u8], rule: BodyRule) -> Result<(Message, usize), ParseError> {
    let start = leading_line_ends(buf);
    if start >= buf.len() {
        return Err(ParseError::Incomplete);
    }
    let (head, body_start) = match parse_head(buf, start)? {
        Some(h) => h,
        None if rule == BodyRule::RestOfDatagram => {
            // A datagram without the blank line: its end ends the head.
            let mut padded = buf.to_vec();
            padded.extend_from_slice(b"\r\n\r\n");
            match parse_head(&padded, start)? {
                Some((head, _)) => (head, buf.len()),
                None => return Err(ParseError::Incomplete),
            }
        }
        None => return Err(ParseError::Incomplete),
    };
    let available = buf.len().saturating_sub(body_start);
    let len = match (declared_length(&head.headers, start)?, rule) {
        (Some(n), _) => n,
        (None, BodyRule::RestOfDatagram) => available,
        (None, BodyRule::Zero) => 0,
    };
    if len > available {
        return Err(ParseError::Incomplete);
    }
    let end = body_start + len;
    let body = buf.get(body_start..end).unwrap_or_default().to_vec();
    Ok((assemble(head, body), end))
}

impl Message {
    /// Parses one UDP datagram: leading CR/LF are skipped, the body is `Content-Length` bytes
    /// (bytes after it are ignored) or the rest of the datagram when the header is missing, and
    /// a missing final blank line is tolerated. `Incomplete` when the body is shorter than
    /// `Content-Length` or there is nothing but line ends.
    pub fn parse(buf: &[u8]) -> Result<Message, ParseError> {
        parse_with(buf, BodyRule::RestOfDatagram).map(|(m, _)| m)
    }

    /// Parses one message from the front of a stream buffer (missing `Content-Length` = no
    /// body), returning it and the number of bytes consumed. `Incomplete` until the whole
    /// message is there. See [`crate::StreamReader`] for buffering, size limits and resync.
    pub fn parse_prefix(buf: &[u8]) -> Result<(Message, usize), ParseError> {
        parse_with(buf, BodyRule::Zero)
    }
}

impl Request {
    /// [`Message::parse`], requiring a request.
    pub fn parse(buf: &[u8]) -> Result<Request, ParseError> {
        match Message::parse(buf)? {
            Message::Request(r) => Ok(r),
            Message::Response(_) => Err(ParseError::invalid(0, "start line > not a request")),
        }
    }
}

impl Response {
    /// [`Message::parse`], requiring a response.
    pub fn parse(buf: &[u8]) -> Result<Response, ParseError> {
        match Message::parse(buf)? {
            Message::Response(r) => Ok(r),
            Message::Request(_) => Err(ParseError::invalid(0, "start line > not a response")),
        }
    }
}
