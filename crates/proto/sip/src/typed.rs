//! Typed views of the headers a GB/T 28181 platform reads: Via, From/To/Contact (name-addr),
//! CSeq, Subscription-State, and the accessors on [`Headers`] that parse them on demand.

use crate::auth::{Challenge, Credentials};
use crate::headers::Headers;
use crate::method::Method;
use crate::text::{is_token, quote, split_outside_quotes, unquote};
use crate::uri::{HostPort, Params, Uri};
use std::fmt;

/// The RFC 3261 magic cookie that starts every compliant branch.
pub const MAGIC_COOKIE: &str = "z9hG4bK";

/// One Via entry (`SIP/2.0/UDP 172.16.23.205:5060;rport;branch=z9hG4bK...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// `SIP/2.0`.
    pub protocol: String,
    /// `UDP`, `TCP`, ...; upper-cased.
    pub transport: String,
    /// sent-by.
    pub sent_by: HostPort,
    pub params: Params,
}

impl Via {
    /// A `SIP/2.0/<transport> host:port;branch=...` entry (add `rport` with
    /// `via.params.set("rport", None)`).
    pub fn new(transport: &str, sent_by: HostPort, branch: &str) -> Via {
        let mut params = Params::default();
        params.set("branch", Some(branch));
        Via {
            protocol: "SIP/2.0".to_string(),
            transport: transport.to_ascii_uppercase(),
            sent_by,
            params,
        }
    }

    /// Parses one Via value (not a comma-separated list).
    pub fn parse(s: &str) -> Option<Via> {
        // sent-protocol: name / version / transport, whitespace allowed around the slashes.
        let mut parts = s.trim().splitn(3, '/');
        let name = parts.next()?.trim();
        let version = parts.next()?.trim();
        let rest = parts.next()?.trim_start();
        if !is_token(name) || !is_token(version) {
            return None;
        }
        let tlen = rest
            .bytes()
            .position(|b| !crate::text::is_token_char(b))
            .unwrap_or(rest.len());
        let transport = rest.get(..tlen)?;
        let rest = rest.get(tlen..)?.trim_start();
        if transport.is_empty() {
            return None;
        }
        let (sent_by, params) = match rest.split_once(';') {
            Some((sb, p)) => (sb, Params::parse(p)),
            None => (rest, Params::default()),
        };
        Some(Via {
            protocol: format!("{name}/{version}"),
            transport: transport.to_ascii_uppercase(),
            sent_by: HostPort::parse(sent_by)?,
            params,
        })
    }

    pub fn branch(&self) -> Option<&str> {
        self.params.get("branch").filter(|b| !b.is_empty())
    }

    /// True when the branch starts with the RFC 3261 magic cookie.
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch().is_some_and(|b| b.starts_with(MAGIC_COOKIE))
    }

    pub fn received(&self) -> Option<&str> {
        self.params.get("received").filter(|r| !r.is_empty())
    }

    /// True when the `rport` parameter is present (with or without a value).
    pub fn has_rport(&self) -> bool {
        self.params.contains("rport")
    }

    /// The `rport` value, when one was filled in.
    pub fn rport(&self) -> Option<u16> {
        self.params.get("rport").and_then(|p| p.parse().ok())
    }

    /// RFC 3261 §18.2.1 / RFC 3581: records the source address of a received request.
    /// `received` is set when the source IP differs from sent-by (or `rport` was asked for);
    /// `rport` is filled in only when the sender asked for it.
    pub fn set_source(&mut self, ip: &str, port: u16) {
        let asked_rport = self.has_rport();
        if asked_rport || self.sent_by.host != ip {
            self.params.set("received", Some(ip));
        }
        if asked_rport {
            self.params.set("rport", Some(&port.to_string()));
        }
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{} {}{}",
            self.protocol, self.transport, self.sent_by, self.params
        )
    }
}

/// A From, To or Contact value: optional display name, URI, header parameters (`tag`,
/// `expires`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    pub display: Option<String>,
    pub uri: Uri,
    pub params: Params,
}

impl NameAddr {
    pub fn new(uri: Uri) -> NameAddr {
        NameAddr {
            display: None,
            uri,
            params: Params::default(),
        }
    }

    /// Parses `"Name" <sip:...>;tag=1`, `Name <sip:...>` or a bare `sip:...;tag=1` (whose
    /// parameters belong to the header, not the URI).
    pub fn parse(s: &str) -> Option<NameAddr> {
        let s = s.trim();
        let open = find_outside_quotes(s, '<');
        match open {
            Some(open) => {
                let display = s.get(..open)?.trim();
                let after = s.get(open + 1..)?;
                let (uri, params) = after.split_once('>')?;
                Some(NameAddr {
                    display: (!display.is_empty()).then(|| unquote(display)),
                    uri: Uri::parse(uri)?,
                    params: Params::parse(params),
                })
            }
            None => {
                let (uri, params) = match s.split_once(';') {
                    Some((u, p)) => (u, Params::parse(p)),
                    None => (s, Params::default()),
                };
                Some(NameAddr {
                    display: None,
                    uri: Uri::parse(uri)?,
                    params,
                })
            }
        }
    }

    pub fn tag(&self) -> Option<&str> {
        self.params.get("tag").filter(|t| !t.is_empty())
    }

    /// The URI's user part: for GB/T 28181 the device ID.
    pub fn user(&self) -> Option<&str> {
        self.uri.user.as_deref()
    }

