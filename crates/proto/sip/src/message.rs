//! The message types ([`Request`], [`Response`], [`Message`]), default reason phrases and
//! [`Request::response`], which builds a response to a request.

use crate::headers::Headers;
use crate::method::Method;
use crate::uri::Uri;

/// A SIP request. `uri` is the Request-URI as received (see [`Request::parsed_uri`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    pub uri: String,
    pub headers: Headers,
    pub body: Vec<u8>,
}

/// A SIP response. `reason` may be empty (some devices omit it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Headers,
    pub body: Vec<u8>,
}

/// Either kind of message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Request(Request),
    Response(Response),
}

impl Message {
    pub fn headers(&self) -> &Headers {
        match self {
            Message::Request(r) => &r.headers,
            Message::Response(r) => &r.headers,
        }
    }

    pub fn headers_mut(&mut self) -> &mut Headers {
        match self {
            Message::Request(r) => &mut r.headers,
            Message::Response(r) => &mut r.headers,
        }
    }

    pub fn body(&self) -> &[u8] {
        match self {
            Message::Request(r) => &r.body,
            Message::Response(r) => &r.body,
        }
    }

    pub fn as_request(&self) -> Option<&Request> {
        match self {
            Message::Request(r) => Some(r),
            Message::Response(_) => None,
        }
    }

    pub fn as_response(&self) -> Option<&Response> {
        match self {
            Message::Response(r) => Some(r),
            Message::Request(_) => None,
        }
    }
}

impl From<Request> for Message {
    fn from(r: Request) -> Self {
        Message::Request(r)
    }
}

impl From<Response> for Message {
    fn from(r: Response) -> Self {
        Message::Response(r)
    }
}

impl Request {
    /// A request with no headers and no body.
    pub fn new(method: Method, uri: impl Into<String>) -> Request {
        Request {
            method,
            uri: uri.into(),
            headers: Headers::new(),
            body: Vec::new(),
        }
    }

    /// The Request-URI parsed, when it is well formed.
    pub fn parsed_uri(&self) -> Option<Uri> {
        Uri::parse(&self.uri)
    }

    /// A response to this request (RFC 3261 §8.2.6): copies every Via (in order), From, To,
    /// Call-ID and CSeq, and adds `;tag=<to_tag>` to To when it has no tag yet (not on 100).
    /// `reason` is the standard phrase for `status`.
    pub fn response(&self, status: u16, to_tag: &str) -> Response {
        let mut headers = Headers::new();
        for via in self.headers.get_all("Via") {
            headers.push("Via", via);
        }
        if let Some(from) = self.headers.get("From") {
            headers.push("From", from);
        }
        if let Some(to) = self.headers.get("To") {
            let has_tag = self.headers.to().is_some_and(|t| t.tag().is_some());
            if has_tag || status == 100 || to_tag.is_empty() {
                headers.push("To", to);
            } else {
                headers.push("To", format!("{};tag={to_tag}", to.trim_end()));
            }
        }
        if let Some(call_id) = self.headers.get("Call-ID") {
            headers.push("Call-ID", call_id);
        }
        if let Some(cseq) = self.headers.get("CSeq") {
            headers.push("CSeq", cseq);
        }
        Response {
            status,
            reason: reason_phrase(status).to_string(),
            headers,
            body: Vec::new(),
        }
    }
}

impl Response {
    /// A response with the standard reason phrase, no headers and no body.
    pub fn new(status: u16) -> Response {
        Response {
            status,
            reason: reason_phrase(status).to_string(),
            headers: Headers::new(),
            body: Vec::new(),
        }
    }

    /// 100–199.
    pub fn is_provisional(&self) -> bool {
        (100..200).contains(&self.status)
    }

    /// 200–299.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// 200–699.
    pub fn is_final(&self) -> bool {
        self.status >= 200
    }
}

/// The RFC 3261 reason phrase for a status code (`""` when unknown).
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        200 => "OK",
        202 => "Accepted",
        301 => "Moved Permanently",
        302 => "Moved Temporarily",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        415 => "Unsupported Media Type",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        489 => "Bad Event",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        504 => "Server Time-out",
        600 => "Busy Everywhere",
        603 => "Decline",
        _ => "",
    }
}
