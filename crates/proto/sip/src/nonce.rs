//! Server-side digest authentication: issuing challenges and verifying answers against a nonce
//! store with expiry and replay protection. Time is passed in; randomness comes from the
//! caller's RNG.
//!
//! * Without `qop` a nonce is good for one request.
//! * With `qop=auth` each nonce-count value is good once per nonce.
//! * A correct digest over an unknown, expired or already-used nonce is [`Verdict::Stale`]:
//!   answer 401 with [`DigestServer::challenge`]`(.., stale = true, ..)`.

use crate::auth::{Challenge, Credentials, ha1};
use rand::RngCore;
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

/// A fresh random token of `bytes` random bytes as hex (nonces, tags, branch suffixes).
pub fn random_hex(rng: &mut impl RngCore, bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rng.fill_bytes(&mut buf);
    hex::encode(buf)
}

/// A new RFC 3261 branch (`z9hG4bK` + 64 random bits).
pub fn new_branch(rng: &mut impl RngCore) -> String {
    format!("{}{}", crate::typed::MAGIC_COOKIE, random_hex(rng, 8))
}

/// A new From/To tag (64 random bits).
pub fn new_tag(rng: &mut impl RngCore) -> String {
    random_hex(rng, 8)
}

/// The outcome of [`DigestServer::verify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The password is right and the nonce fresh: accept the request.
    Ok,
    /// The password is right but the nonce is unknown, expired or already used: challenge again
    /// with `stale=true`.
    Stale,
    /// Wrong password, realm or algorithm: challenge again (without `stale`), or 403.
    Rejected,
}

#[derive(Debug, Clone)]
struct NonceEntry {
    issued: Instant,
    used_without_qop: bool,
    used_nc: HashSet<u32>,
}

/// Nonce counts remembered per nonce before the nonce is treated as used up.
const MAX_NC_PER_NONCE: usize = 256;

/// Digest authentication for one realm.
#[derive(Debug, Clone)]
pub struct DigestServer {
    realm: String,
    qop: bool,
    ttl: Duration,
    capacity: usize,
    nonces: HashMap<String, NonceEntry>,
    order: VecDeque<String>,
}

impl DigestServer {
    /// A server for `realm` (GB/T 28181: the 10-digit domain ID). `qop` adds `qop="auth"` to
    /// challenges. Nonces live `ttl`; at most 10 000 are held (the oldest are forgotten first).
    pub fn new(realm: impl Into<String>, qop: bool, ttl: Duration) -> Self {
        DigestServer {
            realm: realm.into(),
            qop,
            ttl,
            capacity: 10_000,
            nonces: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// Changes how many outstanding nonces are held.
    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// Outstanding nonces.
    pub fn len(&self) -> usize {
        self.nonces.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nonces.is_empty()
    }

    /// Issues a nonce and returns the challenge to put in `WWW-Authenticate` (algorithm=MD5).
    pub fn challenge(&mut self, now: Instant, stale: bool, rng: &mut impl RngCore) -> Challenge {
        self.purge(now);
        let nonce = random_hex(rng, 16);
        while self.nonces.len() >= self.capacity {
            match self.order.pop_front() {
                Some(old) => {
                    self.nonces.remove(&old);
                }
                None => break,
            }
        }
        self.nonces.insert(
            nonce.clone(),
            NonceEntry {
                issued: now,
                used_without_qop: false,
                used_nc: HashSet::new(),
            },
        );
        self.order.push_back(nonce.clone());
        Challenge {
            realm: self.realm.clone(),
            nonce,
            algorithm: Some("MD5".to_string()),
            qop: self.qop.then(|| "auth".to_string()),
            opaque: None,
            stale,
        }
    }

    /// Verifies `creds` for a request `method` against the user's password.
    pub fn verify(
        &mut self,
        now: Instant,
        method: &str,
        creds: &Credentials,
        password: &str,
    ) -> Verdict {
        self.verify_ha1(
            now,
            method,
            creds,
            &ha1(&creds.username, &self.realm, password),
        )
    }

    /// Verifies `creds` against a stored HA1 = MD5(username:realm:password).
    pub fn verify_ha1(
        &mut self,
        now: Instant,
        method: &str,
        creds: &Credentials,
        ha1_hex: &str,
    ) -> Verdict {
        if creds.realm != self.realm || !creds.check_ha1(method, ha1_hex) {
            return Verdict::Rejected;
        }
        let ttl = self.ttl;
        let Some(entry) = self.nonces.get_mut(&creds.nonce) else {
            return Verdict::Stale;
        };
        if now.saturating_duration_since(entry.issued) > ttl {
            self.forget(&creds.nonce.clone());
            return Verdict::Stale;
        }
        if creds.qop.is_some() {
            let Some(nc) = creds.nonce_count() else {
                return Verdict::Rejected;
            };
            if entry.used_nc.len() >= MAX_NC_PER_NONCE || !entry.used_nc.insert(nc) {
                return Verdict::Stale;
            }
            Verdict::Ok
        } else {
            if entry.used_without_qop {
                return Verdict::Stale;
            }
            entry.used_without_qop = true;
            Verdict::Ok
        }
    }

    /// Forgets nonces older than the lifetime.
    pub fn purge(&mut self, now: Instant) {
        let ttl = self.ttl;
        while let Some(front) = self.order.front() {
            let expired = self
                .nonces
                .get(front)
                .is_none_or(|e| now.saturating_duration_since(e.issued) > ttl);
            if !expired {
                break;
            }
            if let Some(old) = self.order.pop_front() {
                self.nonces.remove(&old);
            }
        }
    }

    fn forget(&mut self, nonce: &str) {
        self.nonces.remove(nonce);
        self.order.retain(|n| n != nonce);
    }
}
