//! HTTP Digest (RFC 2617 / RFC 7616, MD5 and MD5-sess) as GB/T 28181 devices use it: the
//! `WWW-Authenticate` [`Challenge`], the `Authorization` [`Credentials`], the response
//! computation, and the client side that answers a challenge (device simulators).
//!
//! HA2 is computed from the `uri=` the client sent, not from the Request-URI: sipp, for one,
//! sends `uri="sip:IP:PORT"`.

use crate::text::{quote, split_outside_quotes_only, unquote};
use md5::{Digest, Md5};
use std::fmt;

/// Lower-case hex MD5 of `data`.
pub fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

/// HA1 = MD5(username:realm:password) (store this instead of the password if you like).
pub fn ha1(username: &str, realm: &str, password: &str) -> String {
    md5_hex(format!("{username}:{realm}:{password}").as_bytes())
}

/// The `qop=auth` inputs of a digest response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QopInput<'a> {
    /// Nonce count as sent: 8 hex digits (`00000001`).
    pub nc: &'a str,
    pub cnonce: &'a str,
    /// `auth`.
    pub qop: &'a str,
}

/// The `response=` value from HA1: MD5(HA1:nonce:HA2) or, with qop,
/// MD5(HA1:nonce:nc:cnonce:qop:HA2), where HA2 = MD5(method:uri).
pub fn digest_response(
    ha1: &str,
    nonce: &str,
    method: &str,
    uri: &str,
    qop: Option<QopInput<'_>>,
) -> String {
    let ha2 = md5_hex(format!("{method}:{uri}").as_bytes());
    match qop {
        Some(q) => {
            md5_hex(format!("{ha1}:{nonce}:{}:{}:{}:{ha2}", q.nc, q.cnonce, q.qop).as_bytes())
        }
        None => md5_hex(format!("{ha1}:{nonce}:{ha2}").as_bytes()),
    }
}

/// Digest algorithms understood here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Md5,
    Md5Sess,
}

impl Algorithm {
    /// `None` for anything but `MD5`/`MD5-sess` (case-insensitive); a missing parameter is MD5.
    pub fn from_param(p: Option<&str>) -> Option<Algorithm> {
        match p {
            None => Some(Algorithm::Md5),
            Some(a) if a.eq_ignore_ascii_case("MD5") => Some(Algorithm::Md5),
            Some(a) if a.eq_ignore_ascii_case("MD5-sess") => Some(Algorithm::Md5Sess),
            Some(_) => None,
        }
    }
}

/// Parses `Digest k=v, k="v"` into the scheme and (lower-cased name, unquoted value) pairs.
fn parse_auth_params(s: &str) -> Option<Vec<(String, String)>> {
    let s = s.trim();
    let (scheme, rest) = s.split_once(|c: char| c.is_ascii_whitespace())?;
    if !scheme.eq_ignore_ascii_case("Digest") {
        return None;
    }
    let mut out = Vec::new();
    for item in split_outside_quotes_only(rest, ',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let (k, v) = item.split_once('=')?;
        out.push((k.trim().to_ascii_lowercase(), unquote(v)));
    }
    Some(out)
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A `WWW-Authenticate: Digest ...` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub nonce: String,
    /// Written as `algorithm=MD5` when set.
    pub algorithm: Option<String>,
    /// `auth` (written quoted) when the server asks for qop.
    pub qop: Option<String>,
    pub opaque: Option<String>,
    /// The previous nonce was stale: retry with the new one without asking the user.
    pub stale: bool,
}

impl Challenge {
    pub fn parse(s: &str) -> Option<Challenge> {
        let p = parse_auth_params(s)?;
        Some(Challenge {
            realm: param(&p, "realm")?.to_string(),
            nonce: param(&p, "nonce")?.to_string(),
            algorithm: param(&p, "algorithm").map(str::to_string),
            qop: param(&p, "qop").map(str::to_string),
            opaque: param(&p, "opaque").map(str::to_string),
            stale: param(&p, "stale").is_some_and(|v| v.eq_ignore_ascii_case("true")),
        })
    }

    /// True when `qop` lists `auth`.
    pub fn offers_qop_auth(&self) -> bool {
        self.qop
            .as_deref()
            .is_some_and(|q| q.split(',').any(|t| t.trim().eq_ignore_ascii_case("auth")))
    }
}

impl fmt::Display for Challenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Digest realm={}, nonce={}",
            quote(&self.realm),
            quote(&self.nonce)
        )?;
        if let Some(o) = &self.opaque {
            write!(f, ", opaque={}", quote(o))?;
        }
        if let Some(a) = &self.algorithm {
            write!(f, ", algorithm={a}")?;
        }
        if let Some(q) = &self.qop {
            write!(f, ", qop={}", quote(q))?;
        }
        if self.stale {
            f.write_str(", stale=true")?;
        }
        Ok(())
    }
}

