//! The server transaction table: matches received requests to transactions (RFC 3261
//! §17.2.3, with the Call-ID + CSeq fallback for devices whose branch lacks the magic cookie),
//! answers retransmissions with the stored response, absorbs ACKs for non-2xx finals, and
//! retransmits non-2xx INVITE finals over UDP until the ACK (Timer G/H).

use super::{Timers, Transport};
use crate::headers::Headers;
use crate::message::{Request, Response};
use crate::method::Method;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// What identifies a server transaction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ServerKey {
    /// RFC 3261: branch (with magic cookie), sent-by, and method (ACK counts as INVITE).
    Branch {
        branch: String,
        sent_by: String,
        method: Method,
    },
    /// RFC 2543 devices: Call-ID, CSeq number and method (ACK as INVITE), From tag, sent-by.
    Legacy {
        call_id: String,
        cseq: u32,
        method: Method,
        from_tag: String,
        sent_by: String,
    },
}

impl ServerKey {
    /// The key of a request (`method` from the request line) or of a response (pass the CSeq
    /// method). `None` when the top Via or, for legacy keys, Call-ID/CSeq are unusable.
    pub fn from_headers(headers: &Headers, method: &Method) -> Option<ServerKey> {
        let via = headers.top_via()?;
        let method = match method {
            Method::Ack => Method::Invite,
            m => m.clone(),
        };
        let sent_by = via.sent_by.to_string().to_ascii_lowercase();
        if via.has_rfc3261_branch() {
            return Some(ServerKey::Branch {
                branch: via.branch()?.to_string(),
                sent_by,
                method,
            });
        }
        let cseq = headers.cseq()?;
        Some(ServerKey::Legacy {
            call_id: headers.call_id()?.to_string(),
            cseq: cseq.seq,
            method,
            from_tag: headers
                .from()
                .and_then(|f| f.tag().map(str::to_string))
                .unwrap_or_default(),
            sent_by,
        })
    }
}

/// What to do with a received request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// A new request: hand it to the application (and later report its answer with
    /// [`ServerTransactions::record_response`]). ACKs for 2xx and requests without a usable
    /// Via also land here (they have no transaction).
    New,
    /// A retransmission: send this stored response again (`None`: not answered yet, send
    /// nothing). The application does not see it.
    Retransmission(Option<Response>),
    /// An ACK for a non-2xx final response: absorbed, nothing to send.
    AckAbsorbed,
}

/// A timer effect from [`ServerTransactions::poll`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerOutput {
    /// Send this INVITE final response again (Timer G, UDP only).
    Retransmit(Response),
    /// No ACK arrived for a non-2xx INVITE final within 64·T1 (Timer H).
    AckTimeout(ServerKey),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Received, not answered yet.
    Trying,
    /// A provisional response was sent.
    Proceeding,
    /// A final response was sent (INVITE: non-2xx, waiting for ACK).
    Completed,
    /// INVITE answered 2xx (RFC 6026 Accepted).
    Accepted,
    /// INVITE non-2xx final was ACKed; absorbing ACK retransmissions.
    Confirmed,
}

#[derive(Debug, Clone)]
struct ServerTx {
    invite: bool,
    transport: Transport,
    phase: Phase,
    last: Option<Response>,
    /// Next Timer G firing and the current interval.
    retransmit: Option<(Instant, Duration)>,
    /// When the transaction ends.
    deadline: Instant,
}

/// All server transactions of one endpoint.
#[derive(Debug, Clone, Default)]
pub struct ServerTransactions {
    timers: Timers,
    table: HashMap<ServerKey, ServerTx>,
}

impl ServerTransactions {
    pub fn new(timers: Timers) -> Self {
        ServerTransactions {
            timers,
            table: HashMap::new(),
        }
    }

    /// Live transactions.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Matches a received request.
    pub fn on_request(&mut self, now: Instant, req: &Request, transport: Transport) -> Incoming {
        let Some(key) = ServerKey::from_headers(&req.headers, &req.method) else {
            return Incoming::New;
        };
        let t4 = self.timers.t4;
        if req.method == Method::Ack {
            return match self.table.get_mut(&key) {
                Some(tx) if tx.invite => match tx.phase {
                    Phase::Completed => {
                        tx.phase = Phase::Confirmed;
                        tx.retransmit = None;
                        tx.deadline = if tx.transport.is_reliable() {
                            now
                        } else {
                            now + t4
                        };
                        Incoming::AckAbsorbed
                    }
                    Phase::Confirmed => Incoming::AckAbsorbed,
                    _ => Incoming::New,
                },
                _ => Incoming::New,
            };
        }
        if let Some(tx) = self.table.get(&key) {
            return Incoming::Retransmission(tx.last.clone());
        }
        let invite = req.method == Method::Invite;
        let unanswered = if invite {
            self.timers.invite_unanswered
        } else {
            self.timers.timeout()
        };
        self.table.insert(
            key,
            ServerTx {
                invite,
                transport,
                phase: Phase::Trying,
                last: None,
                retransmit: None,
                deadline: now + unanswered,
            },
        );
        Incoming::New
    }

    /// Records a response the application sends (keyed by its top Via and CSeq, which it
    /// copied from the request). Returns false when no transaction matches.
    pub fn record_response(&mut self, now: Instant, resp: &Response) -> bool {
        let Some(cseq) = resp.headers.cseq() else {
            return false;
        };
        let Some(key) = ServerKey::from_headers(&resp.headers, &cseq.method) else {
            return false;
        };
        let timers = self.timers;
        let Some(tx) = self.table.get_mut(&key) else {
            return false;
        };
        if matches!(
            tx.phase,
            Phase::Completed | Phase::Confirmed | Phase::Accepted
        ) && !(tx.phase == Phase::Accepted && resp.is_success())
        {
            return false;
        }
        tx.last = Some(resp.clone());
        let reliable = tx.transport.is_reliable();
        if resp.is_provisional() {
            tx.phase = Phase::Proceeding;
        } else if !tx.invite {
            tx.phase = Phase::Completed;
            tx.deadline = if reliable {
                now
            } else {
                now + timers.timeout()
            };
        } else if resp.is_success() {
            tx.phase = Phase::Accepted;
            tx.deadline = now + timers.timeout();
        } else {
            tx.phase = Phase::Completed;
            tx.deadline = now + timers.timeout();
            tx.retransmit = (!reliable).then(|| (now + timers.t1, timers.t1));
        }
        true
    }

    /// The earliest instant at which [`ServerTransactions::poll`] has work.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.table
            .values()
            .flat_map(|tx| [Some(tx.deadline), tx.retransmit.map(|(at, _)| at)])
            .flatten()
            .min()
    }

    /// Fires due timers: retransmits INVITE finals and ends finished transactions.
    pub fn poll(&mut self, now: Instant) -> Vec<ServerOutput> {
        let mut out = Vec::new();
        let t2 = self.timers.t2;
        self.table.retain(|key, tx| {
            if now >= tx.deadline {
                if tx.invite && tx.phase == Phase::Completed {
                    out.push(ServerOutput::AckTimeout(key.clone()));
                }
                return false;
            }
            if let Some((at, interval)) = tx.retransmit
                && now >= at
            {
                if let Some(resp) = &tx.last {
                    out.push(ServerOutput::Retransmit(resp.clone()));
                }
                let next = interval
                    .saturating_mul(2)
                    .min(t2)
                    .max(Duration::from_millis(1));
                tx.retransmit = Some((now + next, next));
            }
            true
        });
        out
    }
}
