//! A camera's RTSP URL as retina wants it: the credentials taken out of the URL and passed
//! separately (retina refuses URLs with a user part).

use crate::error::RtspError;

/// The URL without user part, and the credentials it carried.
#[derive(Clone)]
pub struct RtspSource {
    pub url: url::Url,
    pub credentials: Option<retina::client::Credentials>,
}

impl std::fmt::Debug for RtspSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RtspSource")
            .field("url", &self.url.as_str())
            .field("credentials", &self.credentials.as_ref().map(|_| "…"))
            .finish()
    }
}

/// Splits `raw` (`rtsp://user:pass@host:port/path`) into URL and credentials. Percent-encoded
/// user names and passwords are decoded. Errors never repeat the URL.
pub fn parse(raw: &str) -> Result<RtspSource, RtspError> {
    let mut url = url::Url::parse(raw.trim()).map_err(|e| RtspError::BadUrl(e.to_string()))?;
    if url.scheme() != "rtsp" {
        return Err(RtspError::BadUrl(format!(
            "协议应为 rtsp，而不是 {}",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(RtspError::BadUrl("缺少主机".into()));
    }
    let credentials = if url.username().is_empty() && url.password().is_none() {
        None
    } else {
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let creds = retina::client::Credentials {
            username: decode(url.username()),
            password: decode(url.password().unwrap_or("")),
        };
        url.set_username("")
            .and_then(|()| url.set_password(None))
            .map_err(|()| RtspError::BadUrl("无法去除地址中的用户名".into()))?;
        Some(creds)
    };
    Ok(RtspSource { url, credentials })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn credentials_leave_the_url() {
        let s = parse("rtsp://admin:p%40ss+word@192.0.2.5:554/Streaming/Channels/101").unwrap();
        assert_eq!(
            s.url.as_str(),
            "rtsp://192.0.2.5:554/Streaming/Channels/101"
        );
        let c = s.credentials.clone().unwrap();
        assert_eq!(c.username, "admin");
        assert_eq!(c.password, "p@ss+word");
        assert!(!format!("{s:?}").contains("p@ss"));
    }

    #[test]
    fn plain_urls_pass_and_bad_ones_are_refused() {
        let s = parse("rtsp://127.0.0.1:8554/test").unwrap();
        assert!(s.credentials.is_none());
        assert_eq!(s.url.as_str(), "rtsp://127.0.0.1:8554/test");
        assert!(matches!(parse("http://x/y"), Err(RtspError::BadUrl(_))));
        assert!(matches!(parse("not a url"), Err(RtspError::BadUrl(_))));
        let e = parse("rtsps://u:secret@/x").unwrap_err().to_string();
        assert!(!e.contains("secret"));
    }
}