/// An `Authorization: Digest ...` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub realm: String,
    pub nonce: String,
    /// The digest-uri the client hashed (HA2 uses this, not the Request-URI).
    pub uri: String,
    pub response: String,
    pub algorithm: Option<String>,
    pub cnonce: Option<String>,
    pub opaque: Option<String>,
    pub qop: Option<String>,
    /// Nonce count as sent (8 hex digits).
    pub nc: Option<String>,
}

impl Credentials {
    pub fn parse(s: &str) -> Option<Credentials> {
        let p = parse_auth_params(s)?;
        let get = |k: &str| param(&p, k).map(str::to_string);
        Some(Credentials {
            username: get("username")?,
            realm: get("realm")?,
            nonce: get("nonce")?,
            uri: get("uri")?,
            response: get("response")?,
            algorithm: get("algorithm"),
            cnonce: get("cnonce"),
            opaque: get("opaque"),
            qop: get("qop"),
            nc: get("nc"),
        })
    }

    /// The nonce count as a number (`None` when missing or not hex).
    pub fn nonce_count(&self) -> Option<u32> {
        u32::from_str_radix(self.nc.as_deref()?.trim(), 16).ok()
    }

    /// The response these credentials should carry for `method`, given HA1 of the password.
    /// `None` for an unknown algorithm or a `qop` without `nc`/`cnonce`.
    pub fn expected_response(&self, method: &str, ha1_hex: &str) -> Option<String> {
        let algorithm = Algorithm::from_param(self.algorithm.as_deref())?;
        let qop = match &self.qop {
            Some(q) => Some(QopInput {
                nc: self.nc.as_deref()?,
                cnonce: self.cnonce.as_deref()?,
                qop: q,
            }),
            None => None,
        };
        let ha1_used = match algorithm {
            Algorithm::Md5 => ha1_hex.to_string(),
            Algorithm::Md5Sess => {
                md5_hex(format!("{ha1_hex}:{}:{}", self.nonce, self.cnonce.as_deref()?).as_bytes())
            }
        };
        Some(digest_response(
            &ha1_used,
            &self.nonce,
            method,
            &self.uri,
            qop,
        ))
    }

    /// True when `response=` matches `password` (constant-time comparison).
    pub fn check_password(&self, method: &str, password: &str) -> bool {
        self.check_ha1(method, &ha1(&self.username, &self.realm, password))
    }

    /// True when `response=` matches HA1 (constant-time comparison).
    pub fn check_ha1(&self, method: &str, ha1_hex: &str) -> bool {
        self.expected_response(method, ha1_hex).is_some_and(|exp| {
            constant_time_eq(
                exp.as_bytes(),
                self.response.to_ascii_lowercase().as_bytes(),
            )
        })
    }
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Digest username={}, realm={}, nonce={}, uri={}, response={}",
            quote(&self.username),
            quote(&self.realm),
            quote(&self.nonce),
            quote(&self.uri),
            quote(&self.response)
        )?;
        if let Some(a) = &self.algorithm {
            write!(f, ", algorithm={a}")?;
        }
        if let Some(c) = &self.cnonce {
            write!(f, ", cnonce={}", quote(c))?;
        }
        if let Some(o) = &self.opaque {
            write!(f, ", opaque={}", quote(o))?;
        }
        if let Some(q) = &self.qop {
            write!(f, ", qop={q}")?;
        }
        if let Some(nc) = &self.nc {
            write!(f, ", nc={nc}")?;
        }
        Ok(())
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Client side: answers `challenge` for a request `method` to `uri` (use the Request-URI).
/// With `qop=auth` offered, `cnonce` and the nonce count `nc` (1 for the first use of a nonce)
/// are included; otherwise they are ignored.
pub fn answer(
    challenge: &Challenge,
    method: &str,
    uri: &str,
    username: &str,
    password: &str,
    cnonce: &str,
    nc: u32,
) -> Credentials {
    let qop = challenge.offers_qop_auth();
    let md5_sess = challenge
        .algorithm
        .as_deref()
        .is_some_and(|a| a.eq_ignore_ascii_case("MD5-sess"));
    let mut creds = Credentials {
        username: username.to_string(),
        realm: challenge.realm.clone(),
        nonce: challenge.nonce.clone(),
        uri: uri.to_string(),
        response: String::new(),
        algorithm: Some(if md5_sess { "MD5-sess" } else { "MD5" }.to_string()),
        cnonce: (qop || md5_sess).then(|| cnonce.to_string()),
        opaque: challenge.opaque.clone(),
        qop: qop.then(|| "auth".to_string()),
        nc: qop.then(|| format!("{nc:08x}")),
    };
    creds.response = creds
        .expected_response(method, &ha1(username, &challenge.realm, password))
        .unwrap_or_default();
    creds
}
