//! CRC-16/ARC as used by SIA DC-09 (poly 0x8005 reflected, init 0, no final XOR).
//! Owns the checksum over the frame span (from the opening `"` of the ID token up to the `<CR>`).

use crc::{CRC_16_ARC, Crc};

const ARC: Crc<u16> = Crc::<u16>::new(&CRC_16_ARC);

/// CRC-16/ARC of `bytes`.
pub fn crc16(bytes: &[u8]) -> u16 {
    ARC.checksum(bytes)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.
mod tests {
    use super::*;

    #[test]
    fn check_value() {
        assert_eq!(crc16(b"123456789"), 0xBB3D);
    }

    #[test]
    fn dc09_spec_example() {
        let span = br#""SIA-DCS"9876R579BDFL789ABC#12345A[#12345A|NFA129]"#;
        assert_eq!(span.len(), 0x32);
        assert_eq!(crc16(span), 0xCE11);
    }

    #[test]
    fn empty_is_zero() {
        assert_eq!(crc16(b""), 0);
    }
}
