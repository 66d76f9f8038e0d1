//! What to do with one decoded DC-09 frame, without any I/O: the reply, the alarms to raise, the
//! signals to record and the device health to update. The listener carries it out and sends the
//! reply only after everything it asks has been committed.
//!
//! Rules (see `docs/ref/protocols.md`): a plain frame from a keyed account gets `DUH` and an
//! unauthenticated-signal alert; an encrypted frame outside the −40 s/+20 s window gets `NAK` and
//! nothing else; a plain frame from an unknown account is acknowledged and shown to supervisors;
//! an encrypted one gets `DUH`. Events route to incidents (panic, hold-up, duress, fire, medical,
//! burglary, tamper, and unknown codes for review) or to the device log, unless the account
//! overrides the route for a kind. A valid encrypted frame carrying `[K]` (the panel asks for its
//! key) is answered with an encrypted `RSP` carrying the account's next key (or its current one).

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use xiaoan_core::incident::{Actor, NewAlarm};
use xiaoan_core::signal::{HealthState, Severity, Signal};
use xiaoan_hub::DeviceRef;
use xiaoan_sia::{
    AlarmKind, Body, Content, EncodeError, Event, Frame, Key, Protocol, Qualifier, Route,
    TimeWindow, Token, XData, decode_events, open, reply,
};
use xiaoan_store::{IdempotencyKey, RaiseRequest};

use crate::accounts::{Account, Accounts};

/// The source name used in incidents, signals and device health.
pub const SOURCE: &str = "dc09";

/// The reply to send once the decision's effects are committed.
#[derive(Debug, Clone)]
pub enum Reply {
    /// `ACK`, or `*ACK` encrypted with the key when the request was encrypted.
    Ack { key: Option<Key> },
    /// `NAK` with the receiver's time (timestamp outside the window).
    Nak,
    /// `DUH`: valid frame the receiver will not process.
    Duh,
    /// `*RSP` encrypted with `key`, handing the panel `give` in a `[K…]` block.
    Rsp { key: Key, give: Key },
}

impl Reply {
    /// The reply's bytes for the request `frame`, at the receiver time `now`.
    pub fn encode(&self, frame: &Frame, now: DateTime<Utc>) -> Result<Vec<u8>, EncodeError> {
        let now = now.naive_utc();
        match self {
            Reply::Ack { key } => reply::ack_for(frame, key.as_ref(), now, &mut rand::rng()),
            Reply::Nak => Ok(reply::nak_with(now, frame.crc_format)),
            Reply::Duh => reply::duh(frame),
            Reply::Rsp { key, give } => reply::rsp(
                frame,
                &[XData::NewKey(give.to_hex())],
                Some(key),
                now,
                &mut rand::rng(),
            ),
        }
    }
}

/// Everything one frame asks for.
#[derive(Debug, Clone)]
pub struct Decision {
    pub reply: Reply,
    pub alarms: Vec<RaiseRequest>,
    pub signals: Vec<Signal>,
    /// The registered device that was heard from (refreshes supervision).
    pub seen: Option<DeviceRef>,
    /// A new health condition for that device.
    pub condition: Option<(HealthState, String)>,
    /// Why the frame was refused (logged), if it was.
    pub refusal: Option<String>,
}

impl Decision {
    fn reply(reply: Reply) -> Self {
        Self {
            reply,
            alarms: Vec::new(),
            signals: Vec::new(),
            seen: None,
            condition: None,
            refusal: None,
        }
    }

    fn refused(reply: Reply, reason: String) -> Self {
        Self {
            refusal: Some(reason),
            ..Self::reply(reply)
        }
    }
}

/// The stable snake-case name of a kind, as stored on incidents and signals.
pub fn kind_name(kind: &AlarmKind) -> &'static str {
    kind.as_str()
}

fn token_name(token: &Token) -> &'static str {
    match token {
        Token::SiaDcs => "SIA-DCS",
        Token::AdmCid => "ADM-CID",
        Token::Null => "NULL",
        _ => "other",
    }
}

