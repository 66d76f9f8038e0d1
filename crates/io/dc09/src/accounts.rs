//! The DC-09 account table. Each account (optionally with receiver and line numbers) is bound to
//! a school's alarm point and may carry an AES key given as ASCII (`key`, 16/24/32 characters) or
//! hex (`key_hex`, 32/48/64 digits). An account with a key accepts only encrypted frames.
//! An account may override where event kinds go (`routes`) and may name the next key
//! (`next_key`/`next_key_hex`) that a panel asking with `[K]` receives in the `RSP`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use xiaoan_core::model::{Directory, Id};
use xiaoan_sia::{AlarmKind, Key, Route};

/// Where an account's events of one kind go, overriding the code table's route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteChoice {
    /// Open (or join) an incident for the duty officer.
    Incident,
    /// Only the school's device health and event log.
    DeviceLog,
}

impl From<RouteChoice> for Route {
    fn from(c: RouteChoice) -> Self {
        match c {
            RouteChoice::Incident => Route::Incident,
            RouteChoice::DeviceLog => Route::DeviceHealth,
        }
    }
}

/// Kinds that always open an incident: a person pressed for help or is under threat.
const ALWAYS_INCIDENT: [AlarmKind; 4] = [
    AlarmKind::Panic,
    AlarmKind::SilentPanic,
    AlarmKind::HoldUp,
    AlarmKind::Duress,
];

/// One `[[dc09.accounts]]` entry of the configuration.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// Account number as the panel sends it (3–16 hex digits).
    pub account: String,
    /// Receiver number (`R…`); when set, frames must carry it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver: Option<String>,
    /// Line prefix (`L…`); when set, frames must carry it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    /// The alarm point the account reports for.
    pub alarm_point_id: Id,
    /// AES key as ASCII text (16, 24 or 32 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// AES key as hex (32, 48 or 64 digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_hex: Option<String>,
    /// Expected interval between messages (link tests, periodic tests); silent longer means a
    /// communication failure. Unset: not supervised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervision_secs: Option<u32>,
    /// Per-kind route overrides, e.g. `{ trouble = "incident", burglary = "device_log" }`.
    /// Panic, silent panic, hold-up and duress always open incidents; unknown codes always reach
    /// an operator.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub routes: BTreeMap<String, RouteChoice>,
    /// The key handed to the panel (in an encrypted `RSP`) when it asks for one with `[K]`, as
    /// ASCII. While set, frames under either key are accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_key: Option<String>,
    /// The same as hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_key_hex: Option<String>,
}

impl fmt::Debug for AccountConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountConfig")
            .field("account", &self.account)
            .field("receiver", &self.receiver)
            .field("line", &self.line)
            .field("alarm_point_id", &self.alarm_point_id)
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .field("key_hex", &self.key_hex.as_ref().map(|_| "<redacted>"))
            .field("supervision_secs", &self.supervision_secs)
            .field("routes", &self.routes)
            .field(
                "next_key",
                &(self.next_key.is_some() || self.next_key_hex.is_some()).then_some("<redacted>"),
            )
            .finish()
    }
}

/// A usable account.
#[derive(Debug, Clone)]
pub struct Account {
    pub account: String,
    pub receiver: Option<String>,
    pub line: Option<String>,
    pub school_id: Id,
    pub alarm_point_id: Id,
    /// The alarm point is a one-key point: every alarm from it is priority 1.
    pub one_key: bool,
    pub key: Option<Key>,
    /// The key a panel receives when it asks with `[K]`; also accepted on frames.
    pub next_key: Option<Key>,
    pub supervision_secs: Option<u32>,
    /// Route overrides by kind name.
    pub routes: HashMap<&'static str, Route>,
}

impl Account {
    /// Where this account's events of `kind` go: the override if configured, else the table's.
    pub fn route(&self, kind: &AlarmKind) -> Route {
        match kind {
            AlarmKind::Unknown { .. } => Route::Review,
            k => self
                .routes
                .get(k.as_str())
                .copied()
                .unwrap_or_else(|| k.route()),
        }
    }
}

/// Why the account table could not be built.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum AccountsError {
    #[error("dc09 account {0:?}: must be 3 to 16 hex digits")]
    BadAccount(String),
    #[error("dc09 account {0}: listed twice")]
    Duplicate(String),
    #[error("dc09 account {account}: alarm point {point} does not exist")]
    UnknownPoint { account: String, point: Id },
    #[error("dc09 account {account}: give either key or key_hex, not both")]
    TwoKeys { account: String },
    #[error("dc09 account {account}: {reason}")]
    BadKey { account: String, reason: String },
    #[error("dc09 account {account}: routes: {reason}")]
    BadRoute { account: String, reason: String },
}

