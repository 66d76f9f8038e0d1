//! Why a camera connection failed or ended. The text is for people (it becomes the camera's
//! health detail) and never contains credentials.

/// A failed or ended RTSP connection.
#[derive(Debug, thiserror::Error)]
pub enum RtspError {
    /// The configured URL cannot be used.
    #[error("地址无效：{0}")]
    BadUrl(String),
    /// The camera refused or the connection failed (retina's message, without credentials).
    #[error("连接失败：{0}")]
    Connect(String),
    /// No answer in time.
    #[error("{0}超时")]
    Timeout(&'static str),
    /// The camera offers no H.264 or H.265 video stream.
    #[error("无可用视频流（{0}）")]
    NoVideo(String),
    /// The stream broke while playing.
    #[error("视频流中断：{0}")]
    Stream(String),
    /// The camera ended the stream.
    #[error("摄像机结束了视频流")]
    Ended,
}
