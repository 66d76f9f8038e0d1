//! PTZCmd: the 8-byte PTZ command of a DeviceControl, as 16 hex digits:
//! `A5 0F <addr lo> <cmd> <data1> <data2> <data3<<4 | addr hi> <checksum>`, the checksum being
//! the sum of the first seven bytes mod 256. For motion commands data1 is the pan speed, data2
//! the tilt speed and data3 the zoom speed; for preset commands data2 is the preset number.

use std::fmt;

use crate::error::PtzError;

/// Command bit: pan right.
pub const RIGHT: u8 = 0x01;
/// Command bit: pan left.
pub const LEFT: u8 = 0x02;
/// Command bit: tilt down.
pub const DOWN: u8 = 0x04;
/// Command bit: tilt up.
pub const UP: u8 = 0x08;
/// Command bit: zoom in (tele).
pub const ZOOM_IN: u8 = 0x10;
/// Command bit: zoom out (wide).
pub const ZOOM_OUT: u8 = 0x20;
/// Command: set preset (data2 = preset number).
pub const PRESET_SET: u8 = 0x81;
/// Command: go to preset.
pub const PRESET_CALL: u8 = 0x82;
/// Command: delete preset.
pub const PRESET_DELETE: u8 = 0x83;

/// One PTZ command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PtzCmd {
    /// Address 0–4095 (low byte in byte 2, high nibble in byte 6); usually 1.
    pub address: u16,
    /// Command byte: motion bits ([`LEFT`], [`UP`], [`ZOOM_IN`] …) or another command code.
    pub command: u8,
    /// Byte 4: pan speed for motion.
    pub data1: u8,
    /// Byte 5: tilt speed for motion, preset number for preset commands.
    pub data2: u8,
    /// High nibble of byte 6 (0–15): zoom speed for motion.
    pub data3: u8,
}

impl PtzCmd {
    /// A motion command on address 1: `command` is a combination of the motion bits.
    pub fn motion(command: u8, pan_speed: u8, tilt_speed: u8, zoom_speed: u8) -> Self {
        Self {
            address: 1,
            command,
            data1: pan_speed,
            data2: tilt_speed,
            data3: zoom_speed.min(15),
        }
    }

    /// Stop all motion (`A50F0100000000B5`).
    pub fn stop() -> Self {
        Self::motion(0, 0, 0, 0)
    }

    /// A preset command ([`PRESET_SET`], [`PRESET_CALL`], [`PRESET_DELETE`]) on address 1.
    pub fn preset(command: u8, number: u8) -> Self {
        Self {
            address: 1,
            command,
            data1: 0,
            data2: number,
            data3: 0,
        }
    }

    /// Pan speed if this is a motion command.
    pub fn pan_speed(self) -> u8 {
        self.data1
    }

    /// Tilt speed if this is a motion command.
    pub fn tilt_speed(self) -> u8 {
        self.data2
    }

    /// Zoom speed if this is a motion command.
    pub fn zoom_speed(self) -> u8 {
        self.data3
    }

    /// The eight bytes, checksum included. Fails if `address` > 4095 or `data3` > 15.
    pub fn to_bytes(self) -> Result<[u8; 8], PtzError> {
        if self.address > 0x0FFF {
            return Err(PtzError::Range("address"));
        }
        if self.data3 > 0x0F {
            return Err(PtzError::Range("data3"));
        }
        let [hi, lo] = self.address.to_be_bytes();
        let mut b = [
            0xA5,
            0x0F,
            lo,
            self.command,
            self.data1,
            self.data2,
            self.data3 << 4 | (hi & 0x0F),
            0,
        ];
        b[7] = checksum(&b);
        Ok(b)
    }

    /// The 16 upper-case hex digits sent in `<PTZCmd>`.
    pub fn to_hex(self) -> Result<String, PtzError> {
        Ok(self
            .to_bytes()?
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect())
    }

    /// Reads eight bytes, checking the `A5 0F` header and the checksum.
    pub fn from_bytes(b: [u8; 8]) -> Result<Self, PtzError> {
        if b[0] != 0xA5 || b[1] != 0x0F {
            return Err(PtzError::Header(b[0], b[1]));
        }
        let computed = checksum(&b);
        if b[7] != computed {
            return Err(PtzError::Checksum {
                declared: b[7],
                computed,
            });
        }
        Ok(Self {
            address: u16::from(b[6] & 0x0F) << 8 | u16::from(b[2]),
            command: b[3],
            data1: b[4],
            data2: b[5],
            data3: b[6] >> 4,
        })
    }

    /// Reads 16 hex digits (either case, surrounding spaces ignored).
    pub fn parse(s: &str) -> Result<Self, PtzError> {
        let s = s.trim();
        if s.len() != 16 {
            return Err(PtzError::Length(s.chars().count()));
        }
        let mut b = [0u8; 8];
        for (i, slot) in b.iter_mut().enumerate() {
            let pair = s.get(2 * i..2 * i + 2).ok_or(PtzError::NotHex(2 * i))?;
            *slot = u8::from_str_radix(pair, 16).map_err(|_| PtzError::NotHex(2 * i))?;
        }
        Self::from_bytes(b)
    }
}

impl fmt::Display for PtzCmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_hex() {
            Ok(hex) => f.write_str(&hex),
            Err(e) => write!(f, "<{e}>"),
        }
    }
}

/// Sum of bytes 0–6 mod 256.
fn checksum(b: &[u8; 8]) -> u8 {
    b[..7].iter().fold(0u8, |acc, x| acc.wrapping_add(*x))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn checked_examples() {
        let cases = [
            ("A50F01021F0000D6", PtzCmd::motion(LEFT, 0x1F, 0, 0)),
            ("A50F0108001F00DC", PtzCmd::motion(UP, 0, 0x1F, 0)),
            ("A50F0110000010D5", PtzCmd::motion(ZOOM_IN, 0, 0, 1)),
            ("A50F0100000000B5", PtzCmd::stop()),
        ];
        for (hex, cmd) in cases {
            assert_eq!(cmd.to_hex().unwrap(), hex);
            assert_eq!(PtzCmd::parse(hex).unwrap(), cmd);
            assert_eq!(PtzCmd::parse(&hex.to_lowercase()).unwrap(), cmd);
        }
    }

    #[test]
    fn errors() {
        assert_eq!(PtzCmd::parse("A50F01"), Err(PtzError::Length(6)));
        assert_eq!(
            PtzCmd::parse("A50F0100000000B6").unwrap_err(),
            PtzError::Checksum {
                declared: 0xB6,
                computed: 0xB5
            }
        );
        assert_eq!(
            PtzCmd::parse("B50F0100000000B5"),
            Err(PtzError::Header(0xB5, 0x0F))
        );
        assert_eq!(PtzCmd::parse("A50F01000000zzB5"), Err(PtzError::NotHex(12)));
        assert_eq!(
            PtzCmd::parse("A50F01000000中B5").unwrap_err(),
            PtzError::Length(15)
        );
        let bad = PtzCmd {
            address: 5000,
            ..PtzCmd::stop()
        };
        assert_eq!(bad.to_hex(), Err(PtzError::Range("address")));
    }

    #[test]
    fn high_address_and_preset() {
        let cmd = PtzCmd {
            address: 0x0ABC,
            ..PtzCmd::preset(PRESET_CALL, 7)
        };
        let hex = cmd.to_hex().unwrap();
        assert!(hex.starts_with("A50FBC82"), "{hex}");
        assert_eq!(PtzCmd::parse(&hex).unwrap(), cmd);
    }
}
