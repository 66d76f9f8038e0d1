//! Cameras as the alarm centre knows them: where each one is (school, alarm point) and where its
//! video comes from (an RTSP URL, or a GB/T 28181 device channel). A camera linked to an alarm
//! point is shown live with that point's incidents and stays connected all the time.

use serde::{Deserialize, Serialize};

use crate::model::Id;

/// Where a camera's video comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CameraSource {
    /// Pulled over RTSP (credentials may be in the URL; never shown or logged).
    Rtsp { url: String },
    /// Invited over GB/T 28181: the registered device and the channel to play.
    Gb28181 {
        device_id: String,
        channel_id: String,
    },
}

/// One camera.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Camera {
    /// Stable identifier (for GB/T 28181 cameras usually the channel ID).
    pub id: String,
    pub name: String,
    pub school_id: Id,
    /// The alarm point whose incidents show this camera.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm_point_id: Option<Id>,
    pub source: CameraSource,
}

impl Camera {
    /// Stays connected all the time (linked to an alarm point: recorded, pre-alarm kept);
    /// otherwise GB/T 28181 cameras are invited when a viewer comes.
    pub fn always_on(&self) -> bool {
        self.alarm_point_id.is_some() || matches!(self.source, CameraSource::Rtsp { .. })
    }

    /// The source without secrets, for people and the API (`rtsp://host:port/path`).
    pub fn source_label(&self) -> String {
        match &self.source {
            CameraSource::Rtsp { url } => redact_url(url),
            CameraSource::Gb28181 {
                device_id,
                channel_id,
            } => format!("GB/T 28181 {device_id}/{channel_id}"),
        }
    }
}

/// An URL without its `user:password@` part.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => format!("{}{}", &url[..s + 3], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_show() {
        assert_eq!(
            redact_url("rtsp://admin:secret@192.0.2.5:554/Streaming/Channels/101"),
            "rtsp://192.0.2.5:554/Streaming/Channels/101"
        );
        assert_eq!(redact_url("rtsp://192.0.2.5/x"), "rtsp://192.0.2.5/x");
    }
}
