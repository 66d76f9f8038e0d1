//! Event decoding: Contact ID (`QXYZ GG CCC`) and SIA DC-03 (`N` + modifiers + codes, chained
//! with `/`, text in `^…^`) data blocks → normalized `Event`s. The code table is in `codes.rs`.

use crate::codes::{AlarmKind, Route, cid_kind, sia_meaning};
use crate::frame::Token;

/// Which event format an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    ContactId,
    Sia,
}

/// New event, restore, or (Contact ID Q=6) still-present status report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qualifier {
    New,
    Restore,
    Status,
}

/// One normalized event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: AlarmKind,
    /// For `AlarmKind::Restore`: the kind being restored, when known.
    pub restores: Option<AlarmKind>,
    pub qualifier: Qualifier,
    pub protocol: Protocol,
    /// The code as received: Contact ID `QXYZ` (e.g. `1120`), SIA two letters (e.g. `PA`).
    pub code: String,
    /// Contact ID partition (GG) or SIA `ri` area.
    pub area: Option<u32>,
    /// Zone (Contact ID CCC, SIA address), for events other than openings/closings.
    pub zone: Option<u32>,
    /// User (Contact ID CCC for openings/closings, SIA `id` or the address of OP/CL).
    pub user: Option<u32>,
    /// SIA `ti` time as sent (`HH:MM`).
    pub time: Option<String>,
    /// SIA text between `^…^`.
    pub text: Option<String>,
    /// Default priority of `kind`, 1 (highest) … 4.
    pub priority: u8,
}

impl Event {
    fn new(
        kind: AlarmKind,
        restores: Option<AlarmKind>,
        qualifier: Qualifier,
        protocol: Protocol,
        code: String,
    ) -> Self {
        let priority = kind.priority();
        Self {
            kind,
            restores,
            qualifier,
            protocol,
            code,
            area: None,
            zone: None,
            user: None,
            time: None,
            text: None,
            priority,
        }
    }

    /// Where this event goes (incident, device health, review).
    pub fn route(&self) -> Route {
        self.kind.route()
    }

    /// True if this event opens an incident.
    pub fn opens_incident(&self) -> bool {
        self.kind.opens_incident()
    }
}

/// Strips a leading `#acct|` or `acct|` (hex account) from a data block.
pub fn strip_account(data: &str) -> &str {
    if let Some((head, tail)) = data.split_once('|') {
        let acct = head.strip_prefix('#').unwrap_or(head);
        if acct.is_empty() || acct.bytes().all(|b| b.is_ascii_hexdigit()) {
            return tail;
        }
    }
    data
}

/// Decodes the events carried by a data block of the given token. `NULL` and replies carry
/// none; an unparsable `SIA-DCS`/`ADM-CID` block yields one `Unknown` event (never dropped).
pub fn decode_events(token: &Token, data: &str) -> Vec<Event> {
    match token {
        Token::AdmCid => vec![decode_cid(data)],
        Token::SiaDcs => decode_sia(data),
        _ => Vec::new(),
    }
}

fn number(s: &str) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    s.parse().ok().or_else(|| u32::from_str_radix(s, 16).ok())
}

fn unknown(protocol: Protocol, raw: &str) -> Event {
    let kind = AlarmKind::Unknown {
        raw: raw.to_owned(),
    };
    Event::new(kind, None, Qualifier::New, protocol, raw.to_owned())
}

/// Decodes a Contact ID block `[#acct|]QXYZ GG CCC` (spaces optional).
pub fn decode_cid(data: &str) -> Event {
    let body = strip_account(data).trim();
    let compact: String = body.chars().filter(|c| *c != ' ').collect();
    let compact = match compact.len() {
        11 if compact.starts_with("18") || compact.starts_with("98") => {
            compact.get(2..).unwrap_or_default().to_owned()
        }
        _ => compact,
    };
    let valid = compact.len() == 9
        && compact.bytes().enumerate().all(|(i, b)| match i {
            0 => matches!(b, b'1' | b'3' | b'6' | b'E' | b'R' | b'P'),
            1..4 => b.is_ascii_digit(),
            _ => b.is_ascii_hexdigit(),
        });
    if !valid {
        return unknown(Protocol::ContactId, body);
    }
    let q = compact.get(..1).unwrap_or_default();
    let xyz = compact.get(1..4).unwrap_or_default();
    let qualifier = match q {
        "3" | "R" => Qualifier::Restore,
        "6" | "P" => Qualifier::Status,
        _ => Qualifier::New,
    };
    let code = format!("{q}{xyz}");
    let base = xyz.parse::<u16>().ok().and_then(cid_kind);
    let (kind, restores) = match (base, qualifier) {
        (None, _) => (AlarmKind::Unknown { raw: code.clone() }, None),
        (Some(AlarmKind::Opening), Qualifier::Restore) => (AlarmKind::Closing, None),
        (Some(k @ (AlarmKind::PeriodicTest | AlarmKind::ManualTest)), _) => (k, None),
        (Some(k), Qualifier::Restore) => (AlarmKind::Restore, Some(k)),
        (Some(k), _) => (k, None),
    };
    let open_close = matches!(kind, AlarmKind::Opening | AlarmKind::Closing);
    let mut ev = Event::new(kind, restores, qualifier, Protocol::ContactId, code);
    ev.area = number(compact.get(4..6).unwrap_or_default()).filter(|&a| a != 0);
    let ccc = number(compact.get(6..9).unwrap_or_default());
    if open_close {
        ev.user = ccc;
    } else {
        ev.zone = ccc;
    }
    ev
}

