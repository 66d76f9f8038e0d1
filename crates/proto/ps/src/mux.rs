//! PS muxer: one Annex-B access unit + PTS/DTS → one PS pack (pack header with SCR; system
//! header and PSM before keyframes; video PES, split into several when longer than a PES
//! can hold, the first with PTS/DTS).

use bytes::{Bytes, BytesMut};

use crate::nal::{Codec, is_keyframe};
use crate::ps::{
    MAX_PES_PAYLOAD, Psm, VIDEO_STREAM_ID, write_pack_header, write_pes, write_system_header,
};

/// Settings of a [`PsMuxer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MuxConfig {
    pub codec: Codec,
    /// System header + PSM before every keyframe (as cameras do); otherwise only before the
    /// first one (as GStreamer's mpegpsmux does).
    pub psm_every_keyframe: bool,
    /// Program mux rate in units of 50 bytes/s, written in the pack and system headers.
    pub mux_rate: u32,
    /// Largest payload of one PES packet (at most [`MAX_PES_PAYLOAD`]).
    pub max_pes_payload: usize,
}

impl MuxConfig {
    pub fn new(codec: Codec) -> Self {
        Self {
            codec,
            psm_every_keyframe: true,
            mux_rate: 6106,
            max_pes_payload: MAX_PES_PAYLOAD,
        }
    }
}

/// Wraps access units into PS packs.
#[derive(Debug)]
pub struct PsMuxer {
    cfg: MuxConfig,
    psm_written: bool,
}

impl PsMuxer {
    pub fn new(cfg: MuxConfig) -> Self {
        Self {
            cfg,
            psm_written: false,
        }
    }

    /// One pack for `au` (Annex-B); the keyframe flag comes from its NAL units.
    pub fn mux(&mut self, au: &[u8], pts: u64, dts: Option<u64>) -> Bytes {
        let key = is_keyframe(self.cfg.codec, au);
        self.mux_frame(au, pts, dts, key)
    }

    /// One pack for `au`, the caller saying whether it is a keyframe.
    pub fn mux_frame(&mut self, au: &[u8], pts: u64, dts: Option<u64>, keyframe: bool) -> Bytes {
        let max = self.cfg.max_pes_payload.clamp(1, MAX_PES_PAYLOAD);
        let mut out = BytesMut::with_capacity(au.len() + 64 + au.len() / max * 9);
        let scr = dts.unwrap_or(pts);
        write_pack_header(&mut out, scr, self.cfg.mux_rate);
        if keyframe && (self.cfg.psm_every_keyframe || !self.psm_written) {
            write_system_header(&mut out, self.cfg.mux_rate);
            Psm::video(self.cfg.codec, 0).write(&mut out);
            self.psm_written = true;
        }
        let mut chunks = au.chunks(max);
        let first = chunks.next().unwrap_or_default();
        write_pes(&mut out, VIDEO_STREAM_ID, Some(pts), dts, true, first);
        for chunk in chunks {
            write_pes(&mut out, VIDEO_STREAM_ID, None, None, false, chunk);
        }
        out.freeze()
    }
}
