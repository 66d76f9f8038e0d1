//! Escalation: an incident nobody has claimed within the configured time is marked escalated,
//! pushed to supervisors and the bureau, and keeps sounding. This module only decides *which*
//! incidents are due; the caller applies [`crate::Command::Escalate`] through the store.

use chrono::{DateTime, Duration, Utc};

use crate::incident::{Incident, IncidentState};

/// Is `incident` due to escalate at `now` when unclaimed incidents escalate after `after`?
pub fn is_due(incident: &Incident, now: DateTime<Utc>, after: Duration) -> bool {
    incident.state == IncidentState::Received
        && incident.escalated_at.is_none()
        && now - incident.received_at >= after
}

/// The incidents among `open` that are due to escalate, oldest first.
pub fn due(open: &[Incident], now: DateTime<Utc>, after: Duration) -> Vec<&Incident> {
    let mut due: Vec<_> = open.iter().filter(|i| is_due(i, now, after)).collect();
    due.sort_by_key(|i| (i.received_at, i.id));
    due
}

/// When the next escalation among `open` falls due, if any (to sleep until then).
pub fn next_due(open: &[Incident], after: Duration) -> Option<DateTime<Utc>> {
    open.iter()
        .filter(|i| i.state == IncidentState::Received && i.escalated_at.is_none())
        .map(|i| i.received_at + after)
        .min()
}
