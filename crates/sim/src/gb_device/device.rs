//! One simulated device as a sans-IO state machine: the caller feeds it received messages and
//! the time, and takes the bytes to send and the [`EventKind`]s that happened.
//!
//! * Registration: REGISTER → 401 → REGISTER with the digest `answer()` (again on `stale`), 423
//!   honoured via `Min-Expires`, refresh at 80 % of the granted lifetime, a retry after
//!   `retry_after` when it fails, `Expires: 0` to unregister. The platform's `Date` sets the
//!   device clock (alarm times).
//! * Keepalive MESSAGEs every interval while registered; a 4xx to one makes the device register
//!   again.
//! * Platform MESSAGEs: 200 OK at once, then the Response MESSAGE(s): Catalog (split under
//!   1300 bytes), DeviceInfo, DeviceStatus, DeviceControl `Result OK`; SUBSCRIBE is accepted
//!   (200 with its Expires; alarms still go by MESSAGE). The platform's
//!   Response `Alarm` is answered 200 and timed. A retransmitted request gets the same response
//!   again.
//! * Live video: an INVITE for one of its channels is answered 200 with an SDP answer (the
//!   fleet opens the media socket first and passes its port); the ACK starts the stream and a
//!   BYE stops it ([`MediaCmd`]s for the fleet); [`Device::hang_up`] ends every stream with a
//!   BYE of the device's own. An INVITE for another channel gets 404, an unreadable offer 488.
//! * Every request the device sends runs in a client transaction (Timer E retransmission over
//!   UDP, timeout after 64·T1).
//! * [`Device::silence`] stops everything (the platform should mark the device offline).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use rand::{Rng, RngCore};
use xiaoan_manscdp::{
    AlarmMethods, AlarmNotify, Body, CatalogItem, ControlCmd, DeviceInfo, DeviceStatus, Guard,
    OnOff, Outcome, Payload,
};
use xiaoan_sip::{
    ClientKey, ClientOutput, ClientTransactions, HostPort, Method, NameAddr, Request, Response,
    ResponseAction, Timers, Uri, answer, new_branch, new_tag, random_hex,
};

use super::report::{AlarmReport, DeviceReport, EventKind};
use super::sdp::{self, MediaMode, Offer};
use super::wire::{self, Addressing, Ids};
use super::{AlarmSpec, DeviceSpec, MAX_UDP_REQUEST, Profile, SimError, check_id};

/// Responses remembered for retransmitted platform requests.
const ANSWERED_CACHE: usize = 16;

/// Digest attempts per request (the first answer, then answers to `stale` challenges).
const MAX_AUTH_TRIES: u8 = 3;

/// Registration state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegState {
    Idle,
    Registering,
    Registered,
    Unregistering,
    Unregistered,
    Failed,
}

#[derive(Debug, Clone)]
enum Kind {
    Register { expires: u32 },
    Keepalive { sn: u32 },
    Alarm { sn: u32 },
    Reply { what: String },
}

/// What the fleet must do with a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaCmd {
    /// Start sending on the socket prepared for `call_id`.
    Start {
        call_id: String,
        mode: MediaMode,
        dest: Option<SocketAddr>,
        ssrc: u32,
    },
    /// Stop the stream of `call_id` (and drop its prepared socket).
    Stop { call_id: String },
}

/// A live-video session the platform opened.
#[derive(Debug, Clone)]
struct LiveSession {
    call_id: String,
    channel: String,
    offer: Offer,
    /// The INVITE's From (the platform, with its tag) and our To (with our tag).
    remote: String,
    local: String,
    /// Where the device's own in-dialog requests go (the INVITE's Contact).
    target: String,
    streaming: bool,
}

#[derive(Debug, Clone)]
struct Pending {
    kind: Kind,
    request: Request,
    auth_tries: u8,
}

