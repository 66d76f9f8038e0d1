//! SIP request methods: the GB/T 28181 set plus [`Method::Other`].

use std::fmt;

/// A request method. Known methods are recognised case-insensitively (devices are sloppy) and
/// always written in upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    Register,
    Message,
    Invite,
    Ack,
    Bye,
    Cancel,
    Subscribe,
    Notify,
    Info,
    Options,
    /// Any other token, kept as received.
    Other(String),
}

const KNOWN: [(Method, &str); 10] = [
    (Method::Register, "REGISTER"),
    (Method::Message, "MESSAGE"),
    (Method::Invite, "INVITE"),
    (Method::Ack, "ACK"),
    (Method::Bye, "BYE"),
    (Method::Cancel, "CANCEL"),
    (Method::Subscribe, "SUBSCRIBE"),
    (Method::Notify, "NOTIFY"),
    (Method::Info, "INFO"),
    (Method::Options, "OPTIONS"),
];

impl Method {
    /// The method for a token (never fails: unknown tokens become [`Method::Other`]).
    pub fn from_token(token: &str) -> Method {
        KNOWN
            .iter()
            .find(|(_, name)| name.eq_ignore_ascii_case(token))
            .map(|(m, _)| m.clone())
            .unwrap_or_else(|| Method::Other(token.to_string()))
    }

    /// The token as written on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Other(s) => s,
            known => KNOWN
                .iter()
                .find(|(m, _)| m == known)
                .map_or("", |(_, name)| name),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
