//! DeviceInfo and DeviceStatus responses.

use chrono::NaiveDateTime;

use crate::body::Outcome;
use crate::catalog::OnOff;
use crate::error::EncodeError;
use crate::tree::Element;
use crate::xmlout::Out;

/// Response `DeviceInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceInfo {
    pub result: Option<Outcome>,
    pub device_name: Option<String>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub firmware: Option<String>,
    /// Number of channels.
    pub channel: Option<u32>,
}

impl DeviceInfo {
    pub(crate) fn read(el: &Element) -> Self {
        Self {
            result: el.text_of("Result").map(Outcome::parse),
            device_name: el.string("DeviceName"),
            manufacturer: el.string("Manufacturer"),
            model: el.string("Model"),
            firmware: el.string("Firmware"),
            channel: el.num("Channel"),
        }
    }

    pub(crate) fn write(&self, out: &mut Out) -> Result<(), EncodeError> {
        out.opt("Result", self.result.map(Outcome::as_str))?;
        out.opt("DeviceName", self.device_name.as_ref())?;
        out.opt("Manufacturer", self.manufacturer.as_ref())?;
        out.opt("Model", self.model.as_ref())?;
        out.opt("Firmware", self.firmware.as_ref())?;
        out.opt("Channel", self.channel)
    }
}

/// Response `DeviceStatus`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceStatus {
    pub result: Option<Outcome>,
    /// `Online`: `ONLINE` → true, `OFFLINE` → false.
    pub online: Option<bool>,
    /// `Status`: `OK` or `ERROR`.
    pub status: Option<Outcome>,
    /// `Reason` given with an error status.
    pub reason: Option<String>,
    /// `Encode`: ON/OFF.
    pub encode: Option<OnOff>,
    /// `Record`: ON/OFF.
    pub record: Option<OnOff>,
    pub device_time: Option<NaiveDateTime>,
    /// `Alarmstatus` items.
    pub alarm_status: Vec<AlarmStatusItem>,
}

/// One `Alarmstatus/Item`: an alarm channel and its duty status.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AlarmStatusItem {
    pub device_id: String,
    /// `DutyStatus`: `ONDUTY` (armed), `OFFDUTY` (disarmed), `ALARM` (in alarm).
    pub duty_status: Option<String>,
}

impl DeviceStatus {
    pub(crate) fn read(el: &Element) -> Self {
        let online = el.text_of("Online").and_then(|s| {
            if s.eq_ignore_ascii_case("online") || s.eq_ignore_ascii_case("on") {
                Some(true)
            } else if s.eq_ignore_ascii_case("offline") || s.eq_ignore_ascii_case("off") {
                Some(false)
            } else {
                None
            }
        });
        let alarm_status = el
            .child("Alarmstatus")
            .map(|l| {
                l.children_named("Item")
                    .map(|i| AlarmStatusItem {
                        device_id: i.string("DeviceID").unwrap_or_default(),
                        duty_status: i.string("DutyStatus"),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self {
            result: el.text_of("Result").map(Outcome::parse),
            online,
            status: el.text_of("Status").map(Outcome::parse),
            reason: el.string("Reason"),
            encode: el.text_of("Encode").and_then(OnOff::parse),
            record: el.text_of("Record").and_then(OnOff::parse),
            device_time: el.time("DeviceTime"),
            alarm_status,
        }
    }

    pub(crate) fn write(&self, out: &mut Out) -> Result<(), EncodeError> {
        out.opt("Result", self.result.map(Outcome::as_str))?;
        out.opt(
            "Online",
            self.online.map(|on| if on { "ONLINE" } else { "OFFLINE" }),
        )?;
        out.opt("Status", self.status.map(Outcome::as_str))?;
        out.opt("Reason", self.reason.as_ref())?;
        out.opt("Encode", self.encode.map(OnOff::as_str))?;
        out.opt("Record", self.record.map(OnOff::as_str))?;
        out.time("DeviceTime", self.device_time.as_ref())?;
        if !self.alarm_status.is_empty() {
            out.start_with("Alarmstatus", "Num", &self.alarm_status.len().to_string())?;
            for item in &self.alarm_status {
                out.start("Item")?;
                out.text("DeviceID", &item.device_id)?;
                out.opt("DutyStatus", item.duty_status.as_ref())?;
                out.end("Item")?;
            }
            out.end("Alarmstatus")?;
        }
        Ok(())
    }
}
