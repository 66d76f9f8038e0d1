//! The audit trail: who did what to which object, as an append-only list of entries linked by a
//! SHA-256 hash chain, and the pure check that walks the chain and names its first broken link.
//!
//! Every entry is stored with the hash of the entry before it (`prev_hash`; the first entry
//! carries [`GENESIS_HASH`]) and its own `hash` = SHA-256 of [`AuditRecord::canonical`]: the
//! previous hash and every other column, each length-prefixed, in a fixed order. Changing any
//! column of a stored entry changes its hash; deleting an entry leaves a gap in the sequence
//! numbers and a `prev_hash` that points at nothing; inserting one breaks the link of the entry
//! after it. `docs/design/audit.md` gives the encoding byte by byte.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::incident::{Actor, EntryKind, Incident, TimelineEntry};
use crate::model::{Id, User};

/// The `prev_hash` of the first entry: 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who did it: a user (id, display name, role) or a system principal (`system`, `dc09:1111`,
/// `gb:34020000001320000001`) with no id and no role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditActor {
    pub user_id: Option<Id>,
    pub name: String,
    /// The role's stored form (`police_operator`, ...), for users.
    pub role: Option<String>,
}

impl AuditActor {
    /// A logged-in user.
    pub fn user(user: &User) -> Self {
        Self {
            user_id: Some(user.id),
            name: user.display_name.clone(),
            role: Some(user.role.as_str().to_owned()),
        }
    }

    /// A principal that is not a user: `system`, `dc09:<account>`, `gb:<device id>`, or an
    /// unknown login name.
    pub fn principal(name: impl Into<String>) -> Self {
        Self {
            user_id: None,
            name: name.into(),
            role: None,
        }
    }

    /// The actor of an incident step. A step without a user is the system's, unless it came
    /// from a device: then the device's principal (`dc09:<account>`, `gb:<device id>`), read from
    /// the alarm's source and details.
    pub fn of_step(actor: &Actor, source: &str, details: &serde_json::Value) -> Self {
        if actor.user_id.is_some() {
            return Self {
                user_id: actor.user_id,
                name: actor.name.clone(),
                role: actor.role.map(|r| r.as_str().to_owned()),
            };
        }
        let field = |k: &str| details.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        let device = match source {
            "dc09" => field("account").map(|a| format!("dc09:{a}")),
            "gb28181" => field("device_id").map(|d| format!("gb:{d}")),
            _ => None,
        };
        Self::principal(device.unwrap_or_else(|| actor.name.clone()))
    }
}

/// An entry to append; the store gives it its sequence number and hashes.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEntry {
    pub at: DateTime<Utc>,
    pub actor: AuditActor,
    /// Dotted verb: `incident.claim`, `auth.login`, `video.export`, ...
    pub action: String,
    /// What it was done to: `incident`, `user`, `camera`, `recording`, `clip`, `gb_channel`, ...
    pub object_kind: String,
    pub object_id: Option<String>,
    /// The incident it concerns, when there is one (the console lists an incident's entries).
    pub incident_id: Option<Id>,
    /// The school it concerns, for scoping.
    pub school_id: Option<Id>,
    /// Anything else worth keeping (never secrets).
    pub detail: serde_json::Value,
}

impl NewAuditEntry {
    /// An entry about `object_kind` `object_id` with no incident, school or detail yet.
    pub fn new(
        at: DateTime<Utc>,
        actor: AuditActor,
        action: &str,
        object_kind: &str,
        object_id: Option<String>,
    ) -> Self {
        Self {
            at,
            actor,
            action: action.to_owned(),
            object_kind: object_kind.to_owned(),
            object_id,
            incident_id: None,
            school_id: None,
            detail: serde_json::Value::Null,
        }
    }
}

/// The audit action of an incident step (`incident.claim`, ...); `None` for the centre's own
/// receipt, which the raise's entry already records.
pub fn step_action(kind: EntryKind) -> Option<&'static str> {
    Some(match kind {
        EntryKind::Received => return None,
        EntryKind::Raised => "incident.raise",
        EntryKind::Joined => "incident.join",
        EntryKind::Escalated => "incident.escalate",
        EntryKind::Claimed => "incident.claim",
        EntryKind::Dispatched => "incident.dispatch",
        EntryKind::Arrived => "incident.arrive",
        EntryKind::Resolved => "incident.resolve",
        EntryKind::Closed => "incident.close",
        EntryKind::AccidentalReported => "incident.report_accidental",
        EntryKind::Note => "incident.note",
    })
}

