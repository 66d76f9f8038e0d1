//! The incident: one emergency at one alarm point, from the press to its closing, and the pure
//! state machine that moves it. `received → claimed → dispatched → on_scene → resolved → closed`,
//! with escalation, repeated presses (joins), accidental-press reports and notes on the side.
//! Every change yields one [`TimelineEntry`]; nothing here touches storage or the clock.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::access::Role;
use crate::model::Id;

/// Where an incident stands. Ordered: later states compare greater.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentState {
    /// Committed at the alarm centre, waiting for an operator.
    Received,
    /// An operator has taken it.
    Claimed,
    /// A unit or officer is on the way.
    Dispatched,
    /// Police are at the school.
    OnScene,
    /// Outcome recorded; still visible until closed.
    Resolved,
    /// Done.
    Closed,
}

impl IncidentState {
    /// Every state in order.
    pub const ALL: [IncidentState; 6] = [
        Self::Received,
        Self::Claimed,
        Self::Dispatched,
        Self::OnScene,
        Self::Resolved,
        Self::Closed,
    ];

    /// The stored text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Claimed => "claimed",
            Self::Dispatched => "dispatched",
            Self::OnScene => "on_scene",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
        }
    }

    /// Parses the stored text form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Open incidents (not yet resolved) absorb further presses from the same alarm point.
    pub fn is_open(self) -> bool {
        self < Self::Resolved
    }
}

/// The outcome recorded when an incident is resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    Genuine,
    FalseAlarm,
    Test,
    Malicious,
    Other,
}

impl Disposition {
    /// The stored text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Genuine => "genuine",
            Self::FalseAlarm => "false_alarm",
            Self::Test => "test",
            Self::Malicious => "malicious",
            Self::Other => "other",
        }
    }

    /// Parses the stored text form.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Genuine,
            Self::FalseAlarm,
            Self::Test,
            Self::Malicious,
            Self::Other,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// Who did something: a user, a device, or the system itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user_id: Option<Id>,
    pub name: String,
    pub role: Option<Role>,
}

impl Actor {
    /// The alarm centre itself (escalation timers).
    pub fn system() -> Self {
        Self {
            user_id: None,
            name: "system".into(),
            role: None,
        }
    }
}

/// One unit or officer sent to the school.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dispatch {
    pub unit: String,
    pub officer_user_id: Option<Id>,
    pub officer_name: Option<String>,
    pub at: DateTime<Utc>,
}

/// One emergency at one alarm point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: Id,
    pub school_id: Id,
    pub alarm_point_id: Id,
    pub state: IncidentState,
    /// 1 (highest) to 4.
    pub priority: u8,
    /// Normalized alarm kind: "panic", "silent_panic", "fire", ...
    pub kind: String,
    /// Where it came from: "web", "dc09", "gb28181".
    pub source: String,
    /// Keep the school's own siren quiet. The police console always alerts.
    pub silent: bool,
    pub note: Option<String>,
    pub raised_by: Actor,
    /// When the alarm was raised at the school (device or browser time as reported).
    pub raised_at: DateTime<Utc>,
    /// When the alarm centre committed it.
    pub received_at: DateTime<Utc>,
    pub claimed_by: Option<Actor>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub dispatches: Vec<Dispatch>,
    pub on_scene_at: Option<DateTime<Utc>>,
    pub escalated_at: Option<DateTime<Utc>>,
    pub disposition: Option<Disposition>,
    pub resolution_note: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// How many presses or signals this incident absorbed (1 for the first).
    pub press_count: i64,
    /// The school said the press was an accident; police still close it themselves.
    pub accidental_reported_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// What the source said, for the console: DC-09 account, decoded event (zh/en), zone or
    /// user, position, verification link; GB/T 28181 device and channel. `null` for web presses.
    #[serde(default)]
    pub details: serde_json::Value,
}

/// The kind of a timeline entry; also the event-stream type `incident.<kind>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Raised,
    Received,
    Joined,
    Escalated,
    Claimed,
    Dispatched,
    Arrived,
    Resolved,
    Closed,
    AccidentalReported,
    Note,
}

