//! Signals and device health: what devices report that is not an emergency (periodic and manual
//! tests, arming and disarming, AC loss, low battery, troubles, restores), what the receiver
//! itself notices (unregistered accounts, unauthenticated frames, lost communication), and the
//! health each device is in because of them. Signals never open incidents; they are stored,
//! shown to the school and to police supervisors, and kept as the device event log.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::model::Id;

/// How much a signal matters to a person watching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Routine (tests, arming).
    Info,
    /// Needs attention soon (low battery, AC loss, trouble).
    Warning,
    /// Needs a supervisor now (unregistered or unauthenticated sender, lost communication).
    Alert,
}

impl Severity {
    /// The stored text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Alert => "alert",
        }
    }

    /// Parses the stored text form.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Info, Self::Warning, Self::Alert]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// One signal from a device or about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    /// Assigned by the store (0 before).
    pub id: i64,
    pub at: DateTime<Utc>,
    /// The school and alarm point, when the device is registered.
    pub school_id: Option<Id>,
    pub alarm_point_id: Option<Id>,
    /// "dc09", "gb28181", ...
    pub source: String,
    /// The device's identity within its source, e.g. "1111" (a DC-09 account).
    pub device: String,
    /// Normalized kind, e.g. "periodic_test", "low_battery", "unregistered_account".
    pub kind: String,
    pub severity: Severity,
    /// One line for people, in Chinese.
    pub summary: String,
    /// Raw and decoded details (code, zone, English text, peer address, ...).
    pub data: serde_json::Value,
}

/// Whether a device is reachable and well.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    Ok,
    /// Reachable, but something is wrong (battery, power, trouble, unauthenticated frames).
    Warning,
    /// Nothing heard within the supervision interval.
    CommFailure,
}

impl HealthState {
    /// The stored text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Warning => "warning",
            Self::CommFailure => "comm_failure",
        }
    }

    /// Parses the stored text form.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Ok, Self::Warning, Self::CommFailure]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// The health of one device, keyed by `(source, device)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceHealth {
    pub source: String,
    pub device: String,
    pub school_id: Option<Id>,
    pub alarm_point_id: Option<Id>,
    pub state: HealthState,
    /// Why, for people (Chinese), empty when ok.
    pub detail: String,
    pub last_seen: DateTime<Utc>,
    /// Expected interval between messages; `None`: not supervised.
    pub supervision_secs: Option<i64>,
    pub updated_at: DateTime<Utc>,
}

impl DeviceHealth {
    /// Has the device been silent past its supervision interval at `now`?
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.supervision_secs
            .is_some_and(|s| now - self.last_seen > Duration::seconds(s))
    }
}

/// Has this device gone silent without being marked so yet (it turns to `CommFailure`)?
pub fn is_newly_silent(d: &DeviceHealth, now: DateTime<Utc>) -> bool {
    d.state != HealthState::CommFailure && d.is_overdue(now)
}

/// Devices that have gone silent and are not yet marked so: they turn to `CommFailure`.
pub fn newly_silent(devices: &[DeviceHealth], now: DateTime<Utc>) -> Vec<&DeviceHealth> {
    devices.iter().filter(|d| is_newly_silent(d, now)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(
        last_seen_secs_ago: i64,
        supervision: Option<i64>,
        state: HealthState,
    ) -> DeviceHealth {
        let now = DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default();
        DeviceHealth {
            source: "dc09".into(),
            device: "1111".into(),
            school_id: Some(1),
            alarm_point_id: Some(1),
            state,
            detail: String::new(),
            last_seen: now - Duration::seconds(last_seen_secs_ago),
            supervision_secs: supervision,
            updated_at: now,
        }
    }

    #[test]
    fn a_device_silent_past_its_interval_is_newly_silent_once() {
        let now = DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default();
        let quiet = device(91, Some(90), HealthState::Ok);
        let fresh = device(89, Some(90), HealthState::Ok);
        let unsupervised = device(10_000, None, HealthState::Ok);
        let already = device(500, Some(90), HealthState::CommFailure);
        let all = [quiet.clone(), fresh, unsupervised, already];
        let silent = newly_silent(&all, now);
        assert_eq!(silent, vec![&quiet]);
        assert_eq!(Severity::parse("alert"), Some(Severity::Alert));
        assert_eq!(
            HealthState::parse("comm_failure"),
            Some(HealthState::CommFailure)
        );
    }
}
