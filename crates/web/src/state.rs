//! Shared state handed to every handler.

use std::sync::Arc;

use chrono::Duration;
use tokio_util::sync::CancellationToken;
use xiaoan_hub::Hub;
use xiaoan_hub::cameras::Cameras;

use crate::auth::LoginLimiter;
use crate::devices_port::DevicePort;
use crate::routes::audit::ViewThrottle;

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// A session expires after this long without a request (it slides).
    pub session_idle: Duration,
    /// A session ends this long after its login however busy it is (`None`: no limit).
    pub session_max: Option<Duration>,
    /// The school page tells the guard to call 110 when unclaimed this long.
    pub call_110_after_secs: u64,
    /// Mark the session cookie `Secure` (when served over HTTPS).
    pub secure_cookies: bool,
}

impl Default for WebSettings {
    fn default() -> Self {
        Self {
            session_idle: Duration::minutes(480),
            session_max: Some(Duration::hours(24)),
            call_110_after_secs: 60,
            secure_cookies: false,
        }
    }
}

/// Cloned into every handler.
#[derive(Clone)]
pub struct AppState {
    pub hub: Arc<Hub>,
    pub settings: Arc<WebSettings>,
    pub(crate) limiter: Arc<LoginLimiter>,
    /// Cancelled when the server stops; long-lived streams end on it.
    pub shutdown: CancellationToken,
    /// The GB/T 28181 platform, when it runs.
    pub devices: Option<Arc<dyn DevicePort>>,
    /// The cameras and their live streams.
    pub cameras: Arc<Cameras>,
    /// Which footage reads were recorded in the audit trail lately.
    pub(crate) views: Arc<ViewThrottle>,
}

impl AppState {
    /// State over a running hub; `shutdown` ends open event streams.
    pub fn new(hub: Arc<Hub>, settings: WebSettings, shutdown: CancellationToken) -> Self {
        Self {
            hub,
            settings: Arc::new(settings),
            limiter: Arc::new(LoginLimiter::default()),
            shutdown,
            devices: None,
            cameras: Arc::default(),
            views: Arc::default(),
        }
    }

    /// Plugs in the cameras.
    pub fn with_cameras(mut self, cameras: Arc<Cameras>) -> Self {
        self.cameras = cameras;
        self
    }

    /// Plugs in the device platform (commands, binding reloads, registration state).
    pub fn with_devices(mut self, devices: Arc<dyn DevicePort>) -> Self {
        self.devices = Some(devices);
        self
    }
}