impl EntryKind {
    /// Every kind.
    pub const ALL: [EntryKind; 11] = [
        Self::Raised,
        Self::Received,
        Self::Joined,
        Self::Escalated,
        Self::Claimed,
        Self::Dispatched,
        Self::Arrived,
        Self::Resolved,
        Self::Closed,
        Self::AccidentalReported,
        Self::Note,
    ];

    /// The stored text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Raised => "raised",
            Self::Received => "received",
            Self::Joined => "joined",
            Self::Escalated => "escalated",
            Self::Claimed => "claimed",
            Self::Dispatched => "dispatched",
            Self::Arrived => "arrived",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
            Self::AccidentalReported => "accidental_reported",
            Self::Note => "note",
        }
    }

    /// Parses the stored text form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One step on an incident's timeline. `id` is the global event sequence number assigned by the
/// store (0 until stored); the event stream resumes by it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub id: i64,
    pub incident_id: Id,
    pub at: DateTime<Utc>,
    pub kind: EntryKind,
    pub actor: Actor,
    pub note: Option<String>,
    /// Structured details: unit, officer, disposition, source...
    pub data: serde_json::Value,
}

/// An alarm as it reaches the centre, from any source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAlarm {
    pub school_id: Id,
    pub alarm_point_id: Id,
    pub priority: u8,
    pub kind: String,
    pub source: String,
    pub silent: bool,
    pub note: Option<String>,
    pub raised_by: Actor,
    pub raised_at: DateTime<Utc>,
    /// Source-specific details (see [`Incident::details`]).
    #[serde(default)]
    pub details: serde_json::Value,
}

/// What a command asks of an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    Claim,
    Dispatch {
        unit: String,
        officer_user_id: Option<Id>,
        officer_name: Option<String>,
        note: Option<String>,
    },
    Arrive {
        note: Option<String>,
    },
    Resolve {
        disposition: Disposition,
        note: Option<String>,
    },
    Close {
        note: Option<String>,
    },
    Escalate,
    ReportAccidental {
        note: Option<String>,
    },
    Note {
        text: String,
    },
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TransitionError {
    #[error("incident is already claimed by {by}")]
    AlreadyClaimed { by: String },
    #[error("incident is claimed by {by}; only they or a supervisor may act on it")]
    ClaimedByOther { by: String },
    #[error("cannot {action} an incident that is {state}")]
    WrongState {
        action: &'static str,
        state: &'static str,
    },
    #[error("only an officer dispatched to this incident may mark it on scene")]
    NotDispatchedToYou,
    #[error("{0}")]
    Invalid(&'static str),
}

impl TransitionError {
    /// A stable machine-readable code for the console to translate.
    pub fn code(&self) -> &'static str {
        match self {
            Self::AlreadyClaimed { .. } => "already_claimed",
            Self::ClaimedByOther { .. } => "claimed_by_other",
            Self::WrongState { .. } => "wrong_state",
            Self::NotDispatchedToYou => "not_dispatched_to_you",
            Self::Invalid(_) => "invalid",
        }
    }
}

/// What to do with an alarm given the alarm point's current open incident, if any.
#[derive(Debug, Clone, PartialEq)]
pub enum RaiseDecision {
    /// A new incident (id 0 until stored) with its `raised` and `received` entries.
    Create(Box<Incident>, Vec<TimelineEntry>),
    /// The alarm joins the open incident: the updated incident and its `joined` entry.
    Join(Box<Incident>, TimelineEntry),
}

/// Clamps a priority into 1..=4.
pub fn clamp_priority(p: u8) -> u8 {
    p.clamp(1, 4)
}

fn entry(
    incident_id: Id,
    at: DateTime<Utc>,
    kind: EntryKind,
    actor: &Actor,
    note: Option<String>,
    data: serde_json::Value,
) -> TimelineEntry {
    TimelineEntry {
        id: 0,
        incident_id,
        at,
        kind,
        actor: actor.clone(),
        note,
        data,
    }
}