impl NewAuditEntry {
    /// The entry for one stored step of `incident` (as it stands after the step), recorded at
    /// `at`; `None` for steps that are not actions ([`step_action`]).
    pub fn of_step(incident: &Incident, step: &TimelineEntry, at: DateTime<Utc>) -> Option<Self> {
        let action = step_action(step.kind)?;
        // Only a press (or a repeated one) comes from the device; a step without a user after
        // that (escalation) is the centre's own.
        let actor = match step.kind {
            EntryKind::Raised | EntryKind::Joined => {
                AuditActor::of_step(&step.actor, &incident.source, &incident.details)
            }
            _ => AuditActor::of_step(&step.actor, "", &serde_json::Value::Null),
        };
        let mut detail = serde_json::Map::new();
        detail.insert("event".into(), step.id.into());
        detail.insert("state".into(), incident.state.as_str().into());
        if let Some(note) = &step.note {
            detail.insert("note".into(), note.clone().into());
        }
        if !step.data.is_null() {
            detail.insert("data".into(), step.data.clone());
        }
        Some(Self {
            at,
            actor,
            action: action.to_owned(),
            object_kind: "incident".to_owned(),
            object_id: Some(incident.id.to_string()),
            incident_id: Some(incident.id),
            school_id: Some(incident.school_id),
            detail: serde_json::Value::Object(detail),
        })
    }
}

/// The stored text of an audit time: RFC 3339, UTC, milliseconds (`2026-11-29T10:01:02.345Z`).
pub fn time_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// One stored entry, every column as stored (times and the detail as their text), so the hash
/// can be recomputed from exactly what is on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// 1, 2, 3, ... without gaps.
    pub seq: i64,
    /// [`time_text`].
    pub at: String,
    pub actor_user_id: Option<Id>,
    pub actor_name: String,
    pub actor_role: Option<String>,
    pub action: String,
    pub object_kind: String,
    pub object_id: Option<String>,
    pub incident_id: Option<Id>,
    pub school_id: Option<Id>,
    /// JSON text.
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRecord {
    /// The entry `e` stored as number `seq` after the entry whose hash is `prev_hash`.
    pub fn seal(seq: i64, prev_hash: &str, e: &NewAuditEntry) -> Self {
        let mut r = Self {
            seq,
            at: time_text(e.at),
            actor_user_id: e.actor.user_id,
            actor_name: e.actor.name.clone(),
            actor_role: e.actor.role.clone(),
            action: e.action.clone(),
            object_kind: e.object_kind.clone(),
            object_id: e.object_id.clone(),
            incident_id: e.incident_id,
            school_id: e.school_id,
            detail: e.detail.to_string(),
            prev_hash: prev_hash.to_owned(),
            hash: String::new(),
        };
        r.hash = r.content_hash();
        r
    }

    /// The bytes the hash covers: `prev_hash` and then every other column but `hash`, in table
    /// order, each as a 4-byte big-endian length and its UTF-8 bytes (integers in decimal);
    /// NULL is the length `0xFFFFFFFF` with no bytes.
    pub fn canonical(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256 + self.detail.len());
        let int = |v: Option<i64>| v.map(|n| n.to_string());
        let fields: [Option<String>; 12] = [
            Some(self.prev_hash.clone()),
            Some(self.seq.to_string()),
            Some(self.at.clone()),
            int(self.actor_user_id),
            Some(self.actor_name.clone()),
            self.actor_role.clone(),
            Some(self.action.clone()),
            Some(self.object_kind.clone()),
            self.object_id.clone(),
            int(self.incident_id),
            int(self.school_id),
            Some(self.detail.clone()),
        ];
        for f in &fields {
            match f {
                None => out.extend_from_slice(&u32::MAX.to_be_bytes()),
                Some(s) => {
                    // Columns are far below 4 GiB; a longer one would saturate, still hashed.
                    let len = u32::try_from(s.len()).unwrap_or(u32::MAX - 1);
                    out.extend_from_slice(&len.to_be_bytes());
                    out.extend_from_slice(s.as_bytes());
                }
            }
        }
        out
    }

    /// The hash this entry's content gives (lowercase hex SHA-256 of [`Self::canonical`]).
    pub fn content_hash(&self) -> String {
        hex::encode(Sha256::digest(self.canonical()))
    }

    /// `2026-11-29T10:01:02.345Z incident.claim by 张警官`, for messages.
    pub fn summary(&self) -> String {
        format!("{} {} by {}", self.at, self.action, self.actor_name)
    }
}