fn unregistered_signal(
    frame: &Frame,
    now: DateTime<Utc>,
    peer: &str,
    kind: &str,
    summary: String,
) -> Signal {
    Signal {
        id: 0,
        at: now,
        school_id: None,
        alarm_point_id: None,
        source: SOURCE.into(),
        device: frame.header.account.to_ascii_uppercase(),
        kind: kind.into(),
        severity: Severity::Alert,
        summary,
        data: json!({
            "peer": peer,
            "account": frame.header.account,
            "receiver": frame.header.receiver,
            "line": frame.header.line,
            "sequence": frame.header.seq,
            "token": token_name(&frame.token),
            "encrypted": frame.encrypted,
            "data": match &frame.body { Body::Plain(c) => c.data.clone(), _ => String::new() },
        }),
    }
}

fn device_ref(a: &Account) -> DeviceRef {
    DeviceRef {
        source: SOURCE.into(),
        device: a.account.clone(),
        school_id: Some(a.school_id),
        alarm_point_id: Some(a.alarm_point_id),
        supervision_secs: a.supervision_secs.map(i64::from),
    }
}

fn account_signal(
    a: &Account,
    now: DateTime<Utc>,
    kind: &str,
    severity: Severity,
    summary: String,
    data: Value,
) -> Signal {
    Signal {
        id: 0,
        at: now,
        school_id: Some(a.school_id),
        alarm_point_id: Some(a.alarm_point_id),
        source: SOURCE.into(),
        device: a.account.clone(),
        kind: kind.into(),
        severity,
        summary,
        data,
    }
}

/// Decides what to do with `frame` (CRC already checked) received from `peer` at `now`.
pub fn decide(
    frame: &Frame,
    accounts: &Accounts,
    window: &TimeWindow,
    peer: &str,
    now: DateTime<Utc>,
) -> Decision {
    if !matches!(frame.token, Token::SiaDcs | Token::AdmCid | Token::Null) {
        return Decision::refused(
            Reply::Duh,
            format!("token {:?} is not a request", frame.token),
        );
    }
    let h = &frame.header;
    let account = accounts.find(&h.account, h.receiver.as_deref(), &h.line);
    let Some(account) = account else {
        let summary = format!("未登记账号 {} 发来信号（{}）", h.account, peer);
        let mut d = if frame.encrypted {
            Decision::refused(
                Reply::Duh,
                format!("encrypted frame from unregistered account {}", h.account),
            )
        } else {
            Decision::reply(Reply::Ack { key: None })
        };
        d.signals.push(unregistered_signal(
            frame,
            now,
            peer,
            "unregistered_account",
            summary,
        ));
        return d;
    };
    let content = match (frame.encrypted, &account.key) {
        (true, None) => {
            let mut d = Decision::refused(
                Reply::Duh,
                format!(
                    "account {} has no key but sent an encrypted frame",
                    account.account
                ),
            );
            d.signals.push(account_signal(
                account,
                now,
                "decrypt_failed",
                Severity::Alert,
                format!("账号 {} 发来加密报文，但未配置密钥", account.account),
                json!({ "peer": peer }),
            ));
            return d;
        }
        (false, Some(_)) => {
            let mut d = Decision::refused(
                Reply::Duh,
                format!("plain frame for keyed account {}", account.account),
            );
            d.signals.push(account_signal(
                account,
                now,
                "unauthenticated",
                Severity::Alert,
                format!("账号 {} 发来未加密报文（应加密），已拒收", account.account),
                json!({ "peer": peer, "sequence": h.seq }),
            ));
            d.condition = Some((HealthState::Warning, "收到未加密报文（未认证信号）".into()));
            d.seen = Some(device_ref(account));
            return d;
        }
        (_, key) => match open_with(frame, key.as_ref(), account.next_key.as_ref()) {
            Ok(c) => c,
            Err(e) => {
                let mut d =
                    Decision::refused(Reply::Duh, format!("account {}: {e}", account.account));
                d.signals.push(account_signal(
                    account,
                    now,
                    "decrypt_failed",
                    Severity::Alert,
                    format!("账号 {} 的报文无法解密或解析", account.account),
                    json!({ "peer": peer, "error": e.to_string() }),
                ));
                return d;
            }
        },
    };
    let (content, used_key) = content;
    if frame.encrypted {
        let Some(ts) = content.timestamp else {
            return Decision::refused(Reply::Nak, "encrypted frame without timestamp".into());
        };
        if let Err(skew) = window.check(ts, now.naive_utc()) {
            return Decision::refused(
                Reply::Nak,
                format!(
                    "account {}: timestamp outside the window: {skew}",
                    account.account
                ),
            );
        }
    }
    let wants_key = content.xdata.iter().any(|x| matches!(x, XData::NewKey(_)));
    let reply = match (&used_key, wants_key) {
        (Some(key), true) => Reply::Rsp {
            key: key.clone(),
            give: account.next_key.clone().unwrap_or_else(|| key.clone()),
        },
        _ => Reply::Ack {
            key: used_key.clone(),
        },
    };
    let mut d = Decision::reply(reply);
    if wants_key && used_key.is_none() {
        d.refusal = Some(format!(
            "account {}: key request in a plain frame ignored (keys travel encrypted only)",
            account.account
        ));
    }
    d.seen = Some(device_ref(account));
    if frame.token == Token::Null {
        return d;
    }
    let mut events = decode_events(&frame.token, &content.data);
    if events.is_empty() {
        events.push(unparsed_event(&frame.token, &content));
    }
    for (index, event) in events.iter().enumerate() {
        let details = details(frame, account, &content, event, peer);
        match account.route(&event.kind) {
            Route::Incident | Route::Review => {
                d.alarms
                    .push(alarm(frame, account, &content, event, index, details, now));
            }
            Route::DeviceHealth => {
                let (severity, condition) = health_effect(event);
                let mut details = details;
                if let Value::Object(m) = &mut details {
                    m.insert(
                        "summary_en".into(),
                        json!(signal_summary_en(account, event)),
                    );
                }
                if let Some(c) = condition {
                    d.condition = Some(c);
                }
                let summary = signal_summary(account, event);
                d.signals.push(account_signal(
                    account,
                    now,
                    kind_name(&event.kind),
                    severity,
                    summary,
                    details,
                ));
            }
        }
    }
    d
}

