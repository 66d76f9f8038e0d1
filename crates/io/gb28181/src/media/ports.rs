//! The media port range (`[gb28181] media_ports = "30000-30999"`) and a cursor that hands out
//! candidate ports round-robin, so consecutive sessions do not reuse a port at once. Sans-IO:
//! the caller binds and moves on when a port is taken.

use std::sync::atomic::{AtomicUsize, Ordering};

/// An inclusive range of ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
}

impl PortRange {
    /// `"30000-30999"` or a single port `"30000"`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("media_ports {s:?}: expected \"first-last\", e.g. \"30000-30999\"");
        let (a, b) = match s.split_once('-') {
            Some((a, b)) => (a.trim(), b.trim()),
            None => (s.trim(), s.trim()),
        };
        let first: u16 = a.parse().map_err(|_| bad())?;
        let last: u16 = b.parse().map_err(|_| bad())?;
        if first == 0 || last < first {
            return Err(bad());
        }
        Ok(Self { first, last })
    }

    /// How many ports.
    pub fn len(&self) -> usize {
        usize::from(self.last - self.first) + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }
}

/// Hands out the ports of a range, each call starting one further.
#[derive(Debug)]
pub struct PortCursor {
    range: PortRange,
    next: AtomicUsize,
}

impl PortCursor {
    /// A cursor starting at offset `start` in the range.
    pub fn new(range: PortRange, start: usize) -> Self {
        Self {
            range,
            next: AtomicUsize::new(start % range.len()),
        }
    }

    pub fn range(&self) -> PortRange {
        self.range
    }

    /// Every port of the range once, beginning at the cursor; the cursor moves on by one.
    pub fn candidates(&self) -> impl Iterator<Item = u16> + use<> {
        let len = self.range.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % len;
        let first = self.range.first;
        (0..len).filter_map(move |i| u16::try_from((start + i) % len).ok().map(|o| first + o))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ranges() {
        assert_eq!(
            PortRange::parse("30000-30999"),
            Ok(PortRange {
                first: 30000,
                last: 30999
            })
        );
        assert_eq!(PortRange::parse(" 5000 ").map(|r| r.len()), Ok(1));
        assert!(PortRange::parse("2-1").is_err());
        assert!(PortRange::parse("0-10").is_err());
        assert!(PortRange::parse("a-b").is_err());
        assert!(PortRange::parse("1-70000").is_err());
    }

    #[test]
    fn candidates_cover_the_range_round_robin() {
        let c = PortCursor::new(
            PortRange::parse("100-102").unwrap_or(PortRange {
                first: 100,
                last: 102,
            }),
            0,
        );
        assert_eq!(c.candidates().collect::<Vec<_>>(), vec![100, 101, 102]);
        assert_eq!(c.candidates().collect::<Vec<_>>(), vec![101, 102, 100]);
        let full = PortCursor::new(
            PortRange {
                first: 65535,
                last: 65535,
            },
            7,
        );
        assert_eq!(full.candidates().collect::<Vec<_>>(), vec![65535]);
    }
}
