//! One RTSP camera's pull loop: DESCRIBE/SETUP/PLAY with retina (TCP interleaved unless told
//! otherwise), frames into the camera's track, link state to the camera registry, and on any
//! failure a reconnect after an exponential backoff. The camera stays `Down` through failed
//! retries (no flapping of its health) and becomes `Live` with the first frame of a new
//! connection.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use retina::client::{
    PlayOptions, Session, SessionOptions, SetupOptions, TcpTransportOptions, Transport,
    UdpTransportOptions,
};
use retina::codec::{CodecItem, FrameFormat, ParameterSetInsertion, ParametersRef, h26x};
use tokio_util::sync::CancellationToken;
use xiaoan_core::camera::CameraSource;
use xiaoan_hub::Hub;
use xiaoan_hub::cameras::{CameraEntry, Cameras, Link};
use xiaoan_media::Codec;

use crate::backoff::Backoff;
use crate::convert::{self, Timeline};
use crate::error::RtspError;
use crate::source::{self, RtspSource};

/// Timeouts, backoff and transport of the RTSP ingest.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Longest wait for each of DESCRIBE, SETUP and PLAY.
    pub connect_timeout: Duration,
    /// Longest wait for the next frame while playing.
    pub read_timeout: Duration,
    /// First reconnect delay.
    pub backoff_min: Duration,
    /// Longest reconnect delay.
    pub backoff_max: Duration,
    /// RTP over UDP instead of TCP interleaved (LAN only: no reorder buffer).
    pub udp: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(10),
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
            udp: false,
        }
    }
}

/// Everything one connection needs.
struct Ctx<'a> {
    cameras: &'a Cameras,
    entry: &'a CameraEntry,
    hub: &'a Hub,
    settings: &'a Settings,
    label: &'a str,
}

/// Pulls `entry` until `shutdown`.
pub async fn pull(
    cameras: Arc<Cameras>,
    entry: Arc<CameraEntry>,
    hub: Arc<Hub>,
    settings: Settings,
    shutdown: CancellationToken,
) {
    let id = entry.camera.id.clone();
    let label = entry.camera.source_label();
    let CameraSource::Rtsp { url } = &entry.camera.source else {
        return;
    };
    let source = match source::parse(url) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(camera = %id, source = %label, error = %e, "RTSP camera not started");
            cameras
                .set_link(&hub, &id, Link::Down, Some(e.to_string()))
                .await;
            return;
        }
    };
    let ctx = Ctx {
        cameras: &cameras,
        entry: &entry,
        hub: &hub,
        settings: &settings,
        label: &label,
    };
    let mut backoff = Backoff::new(settings.backoff_min, settings.backoff_max);
    let mut timeline = Timeline::default();
    cameras.set_link(&hub, &id, Link::Connecting, None).await;
    tracing::info!(camera = %id, source = %label, "RTSP camera connecting");
    loop {
        let result = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = connect_and_play(&ctx, &source, &mut timeline, &mut backoff) => r,
        };
        let error = result.err().unwrap_or(RtspError::Ended);
        let delay = backoff.next_delay();
        tracing::warn!(camera = %id, source = %label, error = %error,
            retry_in_ms = delay.as_millis() as u64, "RTSP camera down");
        cameras
            .set_link(&hub, &id, Link::Down, Some(error.to_string()))
            .await;
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(delay) => {}
        }
    }
}

/// Retina's error as a short line for people (it never holds credentials: they are not in the
/// URL retina sees).
fn short(e: impl std::fmt::Display) -> String {
    let text = e.to_string();
    let line = text.lines().next().unwrap_or_default().trim();
    let mut out: String = line.chars().take(160).collect();
    if out.len() < line.len() {
        out.push('…');
    }
    out
}

