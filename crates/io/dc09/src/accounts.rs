//! The DC-09 account table. Each account (optionally with receiver and line numbers) is bound to
//! a school's alarm point and may carry an AES key given as ASCII (`key`, 16/24/32 characters) or
//! hex (`key_hex`, 32/48/64 digits). An account with a key accepts only encrypted frames.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use xiaoan_core::model::{Directory, Id};
use xiaoan_sia::Key;

/// One `[[dc09.accounts]]` entry of the configuration.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    pub supervision_secs: Option<u32>,
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
}

fn normalize(account: &str) -> String {
    account.trim().to_ascii_uppercase()
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
            let bad_key = |e: xiaoan_sia::KeyError| AccountsError::BadKey {
                account: account.clone(),
                reason: e.to_string(),
            };
            let key = match (&c.key, &c.key_hex) {
                (Some(_), Some(_)) => {
                    return Err(AccountsError::TwoKeys {
                        account: account.clone(),
                    });
                }
                (Some(ascii), None) => Some(Key::from_ascii(ascii).map_err(bad_key)?),
                (None, Some(hex)) => Some(Key::from_hex(hex).map_err(bad_key)?),
                (None, None) => None,
            };
            let entry = Account {
                account: account.clone(),
                receiver: c.receiver.as_deref().map(normalize),
                line: c.line.as_deref().map(normalize),
                school_id: point.school_id,
                alarm_point_id: point.id,
                one_key: point.one_key,
                key,
                supervision_secs: c.supervision_secs,
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
