//! Alarm bodies: the device's Notify `Alarm` and the platform's Query `Alarm` (query or
//! subscription). Their classification lives in [`crate::alarm`].

use chrono::NaiveDateTime;

use crate::alarm::{AlarmMethods, Classification, classify};
use crate::error::EncodeError;
use crate::tree::Element;
use crate::xmlout::Out;

/// Notify `Alarm`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlarmNotify {
    /// `AlarmPriority` 1 (highest) … 4 as sent; other values are kept but ignored by
    /// [`AlarmNotify::classify`].
    pub priority: Option<u8>,
    /// `AlarmMethod`, possibly combined (`12`).
    pub method: AlarmMethods,
    /// `AlarmTime`, local wall-clock time of the device.
    pub time: Option<NaiveDateTime>,
    pub description: Option<String>,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    /// `Info/AlarmType`.
    pub alarm_type: Option<u32>,
    /// `Info/AlarmTypeParam/EventType` (intrusion: 1 entering, 2 leaving).
    pub event_type: Option<u32>,
}

impl AlarmNotify {
    /// Kind, route and priority by the alarm table.
    pub fn classify(&self) -> Classification {
        classify(self.method, self.alarm_type, self.priority)
    }

    pub(crate) fn read(el: &Element) -> Self {
        let info = el.child("Info");
        // `AlarmType` belongs in `Info`; some devices put it at the top level.
        let alarm_type = info
            .and_then(|i| i.num("AlarmType"))
            .or_else(|| el.num("AlarmType"));
        let event_type = info
            .and_then(|i| i.child("AlarmTypeParam"))
            .or_else(|| el.child("AlarmTypeParam"))
            .and_then(|p| p.num("EventType"));
        Self {
            priority: el.num("AlarmPriority"),
            method: el
                .text_of("AlarmMethod")
                .map(AlarmMethods::from_digits)
                .unwrap_or_default(),
            time: el.time("AlarmTime"),
            description: el.string("AlarmDescription"),
            longitude: el.float("Longitude"),
            latitude: el.float("Latitude"),
            alarm_type,
            event_type,
        }
    }

    pub(crate) fn write(&self, out: &mut Out) -> Result<(), EncodeError> {
        out.opt("AlarmPriority", self.priority)?;
        if !self.method.is_empty() {
            out.text("AlarmMethod", self.method.to_digits())?;
        }
        out.time("AlarmTime", self.time.as_ref())?;
        out.opt("AlarmDescription", self.description.as_ref())?;
        out.opt("Longitude", self.longitude)?;
        out.opt("Latitude", self.latitude)?;
        if self.alarm_type.is_some() || self.event_type.is_some() {
            out.start("Info")?;
            out.opt("AlarmType", self.alarm_type)?;
            if let Some(event) = self.event_type {
                out.start("AlarmTypeParam")?;
                out.text("EventType", event)?;
                out.end("AlarmTypeParam")?;
            }
            out.end("Info")?;
        }
        Ok(())
    }
}

/// Query `Alarm`: an alarm query, or the body of an alarm SUBSCRIBE. Method and type are kept
/// as sent because queries use `0` for "all".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AlarmQuery {
    pub start_priority: Option<u8>,
    pub end_priority: Option<u8>,
    pub alarm_method: Option<String>,
    pub alarm_type: Option<String>,
    pub start_time: Option<NaiveDateTime>,
    pub end_time: Option<NaiveDateTime>,
}

impl AlarmQuery {
    pub(crate) fn read(el: &Element) -> Self {
        Self {
            start_priority: el.num("StartAlarmPriority"),
            end_priority: el.num("EndAlarmPriority"),
            alarm_method: el.string("AlarmMethod"),
            alarm_type: el.string("AlarmType"),
            start_time: el.time("StartAlarmTime"),
            end_time: el.time("EndAlarmTime"),
        }
    }

    pub(crate) fn write(&self, out: &mut Out) -> Result<(), EncodeError> {
        out.opt("StartAlarmPriority", self.start_priority)?;
        out.opt("EndAlarmPriority", self.end_priority)?;
        out.opt("AlarmMethod", self.alarm_method.as_ref())?;
        out.opt("AlarmType", self.alarm_type.as_ref())?;
        out.time("StartAlarmTime", self.start_time.as_ref())?;
        out.time("EndAlarmTime", self.end_time.as_ref())
    }
}