/// One simulated device.
#[derive(Debug)]
pub struct Device {
    profile: Arc<Profile>,
    addr: Addressing,
    channels: Vec<String>,
    items: Vec<CatalogItem>,
    tag: String,
    reg_call: String,
    msg_call: String,
    reg_cseq: u32,
    msg_cseq: u32,
    sn: u32,
    expires: u32,
    state: RegState,
    muted: bool,
    keepalives_on: bool,
    next_register: Option<Instant>,
    next_keepalive: Option<Instant>,
    /// Platform time minus local UTC, from the `Date` of the last 200 to REGISTER.
    clock_offset: chrono::Duration,
    txs: ClientTransactions,
    pending: HashMap<ClientKey, Pending>,
    answered: VecDeque<(String, String, Vec<u8>)>,
    report: DeviceReport,
    outbox: Vec<Vec<u8>>,
    events: Vec<EventKind>,
    live: Vec<LiveSession>,
    media: Vec<MediaCmd>,
    bye_cseq: u32,
}

impl Device {
    /// A device at `local` (its socket's address) talking to the platform at `remote`.
    pub fn new(
        spec: &DeviceSpec,
        profile: Arc<Profile>,
        local: SocketAddr,
        remote: SocketAddr,
        rng: &mut impl RngCore,
    ) -> Result<Device, SimError> {
        check_id(&spec.id)?;
        for c in &spec.channels {
            check_id(c)?;
        }
        let addr = Addressing {
            device_id: spec.id.clone(),
            platform_id: profile.platform_id.clone(),
            domain: profile.domain.clone(),
            local: host_port(local),
            remote: host_port(remote),
            transport: profile.transport,
        };
        Ok(Device {
            items: wire::catalog_items(&spec.id, &spec.channels),
            channels: spec.channels.clone(),
            tag: new_tag(rng),
            reg_call: format!("{}@{}", random_hex(rng, 8), addr.local.host),
            msg_call: format!("{}@{}", random_hex(rng, 8), addr.local.host),
            reg_cseq: 0,
            msg_cseq: 0,
            sn: 0,
            expires: profile.expires,
            state: RegState::Idle,
            muted: false,
            keepalives_on: true,
            next_register: None,
            next_keepalive: None,
            // China Standard Time until the platform's Date says otherwise.
            clock_offset: chrono::Duration::hours(8),
            txs: ClientTransactions::new(Timers::default()),
            pending: HashMap::new(),
            answered: VecDeque::new(),
            report: DeviceReport {
                id: spec.id.clone(),
                ..DeviceReport::default()
            },
            outbox: Vec::new(),
            events: Vec::new(),
            live: Vec::new(),
            media: Vec::new(),
            bye_cseq: 0,
            addr,
            profile,
        })
    }

    pub fn id(&self) -> &str {
        &self.addr.device_id
    }

    pub fn channels(&self) -> &[String] {
        &self.channels
    }

    /// The Call-IDs this device uses (registration, MESSAGEs): replies carry one of them.
    pub fn call_ids(&self) -> [&str; 2] {
        [&self.reg_call, &self.msg_call]
    }

    pub fn state(&self) -> RegState {
        self.state
    }

    pub fn is_registered(&self) -> bool {
        self.state == RegState::Registered
    }

    /// True when no request of this device is waiting for its final response.
    pub fn is_idle(&self) -> bool {
        self.pending.is_empty()
    }

    pub fn report(&self) -> &DeviceReport {
        &self.report
    }

    /// The bytes to send to the platform and the events since the last call.
    pub fn take_output(&mut self) -> (Vec<Vec<u8>>, Vec<EventKind>) {
        (
            std::mem::take(&mut self.outbox),
            std::mem::take(&mut self.events),
        )
    }

    /// What the fleet must do with streams since the last call.
    pub fn take_media(&mut self) -> Vec<MediaCmd> {
        std::mem::take(&mut self.media)
    }

    /// Live-video sessions open now.
    pub fn live_sessions(&self) -> usize {
        self.live.len()
    }

