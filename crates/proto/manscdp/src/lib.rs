//! `xiaoan-manscdp`: sans-IO MANSCDP XML bodies of GB/T 28181 (no sockets, no SIP, no
//! runtime). The SIP layer hands the body of a `MESSAGE` (`Application/MANSCDP+xml`) to
//! [`decode`] and sends what [`Body::encode`] returns.
//!
//! * Bytes → [`Body`]: [`decode`] / [`decode_with_charset`]. The root ([`Root`]: `Query`,
//!   `Control`, `Notify`, `Response`), `SN`, `DeviceID` and a typed [`Payload`] chosen by root
//!   and `CmdType`; an unknown `CmdType` gives [`Payload::Unknown`] (answer 200 OK and log it).
//!   Lenient: broken XML declarations, junk before the root, element names in any case,
//!   unknown elements, a missing end of document. Errors are [`DecodeError`]s with a position
//!   and context; nothing panics on any input.
//! * Charset ([`charset`]): UTF-8 first, then GB18030 — non-ASCII bytes that are valid UTF-8
//!   are UTF-8 whatever the declaration says, others GB18030 (a superset of GB2312 and GBK).
//! * Payloads: [`Keepalive`]; Catalog ([`Catalog`], [`CatalogItem`] with [`DeviceKind`] from
//!   the ID's type code); [`DeviceInfo`]; [`DeviceStatus`]; Alarm ([`AlarmNotify`],
//!   [`AlarmQuery`], the response's [`Outcome`]); RecordInfo ([`RecordQuery`],
//!   [`RecordList`]); DeviceControl ([`ControlCmd`]: [`PtzCmd`], [`Guard`], reset alarm,
//!   reboot).
//! * Body → bytes: [`Body::encode`] with [`Charset::Gb18030`] (declared `GB2312`) or
//!   [`Charset::Utf8`]; constructors for what the platform sends ([`Body::catalog_query`],
//!   [`Body::control`], [`Body::alarm_ack`] …) and what a device simulator sends
//!   ([`Body::keepalive`], [`Body::alarm`], [`encode_catalog`] splitting a catalog into bodies
//!   under a byte budget).
//! * [`PtzCmd`]: the 8-byte hex PTZ command, checksum checked.
//! * Alarms: [`AlarmNotify::classify`] / [`classify`] map (`AlarmMethod`, `AlarmType`) to an
//!   [`AlarmKind`] with labels, default priority and [`Route`]; the table lives in [`alarm`]
//!   and is documented in `docs/ref/gb28181-alarms.md`.
//!
//! Fuzzing: target `manscdp` of the repository's `fuzz/` crate runs the body in [`fuzzing`]
//! (`scripts/fuzz --seconds 60 manscdp`; see `docs/ref/fuzzing.md`). The corpus in
//! `fuzz/corpus/manscdp/` is replayed by a normal test.

pub mod alarm;
pub mod alarm_body;
pub mod body;
pub mod catalog;
pub mod charset;
pub mod control;
pub mod device;
pub mod device_id;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod ptz;
pub mod record;
pub mod tree;
mod xmlout;

pub use alarm::{AlarmKind, AlarmMethod, AlarmMethods, Classification, Route, classify};
pub use alarm_body::{AlarmNotify, AlarmQuery};
pub use body::{
    Body, Keepalive, MAX_BODY_LEN, Outcome, Payload, Root, decode, decode_with_charset,
};
pub use catalog::{Catalog, CatalogItem, OnOff, encode_catalog};
pub use charset::{Charset, detect_charset};
pub use control::{ControlCmd, Guard};
pub use device::{AlarmStatusItem, DeviceInfo, DeviceStatus};
pub use device_id::{DeviceKind, is_valid_device_id};
pub use error::{DecodeError, EncodeError, PtzError};
pub use ptz::PtzCmd;
pub use record::{RecordItem, RecordList, RecordQuery};
pub use tree::{MAX_DEPTH, MAX_ELEMENTS};
