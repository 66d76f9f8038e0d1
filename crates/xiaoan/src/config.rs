//! Configuration: built-in defaults, then the TOML file (`--config`), then `XIAOAN_*` environment
//! variables (`XIAOAN_SECTION__KEY`), then command-line flags. Keys are snake_case; unknown keys
//! are errors, so a typo never silently falls back to a default. `default-config` prints the
//! commented file in `default-config.toml`, which a test keeps equal to [`Config::default`].

use std::path::{Path, PathBuf};

use anyhow::Context;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// The commented default configuration file.
pub const DEFAULT_CONFIG: &str = include_str!("default-config.toml");

/// Everything configurable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Data directory (database and files).
    pub data_dir: Option<PathBuf>,
    pub http: HttpConfig,
    pub incident: IncidentConfig,
    pub school: SchoolConfig,
    pub dc09: Dc09Config,
    pub gb28181: xiaoan_gb28181::GbConfig,
    pub video: VideoConfig,
    /// The cameras: `[[cameras]]`.
    pub cameras: Vec<xiaoan_core::camera::Camera>,
    pub log: LogConfig,
}

/// `[video]`: live video and the seconds kept before a press.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VideoConfig {
    /// A connected camera with no frame for this long is in video loss.
    pub loss_after_secs: u32,
    /// Seconds of video each camera keeps in memory (from a keyframe) for the clip before a
    /// press.
    pub preroll_secs: u32,
    /// Seconds before the press in each incident clip (at most what the pre-roll keeps).
    pub clip_before_secs: u32,
    /// Seconds after the press in each incident clip.
    pub clip_after_secs: u32,
    /// Continuous recording of every camera linked to an alarm point: a new segment file at
    /// the first keyframe after this long.
    pub segment_secs: u32,
    /// Recorded footage older than this is deleted (0: never by age).
    pub retention_days: u32,
    /// Most gigabytes of recorded footage (0: no quota).
    pub quota_gb: u32,
    /// Delete the oldest footage while less than this many gigabytes are free on the disk.
    pub min_free_gb: u32,
    /// Footage under an incident's released protection is kept this many more days.
    pub keep_after_release_days: u32,
}

impl Default for VideoConfig {
    fn default() -> Self {
        Self {
            loss_after_secs: 5,
            preroll_secs: 30,
            clip_before_secs: 30,
            clip_after_secs: 30,
            segment_secs: 60,
            retention_days: 30,
            quota_gb: 0,
            min_free_gb: 1,
            keep_after_release_days: 7,
        }
    }
}

/// `[http]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    pub addr: String,
    /// A session ends after this long without a request (the expiry slides).
    pub session_idle_minutes: u32,
    /// A session ends this long after its login, however busy (0: no limit).
    pub session_max_hours: u32,
    /// Mark the session cookie `Secure`; always on when TLS is configured.
    pub secure_cookies: bool,
    /// PEM certificate chain; with `tls_key` the listener serves HTTPS only. Empty: plain HTTP.
    pub tls_cert: String,
    /// PEM private key of `tls_cert`.
    pub tls_key: String,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:8080".into(),
            session_idle_minutes: 480,
            session_max_hours: 24,
            secure_cookies: false,
            tls_cert: String::new(),
            tls_key: String::new(),
        }
    }
}

impl HttpConfig {
    /// The certificate and key paths when TLS is configured; an error when only one is given.
    pub fn tls_files(&self) -> anyhow::Result<Option<(PathBuf, PathBuf)>> {
        match (self.tls_cert.trim(), self.tls_key.trim()) {
            ("", "") => Ok(None),
            ("", _) => anyhow::bail!("http.tls_key is set but http.tls_cert is not"),
            (_, "") => anyhow::bail!("http.tls_cert is set but http.tls_key is not"),
            (cert, key) => Ok(Some((PathBuf::from(cert), PathBuf::from(key)))),
        }
    }
}

/// `[incident]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IncidentConfig {
    pub escalate_after_secs: u32,
}

impl Default for IncidentConfig {
    fn default() -> Self {
        Self {
            escalate_after_secs: 30,
        }
    }
}

/// `[school]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SchoolConfig {
    pub call_110_after_secs: u32,
}

impl Default for SchoolConfig {
    fn default() -> Self {
        Self {
            call_110_after_secs: 60,
        }
    }
}

/// `[dc09]`: the SIA DC-09 receiver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Dc09Config {
    /// Listen address for TCP and UDP; empty turns the receiver off.
    pub addr: String,
    /// Also listen on UDP.
    pub udp: bool,
    /// Close a TCP connection silent this long.
    pub idle_timeout_secs: u32,
    /// Most TCP connections at once.
    pub max_connections: u32,
    /// An encrypted frame may be this many seconds older than the receiver clock.
    pub window_behind_secs: u32,
    /// An encrypted frame may be this many seconds ahead of the receiver clock.
    pub window_ahead_secs: u32,
    /// The accounts: `[[dc09.accounts]]`.
    pub accounts: Vec<xiaoan_dc09::AccountConfig>,
}

impl Default for Dc09Config {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:9000".into(),
            udp: true,
            idle_timeout_secs: 300,
            max_connections: 2000,
            window_behind_secs: 40,
            window_ahead_secs: 20,
            accounts: Vec::new(),
        }
    }
}

/// `[log]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
        }
    }
}

/// Top-level keys; other `XIAOAN_*` variables (e.g. ones used by scripts) are not configuration.
const SECTIONS: [&str; 9] = [
    "data_dir", "http", "incident", "school", "dc09", "gb28181", "video", "cameras", "log",
];

impl Config {
    /// Loads defaults ← `file` ← `XIAOAN_*` environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            anyhow::ensure!(
                path.exists(),
                "config file {} does not exist",
                path.display()
            );
            figment = figment.merge(Toml::file_exact(path));
        }
        let env = Env::prefixed("XIAOAN_").split("__").filter(|key| {
            // Keys arrive with `__` already turned into `.`, case preserved.
            let first = key.as_str().split('.').next().unwrap_or_default();
            SECTIONS.iter().any(|s| s.eq_ignore_ascii_case(first))
        });
        figment
            .merge(env)
            .extract()
            .context("invalid configuration")
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error.
mod tests {
    use super::*;

    #[test]
    fn the_printed_default_config_is_the_default() -> anyhow::Result<()> {
        let parsed: Config = toml::from_str(DEFAULT_CONFIG)?;
        assert_eq!(parsed, Config::default());
        Ok(())
    }

    #[test]
    fn file_then_environment_override_defaults() -> anyhow::Result<()> {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "x.toml",
                "[http]\naddr = \"127.0.0.1:9999\"\n[incident]\nescalate_after_secs = 10\n",
            )?;
            jail.set_env("XIAOAN_INCIDENT__ESCALATE_AFTER_SECS", "12");
            jail.set_env("XIAOAN_BIN", "/not/config");
            let c = Config::load(Some(Path::new("x.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(c.http.addr, "127.0.0.1:9999");
            assert_eq!(c.incident.escalate_after_secs, 12);
            assert_eq!(c.school.call_110_after_secs, 60);
            Ok(())
        });
        Ok(())
    }

    #[test]
    fn unknown_keys_are_errors() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("x.toml", "[http]\nadress = \"x\"\n")?;
            assert!(Config::load(Some(Path::new("x.toml"))).is_err());
            jail.set_env("XIAOAN_HTTP__ADR", "x");
            assert!(Config::load(None).is_err());
            Ok(())
        });
    }
}
