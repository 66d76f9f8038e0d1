//! A small MSB-first bit reader over an RBSP (emulation prevention already removed), with
//! Exp-Golomb codes; every read is bounds-checked.

use crate::error::{MediaError, Result};

pub(crate) struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Bits<'a> {
    pub(crate) fn new(data: &'a [u8], what: &'static str) -> Self {
        Bits { data, pos: 0, what }
    }

    fn eof(&self) -> MediaError {
        MediaError::invalid(self.what, "ends early")
    }

    pub(crate) fn bit(&mut self) -> Result<bool> {
        let byte = self.data.get(self.pos / 8).ok_or_else(|| self.eof())?;
        let bit = (byte >> (7 - (self.pos % 8))) & 1;
        self.pos += 1;
        Ok(bit == 1)
    }

    /// Reads up to 32 bits.
    pub(crate) fn bits(&mut self, n: u32) -> Result<u32> {
        let mut v = 0u32;
        for _ in 0..n.min(32) {
            v = (v << 1) | u32::from(self.bit()?);
        }
        Ok(v)
    }

    pub(crate) fn skip(&mut self, n: usize) -> Result<()> {
        let end = self.pos.checked_add(n).ok_or_else(|| self.eof())?;
        if end > self.data.len() * 8 {
            return Err(self.eof());
        }
        self.pos = end;
        Ok(())
    }

    /// Unsigned Exp-Golomb, limited to 32-bit values.
    pub(crate) fn ue(&mut self) -> Result<u32> {
        let mut zeros = 0;
        while !self.bit()? {
            zeros += 1;
            if zeros > 31 {
                return Err(MediaError::invalid(self.what, "Exp-Golomb code too long"));
            }
        }
        let rest = self.bits(zeros)?;
        Ok(((1u64 << zeros) - 1 + u64::from(rest)) as u32)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_bits_and_golomb() {
        // 1 | 010 | 011 | 00100 | 1 → ue 0, 1, 2, 3, then bit 1.
        let mut b = Bits::new(&[0b1010_0110, 0b0100_1000], "test");
        assert_eq!(b.ue().unwrap(), 0);
        assert_eq!(b.ue().unwrap(), 1);
        assert_eq!(b.ue().unwrap(), 2);
        assert_eq!(b.ue().unwrap(), 3);
        assert!(b.bit().unwrap());
        assert!(b.bits(8).is_err());
    }
}
