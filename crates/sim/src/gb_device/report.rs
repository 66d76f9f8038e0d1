//! What the simulated devices report: [`Event`]s as they happen (printed as plain lines by
//! `xiaoan sim gb28181`), and counters per device ([`DeviceReport`], [`AlarmReport`]) gathered
//! into a [`FleetReport`].

use std::fmt;
use std::time::{Duration, Instant};

/// Something that happened to one device.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub device: String,
    pub kind: EventKind,
}

/// What happened.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// REGISTER sent (`refresh`: a re-registration).
    Registering {
        refresh: bool,
    },
    /// 401/407: answering the digest challenge of this realm.
    Challenged {
        realm: String,
    },
    /// 200 OK to REGISTER.
    Registered {
        expires: u32,
        date: Option<String>,
    },
    /// REGISTER failed (final status, or `None` on timeout); the next try is after the retry
    /// interval.
    RegisterFailed {
        status: Option<u16>,
    },
    /// 200 OK to `Expires: 0`.
    Unregistered,
    KeepaliveOk {
        sn: u32,
    },
    /// A keepalive failed (final status, or `None` on timeout).
    KeepaliveFailed {
        sn: u32,
        status: Option<u16>,
    },
    /// A platform request answered: its `CmdType` (or method) and what was sent back.
    Answered {
        what: String,
        reply: String,
    },
    AlarmSent {
        sn: u32,
        channel: String,
    },
    /// The final response to the alarm MESSAGE (or `None` on timeout).
    AlarmAnswered {
        sn: u32,
        status: Option<u16>,
        after: Duration,
    },
    /// The platform's Response `Alarm` MESSAGE.
    AlarmResponse {
        sn: u32,
        result: String,
        after: Duration,
    },
    /// A MESSAGE the device sent (catalog, info, status, control result) was not accepted.
    MessageFailed {
        what: String,
        status: Option<u16>,
    },
    /// The ACK of an INVITE arrived: the stream of `channel` starts (`mode`: UDP or TCP).
    StreamStarted {
        channel: String,
        mode: String,
    },
    /// The stream of `channel` stopped (`why`: the platform's BYE, the device's own).
    StreamStopped {
        channel: String,
        why: String,
    },
    /// Something unreadable or unexpected.
    Note(String),
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
        let status = |s: &Option<u16>| match s {
            Some(s) => s.to_string(),
            None => "timeout".into(),
        };
        write!(f, "{}: ", self.device)?;
        match &self.kind {
            EventKind::Registering { refresh: false } => write!(f, "REGISTER sent"),
            EventKind::Registering { refresh: true } => write!(f, "re-REGISTER sent"),
            EventKind::Challenged { realm } => {
                write!(f, "401 challenge (realm {realm}), answering with digest")
            }
            EventKind::Registered { expires, date } => {
                write!(f, "registered for {expires} s")?;
                match date {
                    Some(d) => write!(f, " (platform Date {d})"),
                    None => Ok(()),
                }
            }
            EventKind::RegisterFailed { status: s } => write!(f, "REGISTER failed: {}", status(s)),
            EventKind::Unregistered => write!(f, "unregistered"),
            EventKind::KeepaliveOk { sn } => write!(f, "keepalive {sn} acknowledged"),
            EventKind::KeepaliveFailed { sn, status: s } => {
                write!(f, "keepalive {sn} failed: {}", status(s))
            }
            EventKind::Answered { what, reply } => write!(f, "platform {what} → {reply}"),
            EventKind::AlarmSent { sn, channel } => {
                write!(f, "alarm SN {sn} sent for channel {channel}")
            }
            EventKind::AlarmAnswered {
                sn,
                status: s,
                after,
            } => write!(
                f,
                "alarm SN {sn} answered {} after {:.1} ms",
                status(s),
                ms(after)
            ),
            EventKind::AlarmResponse { sn, result, after } => write!(
                f,
                "alarm SN {sn}: platform Response {result} after {:.1} ms",
                ms(after)
            ),
            EventKind::MessageFailed { what, status: s } => {
                write!(f, "{what} MESSAGE failed: {}", status(s))
            }
            EventKind::StreamStarted { channel, mode } => {
                write!(f, "streaming channel {channel} ({mode})")
            }
            EventKind::StreamStopped { channel, why } => {
                write!(f, "stream of channel {channel} stopped ({why})")
            }
            EventKind::Note(n) => f.write_str(n),
        }
    }
}

/// One alarm a device sent.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmReport {
    pub sn: u32,
    pub channel: String,
    /// When it was first sent.
    pub sent_at: Instant,
    /// Final status of the MESSAGE (None while waiting, or after a timeout: see `timed_out`).
    pub status: Option<u16>,
    /// Send → final response.
    pub to_answer: Option<Duration>,
    /// Send → the platform's Response `Alarm` MESSAGE.
    pub to_response: Option<Duration>,
    /// The Response's `Result`.
    pub result: Option<String>,
    /// No final response within 64·T1.
    pub timed_out: bool,
}

/// Counters of one device.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeviceReport {
    pub id: String,
    pub registered: bool,
    /// Successful registrations (first and refreshes).
    pub registrations: u32,
    pub register_failures: u32,
    /// When the first registration succeeded.
    pub first_registered_at: Option<Instant>,
    pub keepalives_sent: u64,
    pub keepalives_ok: u64,
    pub keepalives_failed: u64,
    /// Platform requests answered (any method).
    pub requests_answered: u64,
    pub catalog_messages_sent: u64,
    pub alarms: Vec<AlarmReport>,
    /// INVITEs answered 200, streams started (by ACK) and stopped, BYEs received and sent.
    pub invites: u64,
    pub streams_started: u64,
    pub streams_stopped: u64,
    pub byes_received: u64,
    pub byes_sent: u64,
    /// The last failure, for people.
    pub last_error: Option<String>,
}

/// Every device's counters.
#[derive(Debug, Clone, Default)]
pub struct FleetReport {
    pub devices: Vec<DeviceReport>,
    /// When the fleet started its first REGISTER.
    pub started_at: Option<Instant>,
    /// When the last device first became registered (all of them at least once).
    pub all_registered_at: Option<Instant>,
}

impl FleetReport {
    pub fn registered(&self) -> usize {
        self.devices.iter().filter(|d| d.registered).count()
    }

    pub fn keepalives_ok(&self) -> u64 {
        self.devices.iter().map(|d| d.keepalives_ok).sum()
    }

    pub fn keepalives_sent(&self) -> u64 {
        self.devices.iter().map(|d| d.keepalives_sent).sum()
    }

    pub fn keepalives_failed(&self) -> u64 {
        self.devices.iter().map(|d| d.keepalives_failed).sum()
    }

    pub fn register_failures(&self) -> u64 {
        self.devices
            .iter()
            .map(|d| u64::from(d.register_failures))
            .sum()
    }

    /// From the first REGISTER until every device had registered once.
    pub fn time_to_register_all(&self) -> Option<Duration> {
        Some(
            self.all_registered_at?
                .saturating_duration_since(self.started_at?),
        )
    }
}
