//! A small MP4 box walker for our own segment files: top-level box headers, and in each `moof`
//! the `tfdt` decode time and the `trun` samples. Enough to find where a torn file's last
//! complete fragment ends and how long the file really is; never panics on any bytes.
//! No imports: the fuzz target `mp4_walk` (`fuzz/`) compiles this file on its own.

/// One sample of a fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    pub duration: u32,
    pub size: u32,
    pub flags: u32,
    pub cts: i64,
}

/// One complete `moof` + `mdat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    /// `tfdt` base media decode time (90 kHz).
    pub base_dts: u64,
    pub samples: Vec<Sample>,
    /// Where the first sample's data starts in the file.
    pub data_start: usize,
}

impl Fragment {
    /// Sum of its sample durations.
    pub fn duration(&self) -> u64 {
        self.samples.iter().map(|s| u64::from(s.duration)).sum()
    }
}

/// What a walk of a segment file found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Walk {
    /// Bytes of the `ftyp` + `moov` at the start (0: no complete init).
    pub init_len: usize,
    /// Length of the file up to the end of its last complete fragment (or the init).
    pub complete_len: usize,
    pub fragments: Vec<Fragment>,
}

impl Walk {
    /// Frames in the complete fragments.
    pub fn frames(&self) -> usize {
        self.fragments.iter().map(|f| f.samples.len()).sum()
    }