/// The first broken link of a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// Entries `from..=to` are absent (deleted, or the log was cut before them).
    Missing { from: i64, to: i64 },
    /// An entry numbered at or below one already seen (out of order or duplicated).
    OutOfOrder { seq: i64, expected: i64 },
    /// `seq`'s `prev_hash` is not the hash of the entry before it (`prev_seq`, or the genesis
    /// value when `prev_seq` is `None`).
    PrevMismatch { seq: i64, prev_seq: Option<i64> },
    /// `seq`'s stored hash is not the hash of its content: the entry was changed.
    HashMismatch {
        seq: i64,
        summary: String,
        stored: String,
        computed: String,
    },
}

impl ChainBreak {
    /// The entry the break is reported at.
    pub fn seq(&self) -> i64 {
        match self {
            Self::Missing { from, .. } => *from,
            Self::OutOfOrder { seq, .. }
            | Self::PrevMismatch { seq, .. }
            | Self::HashMismatch { seq, .. } => *seq,
        }
    }
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing { from, to } if from == to => write!(f, "entry {from} missing"),
            Self::Missing { from, to } => write!(f, "entries {from} to {to} missing"),
            Self::OutOfOrder { seq, expected } => {
                write!(f, "entry {seq} out of order (expected entry {expected})")
            }
            Self::PrevMismatch {
                seq,
                prev_seq: Some(p),
            } => write!(f, "entry {seq}'s prev_hash does not match entry {p}"),
            Self::PrevMismatch {
                seq,
                prev_seq: None,
            } => write!(f, "entry {seq}'s prev_hash is not the genesis value"),
            Self::HashMismatch {
                seq,
                summary,
                stored,
                computed,
            } => write!(
                f,
                "entry {seq} ({summary}): stored hash {stored} does not match its content \
                 (which hashes to {computed})"
            ),
        }
    }
}

/// Walks a chain one entry at a time, in sequence order, from entry 1.
#[derive(Debug, Clone)]
pub struct ChainCheck {
    next_seq: i64,
    last_hash: String,
    entries: u64,
}

impl Default for ChainCheck {
    fn default() -> Self {
        Self {
            next_seq: 1,
            last_hash: GENESIS_HASH.to_owned(),
            entries: 0,
        }
    }
}

impl ChainCheck {
    /// A check expecting entry 1 with the genesis `prev_hash`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the next entry: its number follows, it links to the one before, and its hash
    /// matches its content (in that order).
    pub fn push(&mut self, r: &AuditRecord) -> Result<(), ChainBreak> {
        if r.seq > self.next_seq {
            return Err(ChainBreak::Missing {
                from: self.next_seq,
                to: r.seq - 1,
            });
        }
        if r.seq < self.next_seq {
            return Err(ChainBreak::OutOfOrder {
                seq: r.seq,
                expected: self.next_seq,
            });
        }
        if r.prev_hash != self.last_hash {
            return Err(ChainBreak::PrevMismatch {
                seq: r.seq,
                prev_seq: (r.seq > 1).then_some(r.seq - 1),
            });
        }
        let computed = r.content_hash();
        if computed != r.hash {
            return Err(ChainBreak::HashMismatch {
                seq: r.seq,
                summary: r.summary(),
                stored: r.hash.clone(),
                computed,
            });
        }
        self.next_seq += 1;
        self.last_hash.clone_from(&r.hash);
        self.entries += 1;
        Ok(())
    }