    /// Ends every live-video session with the device's own BYE; returns how many.
    pub fn hang_up(&mut self, now: Instant, rng: &mut impl RngCore) -> usize {
        let sessions = std::mem::take(&mut self.live);
        let n = sessions.len();
        for s in sessions {
            self.bye_cseq += 1;
            let mut req = Request::new(Method::Bye, s.target.clone());
            let h = &mut req.headers;
            h.push("Via", self.addr.via(&new_branch(rng)));
            h.push("From", s.local.clone());
            h.push("To", s.remote.clone());
            h.push("Call-ID", s.call_id.clone());
            h.push("CSeq", format!("{} BYE", self.bye_cseq));
            h.push("Max-Forwards", "70");
            h.push("User-Agent", wire::USER_AGENT);
            self.start(
                now,
                req.clone(),
                Pending {
                    kind: Kind::Reply { what: "BYE".into() },
                    request: req,
                    auth_tries: 0,
                },
            );
            self.report.byes_sent += 1;
            self.stop_stream(s, "device BYE");
        }
        n
    }

    fn stop_stream(&mut self, s: LiveSession, why: &str) {
        if s.streaming {
            self.report.streams_stopped += 1;
        }
        self.media.push(MediaCmd::Stop { call_id: s.call_id });
        self.events.push(EventKind::StreamStopped {
            channel: s.channel,
            why: why.into(),
        });
    }