/// Data that yields no event still reaches a person: as an unknown event with its raw text.
fn unparsed_event(token: &Token, content: &Content) -> Event {
    Event {
        kind: AlarmKind::Unknown {
            raw: content.data.clone(),
        },
        restores: None,
        qualifier: Qualifier::New,
        protocol: if *token == Token::AdmCid {
            Protocol::ContactId
        } else {
            Protocol::Sia
        },
        code: content.data.clone(),
        area: None,
        zone: None,
        user: None,
        time: None,
        text: None,
        priority: 2,
    }
}

fn health_effect(event: &Event) -> (Severity, Option<(HealthState, String)>) {
    match &event.kind {
        AlarmKind::AcLoss | AlarmKind::LowBattery | AlarmKind::Trouble => (
            Severity::Warning,
            Some((HealthState::Warning, event.kind.label_zh().to_owned())),
        ),
        AlarmKind::Restore
            if matches!(
                event.restores,
                None | Some(AlarmKind::AcLoss | AlarmKind::LowBattery | AlarmKind::Trouble)
            ) =>
        {
            (Severity::Info, Some((HealthState::Ok, String::new())))
        }
        k if k.opens_incident() => (Severity::Warning, None),
        _ => (Severity::Info, None),
    }
}

fn signal_summary_en(account: &Account, event: &Event) -> String {
    let what = match (&event.kind, &event.restores) {
        (AlarmKind::Restore, Some(k)) => format!("{} restored", k.label_en()),
        (k, _) => k.label_en().to_owned(),
    };
    let mut s = format!("{what} (account {}", account.account);
    if let Some(z) = event.zone {
        s.push_str(&format!(", zone {z:03}"));
    }
    if let Some(u) = event.user {
        s.push_str(&format!(", user {u}"));
    }
    s.push(')');
    s
}

/// Opens the frame with the account's key, or with its next key once the panel has switched.
/// Returns the content and the key that opened it (`None` for a plain frame).
fn open_with(
    frame: &Frame,
    key: Option<&Key>,
    next: Option<&Key>,
) -> Result<(Content, Option<Key>), xiaoan_sia::OpenError> {
    if !frame.encrypted {
        return open(frame, None).map(|c| (c, None));
    }
    match open(frame, key) {
        Ok(c) => Ok((c, key.cloned())),
        Err(e) => match next {
            Some(n) => open(frame, Some(n))
                .map(|c| (c, Some(n.clone())))
                .map_err(|_| e),
            None => Err(e),
        },
    }
}

