//! Client transactions for requests the platform sends: retransmission (Timer A for INVITE,
//! Timer E for the others: T1 doubling, capped at T2 for non-INVITE; none over TCP), timeout
//! (Timer B/F = 64·T1), response matching by branch and CSeq method, and the ACK for a non-2xx
//! INVITE final.

use super::{Timers, Transport};
use crate::error::TransactionError;
use crate::headers::Headers;
use crate::message::{Request, Response};
use crate::method::Method;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Timer D for unreliable transports (RFC 3261: at least 32 s).
const TIMER_D: Duration = Duration::from_secs(32);

/// Identifies a client transaction: the top Via branch and the method.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientKey {
    pub branch: String,
    pub method: Method,
}

impl ClientKey {
    /// The key a response belongs to (top Via branch, CSeq method).
    pub fn of_response(resp: &Response) -> Option<ClientKey> {
        Some(ClientKey {
            branch: resp.headers.top_via()?.branch()?.to_string(),
            method: resp.headers.cseq()?.method,
        })
    }
}

/// A timer effect from [`ClientTransaction::poll`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientOutput {
    /// Send the request again.
    Retransmit(Request),
    /// No final response within 64·T1 (Timer B/F): treat as 408.
    Timeout,
    /// The transaction is over (after its final response and the absorb period).
    Terminated,
}

/// What to do with a received response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseAction {
    /// Pass it to the application.
    Deliver,
    /// Pass it to the application and send this ACK (non-2xx INVITE final).
    DeliverAndAck(Request),
    /// A retransmitted non-2xx INVITE final: send this ACK again, do not deliver.
    Ack(Request),
    /// A retransmission the application has already seen: drop it.
    Absorb,
    /// Not for this transaction.
    NotMatched,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Calling (INVITE) / Trying (non-INVITE).
    Started,
    Proceeding,
    Completed,
    /// INVITE answered 2xx; later 2xx retransmissions still go to the application.
    Accepted,
    Terminated,
}

/// One client transaction.
#[derive(Debug, Clone)]
pub struct ClientTransaction {
    key: ClientKey,
    request: Request,
    transport: Transport,
    timers: Timers,
    phase: Phase,
    retransmit: Option<(Instant, Duration)>,
    deadline: Option<Instant>,
    ack: Option<Request>,
}

impl ClientTransaction {
    /// Starts a transaction for `request`, which has just been sent for the first time at
    /// `now`. The request needs a top Via with a branch.
    pub fn new(
        now: Instant,
        request: Request,
        transport: Transport,
        timers: Timers,
    ) -> Result<ClientTransaction, TransactionError> {
        if request.method == Method::Ack {
            return Err(TransactionError::AckNotAllowed);
        }
        let branch = request
            .headers
            .top_via()
            .and_then(|v| v.branch().map(str::to_string))
            .ok_or(TransactionError::NoBranch)?;
        let key = ClientKey {
            branch,
            method: request.method.clone(),
        };
        Ok(ClientTransaction {
            key,
            request,
            transport,
            timers,
            phase: Phase::Started,
            retransmit: (!transport.is_reliable()).then(|| (now + timers.t1, timers.t1)),
            deadline: Some(now + timers.timeout()),
            ack: None,
        })
    }

    pub fn key(&self) -> &ClientKey {
        &self.key
    }

    pub fn request(&self) -> &Request {
        &self.request
    }

    fn is_invite(&self) -> bool {
        self.key.method == Method::Invite
    }

    pub fn is_terminated(&self) -> bool {
        self.phase == Phase::Terminated
    }

    /// True when `resp` belongs to this transaction (same top Via branch and CSeq method).
    pub fn matches(&self, resp: &Response) -> bool {
        ClientKey::of_response(resp).is_some_and(|k| k == self.key)
    }