/// Decides whether `alarm` opens a new incident or joins `open` (the alarm point's open incident).
pub fn raise_or_join(
    open: Option<&Incident>,
    alarm: &NewAlarm,
    now: DateTime<Utc>,
) -> RaiseDecision {
    let data = serde_json::json!({
        "source": alarm.source,
        "kind": alarm.kind,
        "priority": alarm.priority,
        "silent": alarm.silent,
        "details": alarm.details,
    });
    if let Some(existing) = open.filter(|i| i.state.is_open()) {
        let mut next = existing.clone();
        next.press_count += 1;
        // A more urgent signal raises the incident's priority; it never lowers it.
        next.priority = next.priority.min(clamp_priority(alarm.priority));
        next.updated_at = now;
        let joined = entry(
            existing.id,
            now,
            EntryKind::Joined,
            &alarm.raised_by,
            alarm.note.clone(),
            data,
        );
        return RaiseDecision::Join(Box::new(next), joined);
    }
    let raised_at = alarm.raised_at.min(now);
    let incident = Incident {
        id: 0,
        school_id: alarm.school_id,
        alarm_point_id: alarm.alarm_point_id,
        state: IncidentState::Received,
        priority: clamp_priority(alarm.priority),
        kind: alarm.kind.clone(),
        source: alarm.source.clone(),
        silent: alarm.silent,
        note: alarm.note.clone(),
        raised_by: alarm.raised_by.clone(),
        raised_at,
        received_at: now,
        claimed_by: None,
        claimed_at: None,
        dispatches: Vec::new(),
        on_scene_at: None,
        escalated_at: None,
        disposition: None,
        resolution_note: None,
        resolved_at: None,
        closed_at: None,
        press_count: 1,
        accidental_reported_at: None,
        updated_at: now,
        details: alarm.details.clone(),
    };
    let entries = vec![
        entry(
            0,
            raised_at,
            EntryKind::Raised,
            &alarm.raised_by,
            alarm.note.clone(),
            data,
        ),
        entry(
            0,
            now,
            EntryKind::Received,
            &Actor::system(),
            None,
            serde_json::Value::Null,
        ),
    ];
    RaiseDecision::Create(Box::new(incident), entries)
}

fn wrong_state(action: &'static str, state: IncidentState) -> TransitionError {
    TransitionError::WrongState {
        action,
        state: state.as_str(),
    }
}

/// Operators act only on incidents they claimed; supervisors and the system act on any.
fn check_claimer(incident: &Incident, actor: &Actor) -> Result<(), TransitionError> {
    if actor.role == Some(Role::PoliceSupervisor) || actor.role.is_none() {
        return Ok(());
    }
    match &incident.claimed_by {
        Some(by) if by.user_id.is_some() && by.user_id != actor.user_id => {
            Err(TransitionError::ClaimedByOther {
                by: by.name.clone(),
            })
        }
        _ => Ok(()),
    }
}