fn signal_summary(account: &Account, event: &Event) -> String {
    let what = match (&event.kind, &event.restores) {
        (AlarmKind::Restore, Some(k)) => format!("{}恢复", k.label_zh()),
        (k, _) => k.label_zh().to_owned(),
    };
    let mut s = format!("{what}（账号 {}", account.account);
    if let Some(z) = event.zone {
        s.push_str(&format!("，防区 {z:03}"));
    }
    if let Some(u) = event.user {
        s.push_str(&format!("，用户 {u}"));
    }
    s.push('）');
    s
}

fn details(
    frame: &Frame,
    account: &Account,
    content: &Content,
    event: &Event,
    peer: &str,
) -> Value {
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        if !v.is_null() {
            m.insert(k.into(), v);
        }
    };
    put("account", json!(account.account));
    put("receiver", json!(frame.header.receiver));
    put("line", json!(frame.header.line));
    put("sequence", json!(frame.header.seq));
    put("protocol", json!(token_name(&frame.token)));
    put("encrypted", json!(frame.encrypted));
    put("code", json!(event.code));
    put(
        "qualifier",
        json!(match event.qualifier {
            Qualifier::New => "new",
            Qualifier::Restore => "restore",
            Qualifier::Status => "status",
        }),
    );
    put("zone", json!(event.zone));
    put("user", json!(event.user));
    put("area", json!(event.area));
    put("text", json!(event.text));
    put("text_zh", json!(event.kind.label_zh()));
    put("text_en", json!(event.kind.label_en()));
    for x in &content.xdata {
        match x {
            XData::Longitude(v) => put(
                "lon",
                v.trim()
                    .parse::<f64>()
                    .map(|f| json!(f))
                    .unwrap_or(json!(v)),
            ),
            XData::Latitude(v) => put(
                "lat",
                v.trim()
                    .parse::<f64>()
                    .map(|f| json!(f))
                    .unwrap_or(json!(v)),
            ),
            XData::VerificationUrl(v) => put("verify_url", json!(v)),
            XData::Mac(v) => put("mac", json!(v)),
            _ => {}
        }
    }
    put("raw", json!(content.data));
    put("peer", json!(peer));
    Value::Object(m)
}

/// The idempotency key of one event of a frame: the same account, sequence, content (and
/// timestamp, or for plain frames without one the hour of receipt) is the same alarm, so a
/// retransmission replays instead of raising again.
fn event_key(
    frame: &Frame,
    account: &Account,
    content: &Content,
    index: usize,
    now: DateTime<Utc>,
) -> IdempotencyKey {
    let when = match content.timestamp {
        Some(ts) => ts.to_string(),
        None => (now.timestamp() / Duration::hours(1).num_seconds()).to_string(),
    };
    let mut h = Sha256::new();
    for part in [
        frame.header.seq.to_string(),
        index.to_string(),
        content.data.clone(),
        when,
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    IdempotencyKey {
        principal: format!("{SOURCE}:{}", account.account),
        key: hex::encode(&h.finalize()[..16]),
    }
}

fn alarm(
    frame: &Frame,
    account: &Account,
    content: &Content,
    event: &Event,
    index: usize,
    details: Value,
    now: DateTime<Utc>,
) -> RaiseRequest {
    let unknown = matches!(event.kind, AlarmKind::Unknown { .. });
    // A one-key point is priority 1 whatever the panel says; unknown codes are at least 2 so a
    // person looks at them soon.
    let priority = if account.one_key && !unknown {
        1
    } else if unknown {
        event.priority.min(2)
    } else {
        event.priority
    };
    let raised_at = content
        .timestamp
        .map(|ts| ts.and_utc())
        .filter(|ts| *ts <= now)
        .unwrap_or(now);
    RaiseRequest {
        alarm: NewAlarm {
            school_id: account.school_id,
            alarm_point_id: account.alarm_point_id,
            priority,
            kind: kind_name(&event.kind).into(),
            source: SOURCE.into(),
            silent: matches!(
                event.kind,
                AlarmKind::SilentPanic | AlarmKind::Duress | AlarmKind::HoldUp
            ),
            note: None,
            raised_by: Actor {
                user_id: None,
                name: format!("DC-09 账号 {}", account.account),
                role: None,
            },
            raised_at,
            details,
        },
        key: Some(event_key(frame, account, content, index, now)),
    }
}

#[cfg(test)]
mod tests;