    /// Decode time at the end of the last complete fragment.
    pub fn end_dts(&self) -> u64 {
        self.fragments
            .last()
            .map_or(0, |f| f.base_dts.saturating_add(f.duration()))
    }
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn be64(b: &[u8], at: usize) -> Option<u64> {
    let hi = be32(b, at)?;
    let lo = be32(b, at.checked_add(4)?)?;
    Some((u64::from(hi) << 32) | u64::from(lo))
}

/// The box at `at`: (type, header length, total length), when its header is complete.
fn header(b: &[u8], at: usize) -> Option<([u8; 4], usize, usize)> {
    let size = be32(b, at)?;
    let kind = b.get(at + 4..at + 8)?;
    let kind = [kind[0], kind[1], kind[2], kind[3]];
    let (hlen, total) = match size {
        1 => (16, usize::try_from(be64(b, at + 8)?).ok()?),
        0 => (8, b.len().checked_sub(at)?),
        n => (8, n as usize),
    };
    (total >= hlen).then_some((kind, hlen, total))
}

/// The complete top-level box at `at`: its type and total length.
pub(crate) fn top_level(b: &[u8], at: usize) -> Option<([u8; 4], usize)> {
    let (kind, _, total) = header(b, at)?;
    (at.checked_add(total)? <= b.len()).then_some((kind, total))
}

/// Children of a container box's payload `[start, end)`.
fn children(b: &[u8], start: usize, end: usize) -> Vec<([u8; 4], usize, usize)> {
    let mut out = Vec::new();
    let mut at = start;
    while at < end {
        let Some((kind, hlen, total)) = header(b, at) else {
            break;
        };
        let Some(next) = at.checked_add(total).filter(|&n| n <= end) else {
            break;
        };
        out.push((kind, at + hlen, next));
        at = next;
    }
    out
}

fn parse_moof(b: &[u8], start: usize, end: usize, moof_at: usize) -> Option<Fragment> {
    let traf = children(b, start, end)
        .into_iter()
        .find(|c| &c.0 == b"traf")?;
    let mut base = 0;
    let mut default_duration = 0;
    let mut samples = Vec::new();
    let mut data_start = None;
    for (kind, s, box_end) in children(b, traf.1, traf.2) {
        let flags = be32(b, s)? & 0x00ff_ffff;
        let version = b.get(s).copied()?;
        match &kind {
            b"tfhd" => {
                let mut at = s + 8;
                for (bit, len) in [(0x1, 8), (0x2, 4)] {
                    if flags & bit != 0 {
                        at += len;
                    }
                }
                if flags & 0x8 != 0 {
                    default_duration = be32(b, at)?;
                }
            }
            b"tfdt" => {
                base = if version == 1 {
                    be64(b, s + 4)?
                } else {
                    u64::from(be32(b, s + 4)?)
                };
            }
            b"trun" => {
                let count = be32(b, s + 4)? as usize;
                let mut at = s + 8;
                if flags & 0x1 != 0 {
                    let off = be32(b, at)? as i32;
                    data_start =
                        usize::try_from(i64::try_from(moof_at).ok()? + i64::from(off)).ok();
                    at += 4;
                }
                if flags & 0x4 != 0 {
                    at += 4;
                }
                let per = [0x100, 0x200, 0x400, 0x800]
                    .iter()
                    .filter(|&&f| flags & f != 0)
                    .count()
                    * 4;
                // The per-sample fields must fit in the box. A `trun` without them (every
                // sample from defaults) is none we write, and its count, bounded by nothing,
                // could ask for gigabytes: the fragment is unreadable.
                if per == 0 || count.checked_mul(per)? > box_end.saturating_sub(at) {
                    return None;
                }
                for _ in 0..count {
                    let mut field = |bit: u32| -> Option<Option<u32>> {
                        if flags & bit == 0 {
                            return Some(None);
                        }
                        let v = be32(b, at)?;
                        at += 4;
                        Some(Some(v))
                    };
                    let duration = field(0x100)?.unwrap_or(default_duration);
                    let size = field(0x200)?.unwrap_or(0);
                    let sflags = field(0x400)?.unwrap_or(0);
                    let cts = field(0x800)?.map_or(0, |c| {
                        if version == 1 {
                            i64::from(c as i32)
                        } else {
                            i64::from(c)
                        }
                    });
                    samples.push(Sample {
                        duration,
                        size,
                        flags: sflags,
                        cts,
                    });
                }
            }
            _ => {}
        }
    }
    Some(Fragment {
        base_dts: base,
        samples,
        data_start: data_start.unwrap_or(end),
    })
}

/// Walks a segment file: the init, then `moof`+`mdat` pairs while they are complete.
pub fn walk(b: &[u8]) -> Walk {
    let mut w = Walk::default();
    let mut at = 0;
    let mut pending: Option<Fragment> = None;
    while let Some((kind, hlen, total)) = header(b, at) {
        let Some(next) = at.checked_add(total).filter(|&n| n <= b.len()) else {
            break;
        };
        match &kind {
            b"ftyp" | b"moov" if w.fragments.is_empty() && pending.is_none() => {
                if &kind == b"moov" {
                    w.init_len = next;
                    w.complete_len = next;
                }
            }
            b"moof" if w.init_len > 0 => match parse_moof(b, at + hlen, next, at) {
                Some(f) => pending = Some(f),
                None => break,
            },
            b"mdat" => match pending.take() {
                Some(f)
                    if f.data_start >= at + hlen
                        && next.checked_sub(f.data_start).is_some_and(|room| {
                            f.samples.iter().map(|s| s.size as usize).sum::<usize>() <= room
                        }) =>
                {
                    w.fragments.push(f);
                    w.complete_len = next;
                }
                _ => break,
            },
            _ => break,
        }
        at = next;
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    /// An init, then one fragment whose `trun` (version 0, data offset set) claims `count`
    /// samples, with the given per-sample sizes (none: no per-sample fields) and an empty
    /// `free` box after it, then 16 bytes of `mdat`.
    fn file_with_trun(count: u32, sizes: &[u32]) -> Vec<u8> {
        file_with_offset(count, sizes, 8)
    }

    /// As [`file_with_trun`], the data offset `past_moof` bytes after the `moof` (8: the start
    /// of the `mdat` payload).
    fn file_with_offset(count: u32, sizes: &[u32], past_moof: u32) -> Vec<u8> {
        let moof = |offset: u32| {
            let flags: u32 = if sizes.is_empty() { 0x1 } else { 0x201 };
            let mut trun = flags.to_be_bytes().to_vec();
            trun.extend_from_slice(&count.to_be_bytes());
            trun.extend_from_slice(&offset.to_be_bytes());
            for size in sizes {
                trun.extend_from_slice(&size.to_be_bytes());
            }
            let traf = [
                mp4_box(b"tfdt", &[0; 8]),
                mp4_box(b"trun", &trun),
                mp4_box(b"free", &[]),
            ]
            .concat();
            mp4_box(b"moof", &mp4_box(b"traf", &traf))
        };
        let len = moof(0).len() as u32;
        [
            mp4_box(b"ftyp", b"isom"),
            mp4_box(b"moov", &[]),
            moof(len + past_moof),
            mp4_box(b"mdat", &[0; 16]),
        ]
        .concat()
    }

    /// Found by the fuzz target `mp4_walk` (`fuzz/corpus/mp4_walk/trun-count-without-fields`):
    /// a `trun` claiming 2^30 samples with no per-sample fields made the walk push 2^30
    /// samples (tens of GB) — a torn or damaged segment file could crash the start-up check.
    #[test]
    fn a_huge_sample_count_without_fields_is_unreadable() {
        let file = file_with_trun(0x4000_0000, &[]);
        let w = walk(&file);
        assert!(w.fragments.is_empty());
        assert_eq!(w.complete_len, w.init_len);
    }

    #[test]
    fn per_sample_fields_must_fit_in_the_trun() {
        let ok = walk(&file_with_trun(1, &[4]));
        assert_eq!(ok.frames(), 1);
        assert_eq!(ok.complete_len, file_with_trun(1, &[4]).len());
        // Two samples claimed, one size present: the second size would be read from the
        // `free` box header that follows (8, which would fit in the `mdat`).
        assert!(walk(&file_with_trun(2, &[4])).fragments.is_empty());
    }

    /// Found by the fuzz target `mp4_walk` (`fuzz/corpus/mp4_walk/data-offset-past-mdat`): a
    /// fragment of empty samples whose data offset points past its `mdat` was taken as complete.
    #[test]
    fn a_data_offset_past_the_mdat_is_unreadable() {
        assert_eq!(walk(&file_with_offset(1, &[0], 8)).fragments.len(), 1);
        assert_eq!(walk(&file_with_offset(1, &[0], 24)).fragments.len(), 1);
        let w = walk(&file_with_offset(1, &[0], 25));
        assert!(w.fragments.is_empty());
        assert_eq!(w.complete_len, w.init_len);
    }
}