    /// The `expires` parameter (Contact).
    pub fn expires(&self) -> Option<u32> {
        self.params
            .get("expires")
            .and_then(|e| e.trim().parse().ok())
    }
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(d) = &self.display {
            write!(f, "{} ", quote(d))?;
        }
        write!(f, "<{}>{}", self.uri, self.params)
    }
}

fn find_outside_quotes(s: &str, target: char) -> Option<usize> {
    let mut in_quotes = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' && in_quotes {
            escaped = true;
        } else if c == '"' {
            in_quotes = !in_quotes;
        } else if c == target && !in_quotes {
            return Some(i);
        }
    }
    None
}

/// `CSeq: 2 REGISTER`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CSeq {
    pub seq: u32,
    pub method: Method,
}

impl CSeq {
    pub fn parse(s: &str) -> Option<CSeq> {
        let mut it = s.split_ascii_whitespace();
        let seq = it.next()?.parse().ok()?;
        let method = it.next()?;
        if it.next().is_some() || !is_token(method) {
            return None;
        }
        Some(CSeq {
            seq,
            method: Method::from_token(method),
        })
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

/// `Subscription-State: active;expires=3600` (RFC 6665).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionState {
    /// `active`, `pending`, `terminated` (lower-cased).
    pub state: String,
    pub params: Params,
}

impl SubscriptionState {
    pub fn parse(s: &str) -> Option<SubscriptionState> {
        let (state, params) = match s.split_once(';') {
            Some((st, p)) => (st, Params::parse(p)),
            None => (s, Params::default()),
        };
        let state = state.trim();
        is_token(state).then(|| SubscriptionState {
            state: state.to_ascii_lowercase(),
            params,
        })
    }

    pub fn expires(&self) -> Option<u32> {
        self.params
            .get("expires")
            .and_then(|e| e.trim().parse().ok())
    }

    pub fn reason(&self) -> Option<&str> {
        self.params.get("reason")
    }
}

impl fmt::Display for SubscriptionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.state, self.params)
    }
}

/// Typed accessors. Each returns `None` when the header is missing or cannot be parsed.
impl Headers {
    /// Every Via entry in order (several headers and comma-separated lists); `None` when any
    /// entry is malformed.
    pub fn vias(&self) -> Option<Vec<Via>> {
        let mut out = Vec::new();
        for value in self.get_all("Via") {
            for part in split_outside_quotes(value, ',') {
                if part.trim().is_empty() {
                    continue;
                }
                out.push(Via::parse(part)?);
            }
        }
        Some(out)
    }

    /// The first (topmost) Via entry.
    pub fn top_via(&self) -> Option<Via> {
        let value = self.get("Via")?;
        let first = split_outside_quotes(value, ',').into_iter().next()?;
        Via::parse(first)
    }

    pub fn from(&self) -> Option<NameAddr> {
        NameAddr::parse(self.get("From")?)
    }

    pub fn to(&self) -> Option<NameAddr> {
        NameAddr::parse(self.get("To")?)
    }

    pub fn call_id(&self) -> Option<&str> {
        self.get("Call-ID").map(str::trim).filter(|c| !c.is_empty())
    }

    pub fn cseq(&self) -> Option<CSeq> {
        CSeq::parse(self.get("CSeq")?)
    }

    /// Every Contact entry (a `*` wildcard is skipped; see [`Headers::contact_is_wildcard`]).
    pub fn contacts(&self) -> Option<Vec<NameAddr>> {
        let mut out = Vec::new();
        for value in self.get_all("Contact") {
            for part in split_outside_quotes(value, ',') {
                let part = part.trim();
                if part.is_empty() || part == "*" {
                    continue;
                }
                out.push(NameAddr::parse(part)?);
            }
        }
        Some(out)
    }

    /// The first Contact entry.
    pub fn contact(&self) -> Option<NameAddr> {
        self.contacts()?.into_iter().next()
    }

    /// `Contact: *` (unregister all bindings).
    pub fn contact_is_wildcard(&self) -> bool {
        self.get("Contact").is_some_and(|c| c.trim() == "*")
    }

    pub fn expires(&self) -> Option<u32> {
        self.get("Expires")?.trim().parse().ok()
    }

    pub fn content_type(&self) -> Option<&str> {
        self.get("Content-Type").map(str::trim)
    }

    pub fn content_length(&self) -> Option<usize> {
        self.get("Content-Length")?.trim().parse().ok()
    }

    pub fn max_forwards(&self) -> Option<u32> {
        self.get("Max-Forwards")?.trim().parse().ok()
    }

    pub fn www_authenticate(&self) -> Option<Challenge> {
        Challenge::parse(self.get("WWW-Authenticate")?)
    }

    pub fn authorization(&self) -> Option<Credentials> {
        Credentials::parse(self.get("Authorization")?)
    }

    /// GB/T 28181 INVITE `Subject: senderID:seq,receiverID:seq`.
    pub fn subject(&self) -> Option<&str> {
        self.get("Subject").map(str::trim)
    }

    /// The raw `Date` value (GB/T 28181 uses `yyyy-MM-ddTHH:mm:ss.SSS`).
    pub fn date(&self) -> Option<&str> {
        self.get("Date").map(str::trim)
    }

    pub fn event(&self) -> Option<&str> {
        self.get("Event").map(str::trim)
    }

    pub fn subscription_state(&self) -> Option<SubscriptionState> {
        SubscriptionState::parse(self.get("Subscription-State")?)
    }

    pub fn user_agent(&self) -> Option<&str> {
        self.get("User-Agent").map(str::trim)
    }
}