    /// When [`ClientTransaction::poll`] next has work.
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.phase == Phase::Terminated {
            return None;
        }
        [self.deadline, self.retransmit.map(|(at, _)| at)]
            .into_iter()
            .flatten()
            .min()
    }

    /// Fires due timers; call again until `None` after a jump in time.
    pub fn poll(&mut self, now: Instant) -> Option<ClientOutput> {
        if self.phase == Phase::Terminated {
            return None;
        }
        if let Some(deadline) = self.deadline
            && now >= deadline
        {
            let timed_out = matches!(self.phase, Phase::Started | Phase::Proceeding);
            self.phase = Phase::Terminated;
            self.retransmit = None;
            return Some(if timed_out {
                ClientOutput::Timeout
            } else {
                ClientOutput::Terminated
            });
        }
        let (at, interval) = self.retransmit?;
        if now < at {
            return None;
        }
        let next = if self.is_invite() {
            interval.saturating_mul(2)
        } else if self.phase == Phase::Proceeding {
            self.timers.t2
        } else {
            interval.saturating_mul(2).min(self.timers.t2)
        };
        let next = next.max(Duration::from_millis(1));
        self.retransmit = Some((now + next, next));
        Some(ClientOutput::Retransmit(self.request.clone()))
    }

    /// Feeds a received response.
    pub fn on_response(&mut self, now: Instant, resp: &Response) -> ResponseAction {
        if !self.matches(resp) {
            return ResponseAction::NotMatched;
        }
        let reliable = self.transport.is_reliable();
        match self.phase {
            Phase::Terminated => ResponseAction::Absorb,
            Phase::Completed => match &self.ack {
                Some(ack) if resp.is_final() => ResponseAction::Ack(ack.clone()),
                _ => ResponseAction::Absorb,
            },
            Phase::Accepted if resp.is_success() => ResponseAction::Deliver,
            Phase::Accepted => ResponseAction::Absorb,
            Phase::Started | Phase::Proceeding if resp.is_provisional() => {
                self.phase = Phase::Proceeding;
                if self.is_invite() {
                    // Timer A stops; Timer B only runs in Calling.
                    self.retransmit = None;
                    self.deadline = None;
                } else if let Some((_, _)) = self.retransmit {
                    self.retransmit = Some((now + self.timers.t2, self.timers.t2));
                }
                ResponseAction::Deliver
            }
            Phase::Started | Phase::Proceeding => {
                self.retransmit = None;
                if !self.is_invite() {
                    self.phase = Phase::Completed;
                    self.deadline = Some(if reliable { now } else { now + self.timers.t4 });
                    ResponseAction::Deliver
                } else if resp.is_success() {
                    self.phase = Phase::Accepted;
                    self.deadline = Some(now + self.timers.timeout());
                    ResponseAction::Deliver
                } else {
                    self.phase = Phase::Completed;
                    self.deadline = Some(if reliable { now } else { now + TIMER_D });
                    let ack = build_ack(&self.request, resp);
                    self.ack = Some(ack.clone());
                    ResponseAction::DeliverAndAck(ack)
                }
            }
        }
    }
}

/// RFC 3261 §17.1.1.3: the ACK for a non-2xx final response to `invite`.
pub(crate) fn build_ack(invite: &Request, resp: &Response) -> Request {
    let mut headers = Headers::new();
    if let Some(via) = invite.headers.top_via() {
        headers.push("Via", via.to_string());
    }
    for name in ["Max-Forwards", "From"] {
        if let Some(v) = invite.headers.get(name) {
            headers.push(name, v);
        }
    }
    if let Some(to) = resp.headers.get("To").or_else(|| invite.headers.get("To")) {
        headers.push("To", to);
    }
    if let Some(c) = invite.headers.get("Call-ID") {
        headers.push("Call-ID", c);
    }
    if let Some(cseq) = invite.headers.cseq() {
        headers.push("CSeq", format!("{} ACK", cseq.seq));
    }
    for route in invite.headers.get_all("Route") {
        headers.push("Route", route);
    }
    Request {
        method: Method::Ack,
        uri: invite.uri.clone(),
        headers,
        body: Vec::new(),
    }
}

/// Every client transaction of one endpoint, matched by [`ClientKey`].
#[derive(Debug, Clone, Default)]
pub struct ClientTransactions {
    timers: Timers,
    table: HashMap<ClientKey, ClientTransaction>,
}

impl ClientTransactions {
    pub fn new(timers: Timers) -> Self {
        ClientTransactions {
            timers,
            table: HashMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    pub fn get(&self, key: &ClientKey) -> Option<&ClientTransaction> {
        self.table.get(key)
    }

    /// Starts tracking `request`, sent for the first time at `now`.
    pub fn start(
        &mut self,
        now: Instant,
        request: Request,
        transport: Transport,
    ) -> Result<ClientKey, TransactionError> {
        let tx = ClientTransaction::new(now, request, transport, self.timers)?;
        let key = tx.key().clone();
        if self.table.contains_key(&key) {
            return Err(TransactionError::Duplicate(key.branch));
        }
        self.table.insert(key.clone(), tx);
        Ok(key)
    }

    /// Routes a received response to its transaction. `None`: no transaction matches (a stray
    /// or late response; RFC 3261 passes it to the core, which usually drops it).
    pub fn on_response(
        &mut self,
        now: Instant,
        resp: &Response,
    ) -> Option<(ClientKey, ResponseAction)> {
        let key = ClientKey::of_response(resp)?;
        let tx = self.table.get_mut(&key)?;
        let action = tx.on_response(now, resp);
        Some((key, action))
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.table
            .values()
            .filter_map(ClientTransaction::next_deadline)
            .min()
    }

    /// Fires due timers of every transaction and drops the finished ones.
    pub fn poll(&mut self, now: Instant) -> Vec<(ClientKey, ClientOutput)> {
        let mut out = Vec::new();
        for (key, tx) in &mut self.table {
            while let Some(o) = tx.poll(now) {
                let done = !matches!(o, ClientOutput::Retransmit(_));
                out.push((key.clone(), o));
                if done {
                    break;
                }
            }
        }
        self.table.retain(|_, tx| !tx.is_terminated());
        out
    }
}
