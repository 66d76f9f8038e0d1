//! Commands from the alarm centre to devices (arm, disarm, alarm reset, PTZ) as MANSCDP
//! `Control`/`DeviceControl` MESSAGEs, and the alarm subscription (SUBSCRIBE with a `Query`
//! `Alarm` body) the platform opens after a device registers.

use std::sync::Arc;

use xiaoan_core::gb::DeviceCommand;
use xiaoan_manscdp::{AlarmQuery, Body, ControlCmd, Guard, Payload, PtzCmd, ptz};
use xiaoan_sip::Method;

use crate::client;
use crate::message::next_sn;
use crate::platform::{CommandError, Platform};

/// The MANSCDP command for `cmd`.
pub fn control_cmd(cmd: DeviceCommand) -> ControlCmd {
    match cmd {
        DeviceCommand::Arm => ControlCmd::Guard(Guard::Set),
        DeviceCommand::Disarm => ControlCmd::Guard(Guard::Reset),
        DeviceCommand::ResetAlarm => ControlCmd::ResetAlarm {
            method: None,
            alarm_type: None,
        },
        DeviceCommand::Ptz {
            pan,
            tilt,
            zoom,
            speed,
        } => {
            let mut bits = 0;
            bits |= match pan.signum() {
                -1 => ptz::LEFT,
                1 => ptz::RIGHT,
                _ => 0,
            };
            bits |= match tilt.signum() {
                -1 => ptz::DOWN,
                1 => ptz::UP,
                _ => 0,
            };
            bits |= match zoom.signum() {
                -1 => ptz::ZOOM_OUT,
                1 => ptz::ZOOM_IN,
                _ => 0,
            };
            if bits == 0 {
                ControlCmd::Ptz(PtzCmd::stop())
            } else {
                let s = speed.max(1);
                ControlCmd::Ptz(PtzCmd::motion(
                    bits,
                    if pan != 0 { s } else { 0 },
                    if tilt != 0 { s } else { 0 },
                    if zoom != 0 { (s >> 4).max(1) } else { 0 },
                ))
            }
        }
    }
}

impl Platform {
    /// Sends `cmd` for `channel_id` to the registered device `device_id`; `Ok` once the device
    /// answered `200 OK`.
    pub async fn command(
        &self,
        device_id: &str,
        channel_id: &str,
        cmd: DeviceCommand,
    ) -> Result<(), CommandError> {
        let body = Body::control(next_sn(), channel_id, control_cmd(cmd));
        let resp = self.send_manscdp(device_id, &body).await?;
        if resp.is_success() {
            tracing::info!(device = %device_id, channel = %channel_id, ?cmd, "gb28181 command accepted");
            Ok(())
        } else {
            Err(CommandError::Refused(resp.status))
        }
    }
}

/// Subscribes to a newly registered device's alarms (all priorities and methods); alarms then
/// also arrive as NOTIFY. A device that refuses still sends alarms by MESSAGE.
pub(crate) async fn subscribe_alarms(p: &Arc<Platform>, device_id: &str) {
    let Some(reg) = p.registration(device_id) else {
        return;
    };
    let body = Body::new(
        next_sn(),
        device_id,
        Payload::AlarmQuery(AlarmQuery {
            start_priority: Some(1),
            end_priority: Some(4),
            alarm_method: Some("0".into()),
            alarm_type: None,
            start_time: None,
            end_time: None,
        }),
    );
    let Ok(bytes) = body.encode(xiaoan_manscdp::Charset::Gb18030) else {
        return;
    };
    let mut req = client::build(
        &p.identity,
        &p.pending,
        Method::Subscribe,
        device_id,
        &reg.peer,
        Some(("Application/MANSCDP+xml", bytes)),
    );
    req.headers.push("Event", "presence");
    req.headers
        .push("Expires", p.config.max_expires_secs.min(3600).to_string());
    match client::send(&p.out, &p.pending, reg.peer, req, p.timers).await {
        Ok(r) if r.is_success() => {
            tracing::info!(device = %device_id, "gb28181 alarm subscription accepted");
        }
        Ok(r) => {
            tracing::info!(device = %device_id, status = r.status, "gb28181 alarm subscription refused; alarms still arrive by MESSAGE")
        }
        Err(e) => {
            tracing::info!(device = %device_id, error = %e, "gb28181 alarm subscription not answered")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ptz_commands_map_to_the_standard_bits() {
        let left = control_cmd(DeviceCommand::Ptz {
            pan: -1,
            tilt: 0,
            zoom: 0,
            speed: 0x1F,
        });
        let ControlCmd::Ptz(p) = left else {
            panic!("{left:?}")
        };
        assert_eq!(p.to_hex().ok().as_deref(), Some("A50F01021F0000D6"));
        let stop = control_cmd(DeviceCommand::Ptz {
            pan: 0,
            tilt: 0,
            zoom: 0,
            speed: 9,
        });
        let ControlCmd::Ptz(p) = stop else {
            panic!("{stop:?}")
        };
        assert_eq!(p.to_hex().ok().as_deref(), Some("A50F0100000000B5"));
        assert_eq!(
            control_cmd(DeviceCommand::Arm),
            ControlCmd::Guard(Guard::Set)
        );
    }
}