    /// When [`Device::poll`] next has work.
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.muted {
            return None;
        }
        [
            self.txs.next_deadline(),
            self.next_register,
            self.next_keepalive,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Sends REGISTER now (the first registration or a refresh).
    pub fn register(&mut self, now: Instant, rng: &mut impl RngCore) {
        if self.muted {
            return;
        }
        let refresh = self.state == RegState::Registered;
        if self.state != RegState::Registered {
            self.state = RegState::Registering;
        }
        self.next_register = None;
        self.send_register(now, self.expires, rng);
        self.events.push(EventKind::Registering { refresh });
    }

    /// Stops keepalives and sends `Expires: 0`.
    pub fn unregister(&mut self, now: Instant, rng: &mut impl RngCore) {
        if self.muted {
            return;
        }
        self.keepalives_on = false;
        self.next_keepalive = None;
        self.next_register = None;
        self.state = RegState::Unregistering;
        self.send_register(now, 0, rng);
    }

    /// Goes quiet: no more keepalives, refreshes, retransmissions or answers, as if the power
    /// were cut. The platform should mark the device offline after its missed keepalives.
    pub fn silence(&mut self) {
        self.muted = true;
        self.next_keepalive = None;
        self.next_register = None;
        self.txs = ClientTransactions::new(Timers::default());
        self.pending.clear();
    }

    /// Sends an alarm (Notify `Alarm`) and returns its SN.
    pub fn send_alarm(
        &mut self,
        now: Instant,
        spec: &AlarmSpec,
        rng: &mut impl RngCore,
    ) -> Result<u32, SimError> {
        if self.state != RegState::Registered {
            return Err(SimError::NotRegistered(self.id().to_owned()));
        }
        let channel = spec
            .channel
            .clone()
            .or_else(|| self.channels.first().cloned())
            .unwrap_or_else(|| self.id().to_owned());
        let notify = AlarmNotify {
            priority: Some(spec.priority),
            method: AlarmMethods::from_digits(&spec.method),
            time: Some(self.device_time()),
            description: spec.description.clone(),
            longitude: spec.longitude,
            latitude: spec.latitude,
            alarm_type: spec.alarm_type,
            event_type: None,
        };
        let sn = self.next_sn();
        let body = Body::alarm(sn, channel.clone(), notify).encode(self.profile.charset)?;
        self.send_message(now, body, Kind::Alarm { sn }, rng);
        self.report.alarms.push(AlarmReport {
            sn,
            channel: channel.clone(),
            sent_at: now,
            status: None,
            to_answer: None,
            to_response: None,
            result: None,
            timed_out: false,
        });
        self.events.push(EventKind::AlarmSent { sn, channel });
        Ok(sn)
    }

    /// Fires due timers: retransmissions and timeouts, re-registration, keepalives.
    pub fn poll(&mut self, now: Instant, rng: &mut impl RngCore) {
        if self.muted {
            return;
        }
        for (key, out) in self.txs.poll(now) {
            match out {
                ClientOutput::Retransmit(req) => self.outbox.push(req.encode()),
                ClientOutput::Timeout => {
                    if let Some(p) = self.pending.remove(&key) {
                        self.finish(now, p.kind, None, None);
                    }
                }
                ClientOutput::Terminated => {}
            }
        }
        if self.next_register.is_some_and(|t| t <= now) {
            self.register(now, rng);
        }
        if self.next_keepalive.is_some_and(|t| t <= now) {
            self.next_keepalive = Some(now + self.profile.keepalive);
            if self.state == RegState::Registered && self.keepalives_on {
                let sn = self.next_sn();
                match Body::keepalive(sn, self.id()).encode(self.profile.charset) {
                    Ok(body) => {
                        self.report.keepalives_sent += 1;
                        self.send_message(now, body, Kind::Keepalive { sn }, rng);
                    }
                    Err(e) => self.note(format!("keepalive not encoded: {e}")),
                }
            }
        }
    }

    /// A response from the platform (already matched to this device).
    pub fn on_response(&mut self, now: Instant, resp: &Response, rng: &mut impl RngCore) {
        if self.muted {
            return;
        }
        let Some((key, action)) = self.txs.on_response(now, resp) else {
            return;
        };
        if !matches!(
            action,
            ResponseAction::Deliver | ResponseAction::DeliverAndAck(_)
        ) || resp.is_provisional()
        {
            return;
        }
        let Some(p) = self.pending.remove(&key) else {
            return;
        };
        if matches!(resp.status, 401 | 407) && self.answer_challenge(now, resp, &p, rng) {
            return;
        }
        if resp.status == 423
            && let Kind::Register { expires } = p.kind
            && expires > 0
            && let Some(min) = resp
                .headers
                .get("Min-Expires")
                .and_then(|m| m.trim().parse::<u32>().ok())
            && min > expires
        {
            self.expires = min;
            self.note(format!("423: registering again with Expires {min}"));
            self.send_register(now, min, rng);
            return;
        }
        self.finish(now, p.kind, Some(resp.status), Some(resp));
    }

    /// Resends the request of `p` with credentials for the challenge in `resp`. False when
    /// there is no usable challenge or the tries are used up (a wrong password).
    fn answer_challenge(
        &mut self,
        now: Instant,
        resp: &Response,
        p: &Pending,
        rng: &mut impl RngCore,
    ) -> bool {
        let header = if resp.status == 407 {
            "Proxy-Authenticate"
        } else {
            "WWW-Authenticate"
        };
        let Some(challenge) = resp
            .headers
            .get(header)
            .and_then(xiaoan_sip::Challenge::parse)
        else {
            return false;
        };
        if p.auth_tries >= MAX_AUTH_TRIES || (p.auth_tries > 0 && !challenge.stale) {
            return false;
        }
        let mut req = p.request.clone();
        let creds = answer(
            &challenge,
            req.method.as_str(),
            &req.uri,
            self.id(),
            &self.profile.password,
            &random_hex(rng, 8),
            1,
        );
        let auth_header = if resp.status == 407 {
            "Proxy-Authorization"
        } else {
            "Authorization"
        };
        req.headers.set(auth_header, creds.to_string());
        let cseq = if req.method == Method::Register {
            self.reg_cseq += 1;
            self.reg_cseq
        } else {
            self.msg_cseq += 1;
            self.msg_cseq
        };
        req.headers.set("CSeq", format!("{cseq} {}", req.method));
        req.headers.set("Via", self.addr.via(&new_branch(rng)));
        if matches!(p.kind, Kind::Register { .. }) {
            self.events.push(EventKind::Challenged {
                realm: challenge.realm.clone(),
            });
        }
        self.start(
            now,
            req,
            Pending {
                kind: p.kind.clone(),
                request: p.request.clone(),
                auth_tries: p.auth_tries + 1,
            },
        );
        true
    }

    /// A request ended: `status` is the final status, `None` after a timeout.
    fn finish(&mut self, now: Instant, kind: Kind, status: Option<u16>, resp: Option<&Response>) {
        let ok = status.is_some_and(|s| (200..300).contains(&s));
        match kind {
            Kind::Register { expires: 0 } => {
                self.state = if ok {
                    RegState::Unregistered
                } else {
                    RegState::Failed
                };
                self.report.registered = false;
                if ok {
                    self.events.push(EventKind::Unregistered);
                } else {
                    self.report.last_error = Some(format!("unregister: {status:?}"));
                    self.events.push(EventKind::RegisterFailed { status });
                }
            }
            Kind::Register { expires } if ok => {
                let granted = resp
                    .and_then(|r| {
                        r.headers
                            .expires()
                            .or_else(|| r.headers.contact().and_then(|c| c.expires()))
                    })
                    .unwrap_or(expires);
                let date = resp.and_then(|r| r.headers.date()).map(str::to_owned);
                if let Some(t) = date.as_deref().and_then(parse_date) {
                    self.clock_offset = t - chrono::Utc::now().naive_utc();
                }
                let first = self.state != RegState::Registered;
                self.state = RegState::Registered;
                self.report.registered = true;
                self.report.registrations += 1;
                self.report.first_registered_at.get_or_insert(now);
                let refresh = Duration::from_secs(u64::from(granted.max(2)) * 4 / 5);
                self.next_register = Some(now + refresh);
                if first && self.keepalives_on {
                    let delay = if self.profile.spread_keepalives {
                        self.profile
                            .keepalive
                            .mul_f64(rand::rng().random_range(0.0..1.0))
                    } else {
                        Duration::ZERO
                    };
                    self.next_keepalive = Some(now + delay);
                }
                self.events.push(EventKind::Registered {
                    expires: granted,
                    date,
                });
            }
            Kind::Register { .. } => {
                self.state = RegState::Failed;
                self.report.registered = false;
                self.report.register_failures += 1;
                self.report.last_error = Some(match status {
                    Some(s) => format!("REGISTER answered {s}"),
                    None => "REGISTER timed out".into(),
                });
                self.next_keepalive = None;
                self.next_register = Some(now + self.profile.retry_after);
                self.events.push(EventKind::RegisterFailed { status });
            }
            Kind::Keepalive { sn } if ok => {
                self.report.keepalives_ok += 1;
                self.events.push(EventKind::KeepaliveOk { sn });
            }
            Kind::Keepalive { sn } => {
                self.report.keepalives_failed += 1;
                self.report.last_error = Some(format!("keepalive: {status:?}"));
                self.events.push(EventKind::KeepaliveFailed { sn, status });
                // The platform no longer knows the device: register again.
                if status.is_some_and(|s| (400..500).contains(&s))
                    && self.state == RegState::Registered
                {
                    self.state = RegState::Idle;
                    self.report.registered = false;
                    self.next_register = Some(now);
                }
            }
            Kind::Alarm { sn } => {
                if let Some(a) = self.report.alarms.iter_mut().find(|a| a.sn == sn) {
                    a.status = status;
                    a.timed_out = status.is_none();
                    a.to_answer = status.map(|_| now.saturating_duration_since(a.sent_at));
                    let after = now.saturating_duration_since(a.sent_at);
                    self.events
                        .push(EventKind::AlarmAnswered { sn, status, after });
                }
            }
            Kind::Reply { what } if !ok => {
                self.events.push(EventKind::MessageFailed { what, status });
            }
            Kind::Reply { .. } => {}
        }
    }

    /// A request from the platform (already matched to this device).
    pub fn on_request(&mut self, now: Instant, req: &Request, rng: &mut impl RngCore) {
        self.on_request_with_port(now, req, None, rng);
    }

    /// A request from the platform; for an INVITE, `media_port` is the port of the socket the
    /// fleet opened for it (`None`: none could be opened, the INVITE fails).
    pub fn on_request_with_port(
        &mut self,
        now: Instant,
        req: &Request,
        media_port: Option<u16>,
        rng: &mut impl RngCore,
    ) {
        if self.muted {
            return;
        }
        if req.method == Method::Ack {
            self.on_ack(req);
            return;
        }
        let call_id = req.headers.call_id().unwrap_or_default().to_owned();
        let cseq = req.headers.get("CSeq").unwrap_or_default().to_owned();
        if let Some((_, _, bytes)) = self
            .answered
            .iter()
            .find(|(c, s, _)| *c == call_id && *s == cseq)
        {
            self.outbox.push(bytes.clone());
            return;
        }
        let tag = new_tag(rng);
        let mut sdp_answer = None;
        let (status, what, follow_up) = match req.method {
            Method::Message => self.on_message(now, req),
            Method::Invite => {
                let (status, answer) = self.on_invite(req, media_port, &tag);
                sdp_answer = answer;
                (status, "INVITE".to_owned(), None)
            }
            Method::Bye => {
                let call_id = req.headers.call_id().unwrap_or_default();
                match self.live.iter().position(|s| s.call_id == call_id) {
                    Some(i) => {
                        let s = self.live.remove(i);
                        self.report.byes_received += 1;
                        self.stop_stream(s, "platform BYE");
                        (200, "BYE".to_owned(), None)
                    }
                    None => (481, "BYE".to_owned(), None),
                }
            }
            // Alarm subscriptions are accepted; alarms still go by MESSAGE.
            Method::Subscribe => (200, "SUBSCRIBE".to_owned(), None),
            ref m => (200, m.as_str().to_owned(), None),
        };
        let mut resp = wire::respond(req, status, &tag);
        if req.method == Method::Subscribe {
            resp.headers
                .push("Expires", req.headers.expires().unwrap_or(3600).to_string());
        }
        if let Some(body) = sdp_answer {
            let contact = Uri::sip(Some(self.id()), &self.addr.local.host, self.addr.local.port);
            resp.headers
                .push("Contact", NameAddr::new(contact).to_string());
            resp.headers.push("Content-Type", "APPLICATION/SDP");
            resp.body = body.into_bytes();
        }
        let resp = resp.encode();
        self.answered.push_back((call_id, cseq, resp.clone()));
        if self.answered.len() > ANSWERED_CACHE {
            self.answered.pop_front();
        }
        self.outbox.push(resp);
        self.report.requests_answered += 1;
        let mut reply = format!("{status} {}", xiaoan_sip::reason_phrase(status));
        if let Some(payload) = follow_up {
            match self.send_follow_up(now, payload, rng) {
                Ok(n) if n > 1 => reply.push_str(&format!(" + {n} Response MESSAGEs")),
                Ok(_) => reply.push_str(" + Response MESSAGE"),
                Err(e) => reply.push_str(&format!(" (Response not sent: {e})")),
            }
        }
        self.events.push(EventKind::Answered { what, reply });
    }

    /// An INVITE: the status and, for 200, the SDP answer; the session is kept until BYE.
    fn on_invite(
        &mut self,
        req: &Request,
        media_port: Option<u16>,
        tag: &str,
    ) -> (u16, Option<String>) {
        let channel = req
            .parsed_uri()
            .and_then(|u| u.user)
            .or_else(|| req.headers.to().and_then(|t| t.user().map(str::to_owned)))
            .unwrap_or_default();
        if channel != self.id() && !self.channels.contains(&channel) {
            return (404, None);
        }
        let Some(offer) = Offer::parse(&String::from_utf8_lossy(&req.body)) else {
            self.note("INVITE without a usable SDP offer".into());
            return (488, None);
        };
        let Some(port) = media_port else {
            return (500, None);
        };
        let call_id = req.headers.call_id().unwrap_or_default().to_owned();
        let answer = sdp::answer(&channel, &self.addr.local.host, port, &offer);
        let local = match req.headers.get("To") {
            Some(to) if to.contains("tag=") => to.to_owned(),
            Some(to) => format!("{to};tag={tag}"),
            None => String::new(),
        };
        let target = req
            .headers
            .contact()
            .map(|c| c.uri.to_string())
            .unwrap_or_else(|| {
                Uri::sip(
                    Some(&self.addr.platform_id),
                    &self.addr.remote.host,
                    self.addr.remote.port,
                )
                .to_string()
            });
        self.live.retain(|s| s.call_id != call_id);
        self.live.push(LiveSession {
            call_id,
            channel,
            offer,
            remote: req.headers.get("From").unwrap_or_default().to_owned(),
            local,
            target,
            streaming: false,
        });
        self.report.invites += 1;
        (200, Some(answer))
    }

    /// The ACK of an answered INVITE starts its stream.
    fn on_ack(&mut self, req: &Request) {
        let call_id = req.headers.call_id().unwrap_or_default();
        let Some(s) = self
            .live
            .iter_mut()
            .find(|s| s.call_id == call_id && !s.streaming)
        else {
            return;
        };
        s.streaming = true;
        let fallback = rand::rng().random();
        let cmd = MediaCmd::Start {
            call_id: s.call_id.clone(),
            mode: s.offer.mode,
            dest: s.offer.dest(),
            ssrc: s.offer.ssrc_or(fallback),
        };
        let ev = EventKind::StreamStarted {
            channel: s.channel.clone(),
            mode: format!("{:?}", s.offer.mode),
        };
        self.report.streams_started += 1;
        self.media.push(cmd);
        self.events.push(ev);
    }

    /// The status for a platform MESSAGE, what it was, and the Response to send after the 200.
    fn on_message(
        &mut self,
        now: Instant,
        req: &Request,
    ) -> (u16, String, Option<(u32, String, Payload)>) {
        let body = match xiaoan_manscdp::decode(&req.body) {
            Ok(b) => b,
            Err(e) => {
                self.note(format!("unreadable MESSAGE body: {e}"));
                return (400, "MESSAGE".into(), None);
            }
        };
        let what = format!("{} {}", body.root.as_str(), body.cmd_type());
        let sn = body.sn;
        let target = body.device_id.clone();
        let follow = match body.payload {
            Payload::CatalogQuery => Some(Payload::CatalogQuery),
            Payload::DeviceInfoQuery => Some(Payload::DeviceInfo(DeviceInfo {
                result: Some(Outcome::Ok),
                device_name: Some(format!("模拟设备 {}", self.id())),
                manufacturer: Some("xiaoan".into()),
                model: Some("SIM-ALARM-CTRL".into()),
                firmware: Some(env!("CARGO_PKG_VERSION").into()),
                channel: u32::try_from(self.channels.len()).ok(),
            })),
            Payload::DeviceStatusQuery => Some(Payload::DeviceStatus(DeviceStatus {
                result: Some(Outcome::Ok),
                online: Some(true),
                status: Some(Outcome::Ok),
                encode: Some(OnOff::On),
                record: Some(OnOff::Off),
                device_time: Some(self.device_time()),
                ..DeviceStatus::default()
            })),
            Payload::DeviceControl(cmd) => {
                let what = format!("{what} {}", describe_control(&cmd));
                return (
                    200,
                    what,
                    Some((
                        sn,
                        target,
                        Payload::DeviceControlResponse {
                            result: Some(Outcome::Ok),
                        },
                    )),
                );
            }
            Payload::AlarmResponse { result } => {
                let result = result.map_or("(no Result)", Outcome::as_str).to_owned();
                match self.report.alarms.iter_mut().find(|a| a.sn == sn) {
                    Some(a) if a.to_response.is_none() => {
                        let after = now.saturating_duration_since(a.sent_at);
                        a.to_response = Some(after);
                        a.result = Some(result.clone());
                        self.events
                            .push(EventKind::AlarmResponse { sn, result, after });
                    }
                    Some(_) => {}
                    None => self.note(format!("Response Alarm for unknown SN {sn}")),
                }
                None
            }
            _ => None,
        };
        (200, what, follow.map(|p| (sn, target, p)))
    }

    /// Sends the Response MESSAGE(s) for a query or control; returns how many.
    fn send_follow_up(
        &mut self,
        now: Instant,
        (sn, target, payload): (u32, String, Payload),
        rng: &mut impl RngCore,
    ) -> Result<usize, SimError> {
        let charset = self.profile.charset;
        let (bodies, what) = match payload {
            Payload::CatalogQuery => {
                let ids = Ids {
                    branch: "z9hG4bK0000000000000000",
                    from_tag: &self.tag,
                    call_id: &self.msg_call,
                    cseq: self.msg_cseq + 1,
                };
                let budget = self.addr.message_body_budget(&ids, MAX_UDP_REQUEST);
                let bodies = wire::catalog_bodies(sn, self.id(), &self.items, charset, budget)?;
                self.report.catalog_messages_sent += bodies.len() as u64;
                (bodies, "Response Catalog")
            }
            p => {
                let what = match &p {
                    Payload::DeviceInfo(_) => "Response DeviceInfo",
                    Payload::DeviceStatus(_) => "Response DeviceStatus",
                    _ => "Response DeviceControl",
                };
                (vec![Body::new(sn, target, p).encode(charset)?], what)
            }
        };
        let n = bodies.len();
        for body in bodies {
            self.send_message(now, body, Kind::Reply { what: what.into() }, rng);
        }
        Ok(n)
    }

    fn send_register(&mut self, now: Instant, expires: u32, rng: &mut impl RngCore) {
        self.reg_cseq += 1;
        let branch = new_branch(rng);
        let ids = Ids {
            branch: &branch,
            from_tag: &self.tag,
            call_id: &self.reg_call,
            cseq: self.reg_cseq,
        };
        let req = self.addr.register(&ids, expires);
        self.start(
            now,
            req.clone(),
            Pending {
                kind: Kind::Register { expires },
                request: req,
                auth_tries: 0,
            },
        );
    }

    fn send_message(&mut self, now: Instant, body: Vec<u8>, kind: Kind, rng: &mut impl RngCore) {
        self.msg_cseq += 1;
        let branch = new_branch(rng);
        let ids = Ids {
            branch: &branch,
            from_tag: &self.tag,
            call_id: &self.msg_call,
            cseq: self.msg_cseq,
        };
        let req = self.addr.message(&ids, body);
        self.start(
            now,
            req.clone(),
            Pending {
                kind,
                request: req,
                auth_tries: 0,
            },
        );
    }

    /// Sends `req` and tracks it in a client transaction.
    fn start(&mut self, now: Instant, req: Request, pending: Pending) {
        self.outbox.push(req.encode());
        match self.txs.start(now, req, self.profile.transport.sip()) {
            Ok(key) => {
                self.pending.insert(key, pending);
            }
            Err(e) => self.note(format!("request not tracked: {e}")),
        }
    }

    fn next_sn(&mut self) -> u32 {
        self.sn = self.sn.wrapping_add(1);
        self.sn
    }

    /// The device's wall clock (set from the platform's `Date`).
    fn device_time(&self) -> NaiveDateTime {
        chrono::Utc::now().naive_utc() + self.clock_offset
    }

    fn note(&mut self, s: String) {
        self.events.push(EventKind::Note(s));
    }
}

fn host_port(a: SocketAddr) -> HostPort {
    HostPort {
        host: a.ip().to_string(),
        port: Some(a.port()),
    }
}

/// `Date: 2020-04-21T10:52:55.103` (milliseconds optional).
fn parse_date(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S%.f").ok()
}

fn describe_control(cmd: &ControlCmd) -> String {
    match cmd {
        ControlCmd::Ptz(p) => format!("PTZCmd {p:?}"),
        ControlCmd::Guard(Guard::Set) => "GuardCmd SetGuard".into(),
        ControlCmd::Guard(Guard::Reset) => "GuardCmd ResetGuard".into(),
        ControlCmd::ResetAlarm { .. } => "AlarmCmd ResetAlarm".into(),
        ControlCmd::TeleBoot => "TeleBoot".into(),
        ControlCmd::Other { element } => element.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_date_parses_with_and_without_millis() {
        assert!(parse_date("2020-04-21T10:52:55.103").is_some());
        assert!(parse_date("2020-04-21T10:52:55").is_some());
        assert!(parse_date("Tue, 21 Apr 2020").is_none());
    }
}