/// Modifier state carried along a SIA event chain.
#[derive(Default, Clone)]
struct Modifiers {
    area: Option<u32>,
    user: Option<u32>,
    time: Option<String>,
}

/// Decodes a SIA DC-03 block `[#acct|]N[modifiers]CC[addr][^text^][/…]`.
pub fn decode_sia(data: &str) -> Vec<Event> {
    let body = strip_account(data);
    let chars: Vec<char> = body.chars().collect();
    // Leading `N` = new event (DC-03); always skipped, so `NFA129` is FA zone 129.
    let mut i = usize::from(chars.first() == Some(&'N'));
    let mut mods = Modifiers::default();
    let mut events: Vec<Event> = Vec::new();
    let mut pending_text: Option<String> = None;
    let mut last_in_block: Option<usize> = None;
    let at = |i: usize| chars.get(i).copied();
    while let Some(c) = at(i) {
        match c {
            '/' => {
                last_in_block = None;
                i += 1;
            }
            '^' => {
                let end = (i + 1..chars.len())
                    .find(|&j| at(j) == Some('^'))
                    .unwrap_or(chars.len());
                let text: String = chars.get(i + 1..end).unwrap_or_default().iter().collect();
                match last_in_block.and_then(|k| events.get_mut(k)) {
                    Some(ev) => ev.text = Some(text),
                    None => pending_text = Some(text),
                }
                i = end + 1;
            }
            a if a.is_ascii_lowercase() && at(i + 1).is_some_and(|b| b.is_ascii_lowercase()) => {
                let name: String = chars.get(i..i + 2).unwrap_or_default().iter().collect();
                let start = i + 2;
                let mut j = start;
                while at(j).is_some_and(|c| c.is_ascii_digit() || matches!(c, ':' | '-' | '.')) {
                    j += 1;
                }
                let value: String = chars.get(start..j).unwrap_or_default().iter().collect();
                match name.as_str() {
                    "ri" => mods.area = number(&value),
                    "id" => mods.user = number(&value),
                    "ti" => mods.time = Some(value),
                    _ => {}
                }
                i = j;
            }
            a if a.is_ascii_uppercase() && at(i + 1).is_some_and(|b| b.is_ascii_uppercase()) => {
                let code: String = chars.get(i..i + 2).unwrap_or_default().iter().collect();
                let start = i + 2;
                let mut j = start;
                while at(j).is_some_and(|c| c.is_ascii_digit()) {
                    j += 1;
                }
                let addr: String = chars.get(start..j).unwrap_or_default().iter().collect();
                let (kind, restores) = match sia_meaning(&code) {
                    Some(m) => (m.kind, m.restores),
                    None => (AlarmKind::Unknown { raw: code.clone() }, None),
                };
                let qualifier = if kind == AlarmKind::Restore {
                    Qualifier::Restore
                } else {
                    Qualifier::New
                };
                let open_close = matches!(kind, AlarmKind::Opening | AlarmKind::Closing);
                let mut ev = Event::new(kind, restores, qualifier, Protocol::Sia, code);
                ev.area = mods.area;
                ev.time = mods.time.clone();
                ev.user = mods.user;
                if open_close {
                    ev.user = mods.user.or_else(|| number(&addr));
                } else {
                    ev.zone = number(&addr);
                }
                ev.text = pending_text.take();
                events.push(ev);
                last_in_block = Some(events.len() - 1);
                i = j;
            }
            _ => i += 1,
        }
    }
    if events.is_empty() {
        events.push(unknown(Protocol::Sia, body));
    }
    events
}