fn trimmed(note: &Option<String>) -> Option<String> {
    note.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Applies `command` by `actor` at `now`: the next incident and the timeline entry, or why not.
pub fn apply(
    incident: &Incident,
    command: &Command,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(Incident, TimelineEntry), TransitionError> {
    use IncidentState as S;
    let mut next = incident.clone();
    next.updated_at = now;
    let state = incident.state;
    let (kind, note, data) = match command {
        Command::Claim => {
            if let Some(by) = &incident.claimed_by {
                return Err(TransitionError::AlreadyClaimed {
                    by: by.name.clone(),
                });
            }
            if state != S::Received {
                return Err(wrong_state("claim", state));
            }
            next.state = S::Claimed;
            next.claimed_by = Some(actor.clone());
            next.claimed_at = Some(now);
            (EntryKind::Claimed, None, serde_json::Value::Null)
        }
        Command::Dispatch {
            unit,
            officer_user_id,
            officer_name,
            note,
        } => {
            if !matches!(state, S::Claimed | S::Dispatched | S::OnScene) {
                return Err(wrong_state("dispatch", state));
            }
            check_claimer(incident, actor)?;
            let unit = unit.trim();
            if unit.is_empty() && officer_user_id.is_none() {
                return Err(TransitionError::Invalid(
                    "dispatch needs a unit or an officer",
                ));
            }
            next.dispatches.push(Dispatch {
                unit: unit.to_owned(),
                officer_user_id: *officer_user_id,
                officer_name: officer_name.clone(),
                at: now,
            });
            if state == S::Claimed {
                next.state = S::Dispatched;
            }
            (
                EntryKind::Dispatched,
                trimmed(note),
                serde_json::json!({ "unit": unit, "officer_user_id": officer_user_id, "officer_name": officer_name }),
            )
        }
        Command::Arrive { note } => {
            if state != S::Dispatched {
                return Err(wrong_state("mark on scene", state));
            }
            if actor.role == Some(Role::PoliceOfficer) {
                let dispatched = incident
                    .dispatches
                    .iter()
                    .any(|d| d.officer_user_id.is_some() && d.officer_user_id == actor.user_id);
                if !dispatched {
                    return Err(TransitionError::NotDispatchedToYou);
                }
            } else {
                check_claimer(incident, actor)?;
            }
            next.state = S::OnScene;
            next.on_scene_at = Some(now);
            (EntryKind::Arrived, trimmed(note), serde_json::Value::Null)
        }
        Command::Resolve { disposition, note } => {
            if !matches!(state, S::Claimed | S::Dispatched | S::OnScene) {
                return Err(wrong_state("resolve", state));
            }
            check_claimer(incident, actor)?;
            next.state = S::Resolved;
            next.disposition = Some(*disposition);
            next.resolution_note = trimmed(note);
            next.resolved_at = Some(now);
            (
                EntryKind::Resolved,
                trimmed(note),
                serde_json::json!({ "disposition": disposition }),
            )
        }
        Command::Close { note } => {
            if state != S::Resolved {
                return Err(wrong_state("close", state));
            }
            check_claimer(incident, actor)?;
            next.state = S::Closed;
            next.closed_at = Some(now);
            (EntryKind::Closed, trimmed(note), serde_json::Value::Null)
        }
        Command::Escalate => {
            if state != S::Received {
                return Err(wrong_state("escalate", state));
            }
            if incident.escalated_at.is_some() {
                return Err(TransitionError::Invalid("incident is already escalated"));
            }
            next.escalated_at = Some(now);
            let waited = (now - incident.received_at).num_seconds();
            (
                EntryKind::Escalated,
                None,
                serde_json::json!({ "unclaimed_seconds": waited }),
            )
        }
        Command::ReportAccidental { note } => {
            if !state.is_open() {
                return Err(wrong_state("report as accidental", state));
            }
            if incident.accidental_reported_at.is_some() {
                return Err(TransitionError::Invalid("already reported as accidental"));
            }
            next.accidental_reported_at = Some(now);
            (
                EntryKind::AccidentalReported,
                trimmed(note),
                serde_json::Value::Null,
            )
        }
        Command::Note { text } => {
            let text = text.trim();
            if text.is_empty() {
                return Err(TransitionError::Invalid("a note needs text"));
            }
            if state == S::Closed {
                return Err(wrong_state("add a note to", state));
            }
            (
                EntryKind::Note,
                Some(text.to_owned()),
                serde_json::Value::Null,
            )
        }
    };
    let entry = entry(incident.id, now, kind, actor, note, data);
    Ok((next, entry))
}

/// Queue order: priority first (1 before 4), then the oldest first.
pub fn queue_order(a: &Incident, b: &Incident) -> std::cmp::Ordering {
    a.priority
        .cmp(&b.priority)
        .then(a.received_at.cmp(&b.received_at))
        .then(a.id.cmp(&b.id))
}

#[cfg(test)]
mod tests;
