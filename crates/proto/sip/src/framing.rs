//! Framing: one UDP datagram = one message ([`parse_datagram`]); a TCP byte stream is cut into
//! messages by `Content-Length` in a buffering [`StreamReader`] that skips CRLF keep-alives,
//! enforces a maximum message size and resynchronises after garbage.

use crate::error::ParseError;
use crate::message::Message;
use crate::parse::{
    BodyRule, declared_length, leading_line_ends, looks_like_start_line, parse_head, parse_with,
};

/// Default maximum size of one stream message (head plus body).
pub const DEFAULT_MAX_MESSAGE_LEN: usize = 64 * 1024;

/// Parses one UDP datagram (see [`Message::parse`]).
pub fn parse_datagram(buf: &[u8]) -> Result<Message, ParseError> {
    Message::parse(buf)
}

/// True for a keep-alive datagram: nothing but CR, LF, spaces or NULs (RFC 5626 `CRLFCRLF`
/// and what some devices send instead).
pub fn is_keepalive(buf: &[u8]) -> bool {
    buf.iter()
        .all(|b| matches!(b, b'\r' | b'\n' | b' ' | b'\t' | 0))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At a message boundary (or inside a message being received).
    Normal,
    /// Dropping the rest of the line that caused an error.
    DropLine,
    /// Dropping whole lines until one looks like a start line.
    Resync,
}

/// Buffers TCP bytes and yields whole messages.
///
/// After an error (reported once) the reader drops the offending line and then every line until
/// one looks like a SIP start line, so one burst of garbage gives one error. The result does not
/// depend on how the bytes were split into [`StreamReader::feed`] calls.
#[derive(Debug, Clone)]
pub struct StreamReader {
    buf: Vec<u8>,
    max: usize,
    state: State,
}

impl Default for StreamReader {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_MESSAGE_LEN)
    }
}

impl StreamReader {
    /// A reader that rejects messages longer than `max_message_len` bytes.
    pub fn new(max_message_len: usize) -> Self {
        StreamReader {
            buf: Vec::new(),
            max: max_message_len.max(1),
            state: State::Normal,
        }
    }

    pub fn max_message_len(&self) -> usize {
        self.max
    }

    /// Appends received bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes held (an unfinished message, or a line being skipped).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    fn drain(&mut self, n: usize) {
        let n = n.min(self.buf.len());
        self.buf.drain(..n);
    }

    /// The next whole message or error; `None` when more bytes are needed.
    pub fn next_message(&mut self) -> Option<Result<Message, ParseError>> {
        loop {
            match self.state {
                State::DropLine => match self.buf.iter().position(|&b| b == b'\n') {
                    Some(lf) => {
                        self.drain(lf + 1);
                        self.state = State::Resync;
                    }
                    None => {
                        self.buf.clear();
                        return None;
                    }
                },
                State::Resync => match self.buf.iter().position(|&b| b == b'\n') {
                    Some(lf) => {
                        let line = self.buf.get(..lf).unwrap_or_default();
                        if looks_like_start_line(line) {
                            self.state = State::Normal;
                        } else {
                            self.drain(lf + 1);
                        }
                    }
                    None => {
                        if self.buf.len() > self.max {
                            self.buf.clear();
                            self.state = State::DropLine;
                        }
                        return None;
                    }
                },
                State::Normal => {
                    let skip = leading_line_ends(&self.buf);
                    self.drain(skip);
                    if self.buf.is_empty() {
                        return None;
                    }
                    match self.try_parse() {
                        Ok(Some((msg, used))) => {
                            self.drain(used);
                            return Some(Ok(msg));
                        }
                        Ok(None) => return None,
                        Err(e) => {
                            self.state = State::DropLine;
                            return Some(Err(e));
                        }
                    }
                }
            }
        }
    }

    /// One message at the front of the buffer (which starts with a non line-end byte).
    fn try_parse(&self) -> Result<Option<(Message, usize)>, ParseError> {
        let limit = self.buf.len().min(self.max);
        let window = self.buf.get(..limit).unwrap_or_default();
        match parse_head(window, 0)? {
            Some((head, head_len)) => {
                let body = declared_length(&head.headers, 0)?.unwrap_or(0);
                if head_len.saturating_add(body) > self.max {
                    return Err(ParseError::TooLong { max: self.max });
                }
            }
            None if self.buf.len() > self.max => return Err(ParseError::TooLong { max: self.max }),
            None => return Ok(None),
        }
        match parse_with(&self.buf, BodyRule::Zero) {
            Ok(found) => Ok(Some(found)),
            Err(ParseError::Incomplete) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