fn normalize(account: &str) -> String {
    account.trim().to_ascii_uppercase()
}

fn parse_key(
    account: &str,
    ascii: Option<&str>,
    hex: Option<&str>,
) -> Result<Option<Key>, AccountsError> {
    let bad_key = |e: xiaoan_sia::KeyError| AccountsError::BadKey {
        account: account.to_owned(),
        reason: e.to_string(),
    };
    match (ascii, hex) {
        (Some(_), Some(_)) => Err(AccountsError::TwoKeys {
            account: account.to_owned(),
        }),
        (Some(ascii), None) => Key::from_ascii(ascii).map(Some).map_err(bad_key),
        (None, Some(hex)) => Key::from_hex(hex).map(Some).map_err(bad_key),
        (None, None) => Ok(None),
    }
}

fn parse_routes(
    account: &str,
    routes: &BTreeMap<String, RouteChoice>,
) -> Result<HashMap<&'static str, Route>, AccountsError> {
    let bad = |reason: String| AccountsError::BadRoute {
        account: account.to_owned(),
        reason,
    };
    let mut out = HashMap::new();
    for (name, choice) in routes {
        let Some(kind) = AlarmKind::from_name(name) else {
            let names: Vec<&str> = AlarmKind::NAMED.iter().map(AlarmKind::as_str).collect();
            return Err(bad(format!(
                "{name:?} is not an event kind (one of {})",
                names.join(", ")
            )));
        };
        if *choice == RouteChoice::DeviceLog && ALWAYS_INCIDENT.contains(&kind) {
            return Err(bad(format!("{name} always opens an incident")));
        }
        out.insert(kind.as_str(), Route::from(*choice));
    }
    Ok(out)
}

/// The account table, looked up by account number.
#[derive(Debug, Clone, Default)]
pub struct Accounts {
    by_account: HashMap<String, Account>,
}

impl Accounts {
    /// Builds the table, checking every entry against the directory.
    pub fn build(configs: &[AccountConfig], dir: &Directory) -> Result<Self, AccountsError> {
        let mut by_account = HashMap::new();
        for c in configs {
            let account = normalize(&c.account);
            let valid =
                (3..=16).contains(&account.len()) && account.bytes().all(|b| b.is_ascii_hexdigit());
            if !valid {
                return Err(AccountsError::BadAccount(c.account.clone()));
            }
            let point = dir.alarm_points.get(&c.alarm_point_id).ok_or_else(|| {
                AccountsError::UnknownPoint {
                    account: account.clone(),
                    point: c.alarm_point_id,
                }
            })?;
            let key = parse_key(&account, c.key.as_deref(), c.key_hex.as_deref())?;
            let next_key = parse_key(&account, c.next_key.as_deref(), c.next_key_hex.as_deref())?;
            if next_key.is_some() && key.is_none() {
                return Err(AccountsError::BadKey {
                    account: account.clone(),
                    reason: "next_key needs a current key (key or key_hex)".into(),
                });
            }
            let routes = parse_routes(&account, &c.routes)?;
            let entry = Account {
                account: account.clone(),
                receiver: c.receiver.as_deref().map(normalize),
                line: c.line.as_deref().map(normalize),
                school_id: point.school_id,
                alarm_point_id: point.id,
                one_key: point.one_key,
                key,
                next_key,
                supervision_secs: c.supervision_secs,
                routes,
            };
            if by_account.insert(account.clone(), entry).is_some() {
                return Err(AccountsError::Duplicate(account));
            }
        }
        Ok(Self { by_account })
    }

    /// The account a frame's header names, if registered (receiver and line must match when the
    /// account sets them).
    pub fn find(&self, account: &str, receiver: Option<&str>, line: &str) -> Option<&Account> {
        let a = self.by_account.get(&normalize(account))?;
        let receiver_ok = a
            .receiver
            .as_ref()
            .is_none_or(|r| receiver.is_some_and(|got| normalize(got) == *r));
        let line_ok = a.line.as_ref().is_none_or(|l| normalize(line) == *l);
        (receiver_ok && line_ok).then_some(a)
    }

    /// Number of accounts.
    pub fn len(&self) -> usize {
        self.by_account.len()
    }

    /// No accounts.
    pub fn is_empty(&self) -> bool {
        self.by_account.is_empty()
    }

    /// Every account.
    pub fn iter(&self) -> impl Iterator<Item = &Account> {
        self.by_account.values()
    }
}
