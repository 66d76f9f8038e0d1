//! The body: root element, `SN`, `DeviceID` and the typed [`Payload`] chosen by root and
//! `CmdType`; [`decode`] (bytes → body) and [`Body::encode`] (body → bytes).

use std::fmt;

use crate::alarm_body::{AlarmNotify, AlarmQuery};
use crate::catalog::Catalog;
use crate::charset::{self, Charset};
use crate::control::ControlCmd;
use crate::device::{DeviceInfo, DeviceStatus};
use crate::error::{DecodeError, EncodeError};
use crate::record::{RecordList, RecordQuery};
use crate::tree::{self, Element};
use crate::xmlout::Out;

/// Largest body accepted by [`decode`] (a whole catalog over TCP can be large).
pub const MAX_BODY_LEN: usize = 4 * 1024 * 1024;

/// The root element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Root {
    Query,
    Control,
    Notify,
    Response,
}

impl Root {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Query => "Query",
            Self::Control => "Control",
            Self::Notify => "Notify",
            Self::Response => "Response",
        }
    }

    /// The root for an element name, without regard to case.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Query, Self::Control, Self::Notify, Self::Response]
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Root {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `Result` / `Status`: `OK` or `ERROR` (any value other than `OK` reads as `Error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Ok,
    Error,
}

impl Outcome {
    pub fn parse(s: &str) -> Self {
        if s.trim().eq_ignore_ascii_case("ok") {
            Self::Ok
        } else {
            Self::Error
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::Error => "ERROR",
        }
    }
}

/// Notify `Keepalive`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Keepalive {
    /// `Status`: `OK`, or `ERROR` with the faulty channels in `Info`.
    pub status: Option<Outcome>,
    /// `Info/DeviceID`: IDs of faulty channels.
    pub fault_devices: Vec<String>,
}

impl Keepalive {
    fn read(el: &Element) -> Self {
        Self {
            status: el.text_of("Status").map(Outcome::parse),
            fault_devices: el
                .child("Info")
                .map(|i| {
                    i.children_named("DeviceID")
                        .map(|d| d.value().to_owned())
                        .filter(|d| !d.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    fn write(&self, out: &mut Out) -> Result<(), EncodeError> {
        out.opt("Status", self.status.map(Outcome::as_str))?;
        out.start("Info")?;
        for id in &self.fault_devices {
            out.text("DeviceID", id)?;
        }
        out.end("Info")
    }
}

/// The typed content of a body, chosen by root and `CmdType`.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// Notify `Keepalive`.
    Keepalive(Keepalive),
    /// Query `Catalog`.
    CatalogQuery,
    /// Response `Catalog`, or Notify `Catalog` (a catalog change).
    Catalog(Catalog),
    /// Query `DeviceInfo`.
    DeviceInfoQuery,
    /// Response `DeviceInfo`.
    DeviceInfo(DeviceInfo),
    /// Query `DeviceStatus`.
    DeviceStatusQuery,
    /// Response `DeviceStatus`.
    DeviceStatus(DeviceStatus),
    /// Notify `Alarm`.
    Alarm(AlarmNotify),
    /// Query `Alarm` (query or subscription).
    AlarmQuery(AlarmQuery),
    /// Response `Alarm` (the platform's acknowledgement, `Result OK`).
    AlarmResponse { result: Option<Outcome> },
    /// Query `RecordInfo`.
    RecordInfoQuery(RecordQuery),
    /// Response `RecordInfo`.
    RecordInfo(RecordList),
    /// Control `DeviceControl`.
    DeviceControl(ControlCmd),
    /// Response `DeviceControl`.
    DeviceControlResponse { result: Option<Outcome> },
    /// Any other `CmdType` (or a known one under an unexpected root); answer 200 OK and log.
    Unknown { cmd_type: String },
}

impl Payload {
    /// The `CmdType` written for this payload.
    pub fn cmd_type(&self) -> &str {
        match self {
            Self::Keepalive(_) => "Keepalive",
            Self::CatalogQuery | Self::Catalog(_) => "Catalog",
            Self::DeviceInfoQuery | Self::DeviceInfo(_) => "DeviceInfo",
            Self::DeviceStatusQuery | Self::DeviceStatus(_) => "DeviceStatus",
            Self::Alarm(_) | Self::AlarmQuery(_) | Self::AlarmResponse { .. } => "Alarm",
            Self::RecordInfoQuery(_) | Self::RecordInfo(_) => "RecordInfo",
            Self::DeviceControl(_) | Self::DeviceControlResponse { .. } => "DeviceControl",
            Self::Unknown { cmd_type } => cmd_type,
        }
    }

    /// The root this payload is sent under (`Catalog` may also go in a `Notify`).
    pub fn default_root(&self) -> Root {
        match self {
            Self::Keepalive(_) | Self::Alarm(_) => Root::Notify,
            Self::CatalogQuery
            | Self::DeviceInfoQuery
            | Self::DeviceStatusQuery
            | Self::AlarmQuery(_)
            | Self::RecordInfoQuery(_)
            | Self::Unknown { .. } => Root::Query,
            Self::Catalog(_)
            | Self::DeviceInfo(_)
            | Self::DeviceStatus(_)
            | Self::AlarmResponse { .. }
            | Self::RecordInfo(_)
            | Self::DeviceControlResponse { .. } => Root::Response,
            Self::DeviceControl(_) => Root::Control,
        }
    }

    /// True if the payload may be sent under `root`.
    pub fn fits(&self, root: Root) -> bool {
        match self {
            Self::Unknown { .. } => true,
            Self::Catalog(_) => matches!(root, Root::Response | Root::Notify),
            _ => root == self.default_root(),
        }
    }

    fn read(root: Root, cmd_type: &str, el: &Element) -> Result<Self, DecodeError> {
        let cmd = cmd_type.to_ascii_lowercase();
        Ok(match (root, cmd.as_str()) {
            (Root::Notify, "keepalive") => Self::Keepalive(Keepalive::read(el)),
            (Root::Query, "catalog") => Self::CatalogQuery,
            (Root::Response | Root::Notify, "catalog") => Self::Catalog(Catalog::read(el)),
            (Root::Query, "deviceinfo") => Self::DeviceInfoQuery,
            (Root::Response, "deviceinfo") => Self::DeviceInfo(DeviceInfo::read(el)),
            (Root::Query, "devicestatus") => Self::DeviceStatusQuery,
            (Root::Response, "devicestatus") => Self::DeviceStatus(DeviceStatus::read(el)),
            (Root::Notify, "alarm") => Self::Alarm(AlarmNotify::read(el)),
            (Root::Query, "alarm") => Self::AlarmQuery(AlarmQuery::read(el)),
            (Root::Response, "alarm") => Self::AlarmResponse {
                result: el.text_of("Result").map(Outcome::parse),
            },
            (Root::Query, "recordinfo") => Self::RecordInfoQuery(RecordQuery::read(el)),
            (Root::Response, "recordinfo") => Self::RecordInfo(RecordList::read(el)),
            (Root::Control, "devicecontrol") => Self::DeviceControl(ControlCmd::read(el)?),
            (Root::Response, "devicecontrol") => Self::DeviceControlResponse {
                result: el.text_of("Result").map(Outcome::parse),
            },
            _ => Self::Unknown {
                cmd_type: cmd_type.to_owned(),
            },
        })
    }

    fn write(&self, out: &mut Out) -> Result<(), EncodeError> {
        match self {
            Self::Keepalive(k) => k.write(out),
            Self::Catalog(c) => c.write(out),
            Self::DeviceInfo(d) => d.write(out),
            Self::DeviceStatus(d) => d.write(out),
            Self::Alarm(a) => a.write(out),
            Self::AlarmQuery(q) => q.write(out),
            Self::RecordInfoQuery(q) => q.write(out),
            Self::RecordInfo(r) => r.write(out),
            Self::DeviceControl(c) => c.write(out),
            Self::AlarmResponse { result } | Self::DeviceControlResponse { result } => {
                out.opt("Result", result.map(Outcome::as_str))
            }
            Self::CatalogQuery
            | Self::DeviceInfoQuery
            | Self::DeviceStatusQuery
            | Self::Unknown { .. } => Ok(()),
        }
    }
}

/// One MANSCDP body.
#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    pub root: Root,
    pub sn: u32,
    /// `DeviceID`: the device or channel the body is about (for queries, the target).
    pub device_id: String,
    pub payload: Payload,
}

impl Body {
    /// A body under the payload's default root.
    pub fn new(sn: u32, device_id: impl Into<String>, payload: Payload) -> Self {
        Self {
            root: payload.default_root(),
            sn,
            device_id: device_id.into(),
            payload,
        }
    }

    /// The `CmdType`.
    pub fn cmd_type(&self) -> &str {
        self.payload.cmd_type()
    }

    /// Platform → device: Query `Catalog`.
    pub fn catalog_query(sn: u32, device_id: impl Into<String>) -> Self {
        Self::new(sn, device_id, Payload::CatalogQuery)
    }

    /// Platform → device: Query `DeviceInfo`.
    pub fn device_info_query(sn: u32, device_id: impl Into<String>) -> Self {
        Self::new(sn, device_id, Payload::DeviceInfoQuery)
    }

    /// Platform → device: Query `DeviceStatus`.
    pub fn device_status_query(sn: u32, device_id: impl Into<String>) -> Self {
        Self::new(sn, device_id, Payload::DeviceStatusQuery)
    }

    /// Platform → device: Control `DeviceControl`.
    pub fn control(sn: u32, device_id: impl Into<String>, cmd: ControlCmd) -> Self {
        Self::new(sn, device_id, Payload::DeviceControl(cmd))
    }

    /// Platform → device: Response `Alarm` with `Result OK`, echoing the notify's SN and ID.
    pub fn alarm_ack(notify: &Body) -> Self {
        Self::new(
            notify.sn,
            notify.device_id.clone(),
            Payload::AlarmResponse {
                result: Some(Outcome::Ok),
            },
        )
    }

    /// Device → platform: Notify `Keepalive` with `Status OK`.
    pub fn keepalive(sn: u32, device_id: impl Into<String>) -> Self {
        Self::new(
            sn,
            device_id,
            Payload::Keepalive(Keepalive {
                status: Some(Outcome::Ok),
                fault_devices: Vec::new(),
            }),
        )
    }

    /// Device → platform: Notify `Alarm`.
    pub fn alarm(sn: u32, device_id: impl Into<String>, notify: AlarmNotify) -> Self {
        Self::new(sn, device_id, Payload::Alarm(notify))
    }

    /// Encodes the body: `<?xml version="1.0" encoding="GB2312"?>` and GB18030 bytes, or
    /// `encoding="UTF-8"` and UTF-8 bytes.
    pub fn encode(&self, charset: Charset) -> Result<Vec<u8>, EncodeError> {
        if !self.payload.fits(self.root) {
            return Err(EncodeError::RootMismatch {
                root: self.root.as_str(),
                cmd_type: self.cmd_type().to_owned(),
            });
        }
        if self.cmd_type().trim().is_empty() {
            return Err(EncodeError::Field("CmdType"));
        }
        if self.device_id.trim().is_empty() {
            return Err(EncodeError::Field("DeviceID"));
        }
        let mut out = Out::new(charset)?;
        let root = self.root.as_str();
        out.start(root)?;
        out.text("CmdType", self.cmd_type())?;
        out.text("SN", self.sn)?;
        out.text("DeviceID", &self.device_id)?;
        self.payload.write(&mut out)?;
        out.end(root)?;
        Ok(out.finish())
    }
}

/// Decodes a body: charset by the rule of [`crate::charset`], lenient XML, element names
/// matched without regard to case, unknown elements ignored. `CmdType`, `SN` and `DeviceID` are
/// required; everything else is optional, and an unreadable optional value counts as absent.
pub fn decode(bytes: &[u8]) -> Result<Body, DecodeError> {
    decode_with_charset(bytes).map(|(body, _)| body)
}

/// [`decode`], also returning the charset used (answer in the same one).
pub fn decode_with_charset(bytes: &[u8]) -> Result<(Body, Charset), DecodeError> {
    if bytes.len() > MAX_BODY_LEN {
        return Err(DecodeError::TooLarge {
            len: bytes.len(),
            max: MAX_BODY_LEN,
        });
    }
    let prolog = charset::scan_prolog(bytes)?;
    let charset = charset::detect(bytes, &prolog);
    let rest = bytes.get(prolog.root_start..).unwrap_or_default();
    let text = charset::decode_bytes(rest, charset);
    let root_el = tree::parse(&text, prolog.root_start)?;
    let root = Root::from_name(&root_el.name).ok_or_else(|| DecodeError::UnknownRoot {
        position: root_el.position,
        name: root_el.name.chars().take(64).collect(),
    })?;
    let cmd_type = required(&root_el, "CmdType", "body > CmdType")?;
    let sn_text = required(&root_el, "SN", "body > SN")?;
    let sn = sn_text.parse().map_err(|_| DecodeError::Invalid {
        position: root_el.child("SN").map_or(root_el.position, |e| e.position),
        context: "body > SN",
        value: sn_text.chars().take(64).collect(),
    })?;
    let device_id = required(&root_el, "DeviceID", "body > DeviceID")?.to_owned();
    let payload = Payload::read(root, cmd_type, &root_el)?;
    Ok((
        Body {
            root,
            sn,
            device_id,
            payload,
        },
        charset,
    ))
}

fn required<'a>(
    el: &'a Element,
    name: &str,
    context: &'static str,
) -> Result<&'a str, DecodeError> {
    el.text_of(name).ok_or(DecodeError::Missing {
        position: el.child(name).map_or(el.position, |c| c.position),
        context,
    })
}