async fn step<T, E: std::fmt::Display>(
    limit: Duration,
    what: &'static str,
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T, RtspError> {
    match tokio::time::timeout(limit, fut).await {
        Err(_) => Err(RtspError::Timeout(what)),
        Ok(Err(e)) => Err(RtspError::Connect(short(e))),
        Ok(Ok(v)) => Ok(v),
    }
}

/// One connection: returns when it fails or the camera ends the stream.
async fn connect_and_play(
    ctx: &Ctx<'_>,
    source: &RtspSource,
    timeline: &mut Timeline,
    backoff: &mut Backoff,
) -> Result<(), RtspError> {
    let s = ctx.settings;
    let options = SessionOptions::default()
        .creds(source.credentials.clone())
        .user_agent(format!("xiaoan/{}", env!("CARGO_PKG_VERSION")));
    let mut session = step(
        s.connect_timeout,
        "连接（DESCRIBE）",
        Session::describe(source.url.clone(), options),
    )
    .await?;
    let (index, codec) = pick_video(session.streams())?;
    let transport = if s.udp {
        Transport::Udp(UdpTransportOptions::default())
    } else {
        Transport::Tcp(TcpTransportOptions::default())
    };
    let format = FrameFormat {
        h26x_framing: h26x::Framing::AnnexB,
        parameter_set_insertion: ParameterSetInsertion::Never,
        ..FrameFormat::default()
    };
    step(
        s.connect_timeout,
        "SETUP",
        session.setup(
            index,
            SetupOptions::default()
                .transport(transport)
                .frame_format(format),
        ),
    )
    .await?;
    let playing = step(
        s.connect_timeout,
        "PLAY",
        session.play(PlayOptions::default()),
    )
    .await?;
    let mut demuxed = playing
        .demuxed()
        .map_err(|e| RtspError::Connect(short(e)))?;
    timeline.new_connection();
    if codec == Codec::H265 {
        tracing::info!(camera = %ctx.entry.camera.id, "H.265 camera: relayed and recorded, not playable in browsers");
    }
    let mut live = false;
    loop {
        let item = match tokio::time::timeout(s.read_timeout, demuxed.next()).await {
            Err(_) => return Err(RtspError::Timeout("读取视频")),
            Ok(None) => return Ok(()),
            Ok(Some(Err(e))) => return Err(RtspError::Stream(short(e))),
            Ok(Some(Ok(item))) => item,
        };
        let CodecItem::VideoFrame(vf) = item else {
            continue;
        };
        if vf.stream_id() != index {
            continue;
        }
        let sets = match demuxed.streams().get(index).and_then(|st| st.parameters()) {
            Some(ParametersRef::Video(v)) => convert::parameter_sets(v.codec_params()),
            _ => Vec::new(),
        };
        let ts = vf.timestamp();
        let pts = timeline.map(convert::to_90khz(ts.timestamp(), ts.clock_rate().get()));
        let keyframe = vf.is_random_access_point();
        let frame = convert::frame(codec, pts, keyframe, vf.into_data(), &sets);
        if let Err(e) = ctx.entry.track.push(frame) {
            tracing::debug!(camera = %ctx.entry.camera.id, error = %e, "frame dropped");
            continue;
        }
        if !live {
            live = true;
            backoff.reset();
            tracing::info!(camera = %ctx.entry.camera.id, source = %ctx.label, codec = %codec, "RTSP camera live");
            ctx.cameras
                .set_link(ctx.hub, &ctx.entry.camera.id, Link::Live, None)
                .await;
        }
    }
}

/// The first H.264 video stream, else the first H.265 one.
fn pick_video(streams: &[retina::client::Stream]) -> Result<(usize, Codec), RtspError> {
    let found: Vec<(usize, Codec)> = streams
        .iter()
        .enumerate()
        .filter(|(_, s)| s.media() == "video")
        .filter_map(|(i, s)| convert::codec_of(s.encoding_name()).map(|c| (i, c)))
        .collect();
    found
        .iter()
        .find(|(_, c)| *c == Codec::H264)
        .or_else(|| found.first())
        .copied()
        .ok_or_else(|| {
            let offered: Vec<String> = streams
                .iter()
                .map(|s| format!("{}/{}", s.media(), s.encoding_name()))
                .collect();
            RtspError::NoVideo(if offered.is_empty() {
                "无".into()
            } else {
                offered.join(", ")
            })
        })
}