    /// Entries checked so far.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// The hash of the last entry checked (the genesis value before any).
    pub fn last_hash(&self) -> &str {
        &self.last_hash
    }
}

/// An intact chain: how many entries and the last one's hash (worth writing down: a chain cut
/// at its end, or rewritten from some entry on, is only caught against a hash kept elsewhere).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainSummary {
    pub entries: u64,
    pub last_hash: String,
}

/// Checks a whole chain given in sequence order.
pub fn verify<'a>(
    records: impl IntoIterator<Item = &'a AuditRecord>,
) -> Result<ChainSummary, ChainBreak> {
    let mut check = ChainCheck::new();
    for r in records {
        check.push(r)?;
    }
    Ok(ChainSummary {
        entries: check.entries(),
        last_hash: check.last_hash().to_owned(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn entry(n: i64) -> NewAuditEntry {
        let mut e = NewAuditEntry::new(
            Utc.with_ymd_and_hms(2026, 11, 29, 10, 1, 2).unwrap() + chrono::Duration::seconds(n),
            AuditActor::principal(format!("user{n}")),
            "incident.claim",
            "incident",
            Some(n.to_string()),
        );
        e.incident_id = Some(n);
        e.detail = serde_json::json!({ "n": n });
        e
    }

    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut out: Vec<AuditRecord> = Vec::new();
        for i in 1..=n {
            let prev = out
                .last()
                .map_or(GENESIS_HASH.to_owned(), |r| r.hash.clone());
            out.push(AuditRecord::seal(i, &prev, &entry(i)));
        }
        out
    }

    #[test]
    fn an_untouched_chain_is_intact() {
        let c = chain(5);
        let s = verify(&c).unwrap();
        assert_eq!(s.entries, 5);
        assert_eq!(s.last_hash, c[4].hash);
        assert_eq!(verify(&[]).unwrap().last_hash, GENESIS_HASH);
    }

    #[test]
    fn the_hash_is_sha256_of_the_length_prefixed_columns() {
        let r = &chain(1)[0];
        let bytes = r.canonical();
        assert_eq!(&bytes[..4], &64u32.to_be_bytes());
        assert_eq!(&bytes[4..68], GENESIS_HASH.as_bytes());
        assert_eq!(&bytes[68..72], &1u32.to_be_bytes());
        assert_eq!(bytes[72], b'1');
        assert_eq!(r.hash, hex::encode(Sha256::digest(&bytes)));
        assert_eq!(r.at, "2026-11-29T10:01:03.000Z");
        // NULL and the empty string hash differently.
        let mut a = r.clone();
        a.object_id = None;
        let mut b = r.clone();
        b.object_id = Some(String::new());
        assert_ne!(a.content_hash(), b.content_hash());
        // Moving bytes from one column to the next changes the hash.
        let mut c = r.clone();
        c.action = "incident.clai".into();
        c.object_kind = "mincident".into();
        assert_ne!(c.content_hash(), r.content_hash());
    }

    #[test]
    fn a_changed_column_is_named_at_its_entry() {
        let mut c = chain(5);
        c[2].detail = r#"{"n":99}"#.into();
        let err = verify(&c).unwrap_err();
        assert!(
            matches!(err, ChainBreak::HashMismatch { seq: 3, .. }),
            "{err}"
        );
        assert!(err.to_string().starts_with(
            "entry 3 (2026-11-29T10:01:05.000Z incident.claim by user3): stored hash "
        ));
        let mut c = chain(5);
        c[0].actor_user_id = Some(7);
        assert_eq!(verify(&c).unwrap_err().seq(), 1);
    }

    #[test]
    fn a_rehashed_change_breaks_the_next_link() {
        let mut c = chain(5);
        c[2].detail = r#"{"n":99}"#.into();
        c[2].hash = c[2].content_hash();
        let err = verify(&c).unwrap_err();
        assert_eq!(
            err,
            ChainBreak::PrevMismatch {
                seq: 4,
                prev_seq: Some(3)
            }
        );
        assert_eq!(
            err.to_string(),
            "entry 4's prev_hash does not match entry 3"
        );
    }

    #[test]
    fn a_deleted_entry_is_named_missing() {
        let mut c = chain(5);
        c.remove(2);
        let err = verify(&c).unwrap_err();
        assert_eq!(err, ChainBreak::Missing { from: 3, to: 3 });
        assert_eq!(err.to_string(), "entry 3 missing");
        let mut c = chain(5);
        c.drain(0..2);
        assert_eq!(
            verify(&c).unwrap_err().to_string(),
            "entries 1 to 2 missing"
        );
    }

    #[test]
    fn an_inserted_entry_breaks_the_chain_after_it() {
        // A forged entry 3 that links and hashes correctly, the old 3.. renumbered after it.
        let mut c = chain(5);
        let forged = AuditRecord::seal(3, &c[1].hash, &entry(42));
        for r in c.iter_mut().skip(2) {
            r.seq += 1;
        }
        c.insert(2, forged);
        let err = verify(&c).unwrap_err();
        assert_eq!(
            err.to_string(),
            "entry 4's prev_hash does not match entry 3"
        );
        // Renumbered but relinked: the content hash still covers the old number.
        c[3].prev_hash = c[2].hash.clone();
        assert!(matches!(
            verify(&c).unwrap_err(),
            ChainBreak::HashMismatch { seq: 4, .. }
        ));
    }

    #[test]
    fn a_wrong_genesis_or_order_is_named() {
        let mut c = chain(2);
        c[0].prev_hash = "ab".repeat(32);
        assert_eq!(
            verify(&c).unwrap_err().to_string(),
            "entry 1's prev_hash is not the genesis value"
        );
        let c = chain(3);
        let swapped = [c[0].clone(), c[1].clone(), c[1].clone()];
        assert_eq!(
            verify(&swapped).unwrap_err(),
            ChainBreak::OutOfOrder {
                seq: 2,
                expected: 3
            }
        );
    }

    #[test]
    fn a_device_raises_but_the_centre_escalates() {
        use crate::incident::{Command, NewAlarm, RaiseDecision, apply, raise_or_join};
        let t0 = Utc.with_ymd_and_hms(2026, 11, 29, 10, 0, 0).unwrap();
        let alarm = NewAlarm {
            school_id: 1,
            alarm_point_id: 1,
            priority: 1,
            kind: "panic".into(),
            source: "dc09".into(),
            silent: false,
            note: None,
            raised_by: Actor::system(),
            raised_at: t0,
            details: serde_json::json!({ "account": "1111" }),
        };
        let RaiseDecision::Create(incident, entries) = raise_or_join(None, &alarm, t0) else {
            panic!("a first alarm creates");
        };
        let raised = NewAuditEntry::of_step(&incident, &entries[0], t0).unwrap();
        assert_eq!(raised.action, "incident.raise");
        assert_eq!(raised.actor.name, "dc09:1111");
        assert_eq!(raised.school_id, Some(1));
        assert!(NewAuditEntry::of_step(&incident, &entries[1], t0).is_none());
        let (escalated, step) = apply(&incident, &Command::Escalate, &Actor::system(), t0).unwrap();
        let e = NewAuditEntry::of_step(&escalated, &step, t0).unwrap();
        assert_eq!(
            (e.action.as_str(), e.actor.name.as_str()),
            ("incident.escalate", "system")
        );
    }

    #[test]
    fn device_steps_are_attributed_to_the_device() {
        let system = Actor::system();
        let d = serde_json::json!({ "account": "1111", "device_id": "4228" });
        assert_eq!(AuditActor::of_step(&system, "dc09", &d).name, "dc09:1111");
        assert_eq!(AuditActor::of_step(&system, "gb28181", &d).name, "gb:4228");
        assert_eq!(AuditActor::of_step(&system, "web", &d).name, "system");
        let user = Actor {
            user_id: Some(3),
            name: "张警官".into(),
            role: Some(crate::access::Role::PoliceOperator),
        };
        let a = AuditActor::of_step(&user, "web", &d);
        assert_eq!(
            (a.user_id, a.role.as_deref()),
            (Some(3), Some("police_operator"))
        );
    }
}
