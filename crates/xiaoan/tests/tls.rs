//! HTTPS: with `[http] tls_cert` and `tls_key` set, the HTTP listener serves TLS only. A
//! self-signed certificate made here; a client trusting it logs in and calls the API, the live
//! event stream and the live-video WebSocket work over TLS, the session cookie is `Secure`, plain HTTP to the port gets no
//! answer, and a certificate that is missing, unreadable or not the key's stops the start with
//! a clear error.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;
use xiaoan::config::Config;
use xiaoan::server::{self, Running};

/// Writes a self-signed certificate for localhost / 127.0.0.1 and its key; gives their paths
/// and the certificate's PEM.
fn certificate(dir: &Path, name: &str) -> (PathBuf, PathBuf, String) {
    let ck =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert = dir.join(format!("{name}.crt"));
    let key = dir.join(format!("{name}.key"));
    let pem = ck.cert.pem();
    std::fs::write(&cert, &pem).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    (cert, key, pem)
}

fn tls_config(cert: &Path, key: &Path) -> Config {
    let mut config = Config::default();
    config.http.tls_cert = cert.to_string_lossy().into_owned();
    config.http.tls_key = key.to_string_lossy().into_owned();
    config.dc09.addr = String::new();
    config.gb28181.addr = String::new();
    // School 1's gate camera, for the live-video WebSocket.
    xiaoan::cmds::demo::demo_gb28181(&mut config);
    config
}

async fn start(config: &Config, dir: &Path) -> anyhow::Result<Running> {
    let data = dir.join("data");
    let store = server::open_store(&data).await?;
    xiaoan::cmds::demo::seed_if_empty(&store).await?;
    let listener = server::bind("127.0.0.1:0").await?;
    server::start(config, data, Arc::new(store), listener).await
}

#[tokio::test]
async fn the_listener_serves_https_with_a_secure_cookie_and_refuses_plain_http() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, pem) = certificate(dir.path(), "server");
    let running = start(&tls_config(&cert, &key), dir.path()).await.unwrap();
    assert!(running.https);
    let addr = running.http_addr;
    let client = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let base = format!("https://{addr}");

    let res = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);

    let res = client
        .post(format!("{base}/api/v1/login"))
        .json(&json!({ "username": "guard1", "password": "demo" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    let attrs: Vec<&str> = cookie.split(';').map(str::trim).collect();
    for want in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(attrs.contains(&want), "{want} missing: {cookie}");
    }
    let token = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();

    // The cookie alone authenticates over HTTPS, and a press goes through.
    let session = cookie.split(';').next().unwrap().to_owned();
    let res = client
        .post(format!("{base}/api/v1/alarms"))
        .header("cookie", &session)
        .header("origin", format!("https://{addr}"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let res = client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap()["user"]["username"],
        "guard1"
    );

    // The live event stream flows over TLS.
    let mut res = client
        .get(format!("{base}/api/v1/events"))
        .bearer_auth(&token)
        .header("last-event-id", "0")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), res.chunk())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(!chunk.is_empty());
    drop(res);

    // The live-video WebSocket upgrades over TLS and answers a close with a close.
    let res = client
        .get(format!(
            "{base}/api/v1/cameras/{}/live",
            xiaoan::cmds::demo::DEMO_GATE_CAMERA
        ))
        .bearer_auth(&token)
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 101);
    let upgraded = res.upgrade().await.unwrap();
    let mut ws =
        tokio_tungstenite::WebSocketStream::from_raw_socket(upgraded, Role::Client, None).await;
    // Open and quiet (the camera sends no video here) until the server reads our close frame
    // through TLS and ends the view.
    let quiet = tokio::time::timeout(std::time::Duration::from_millis(300), ws.next()).await;
    assert!(quiet.is_err(), "the view ended by itself: {quiet:?}");
    ws.send(Message::Close(None)).await.unwrap();
    let reply = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next())
        .await
        .unwrap();
    // A close frame back, or the end of the connection.
    assert!(
        !matches!(reply, Some(Ok(Message::Binary(_) | Message::Text(_)))),
        "{reply:?}"
    );

    // A client that does not trust the certificate is refused by its own TLS check.
    let untrusting = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .build()
        .unwrap();
    assert!(
        untrusting
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_err()
    );

    // Plain HTTP to the same port gets no HTTP answer.
    let plain = reqwest::Client::new()
        .get(format!("http://{addr}/healthz"))
        .timeout(std::time::Duration::from_secs(5))
        .send()
        .await;
    assert!(
        plain.is_err(),
        "plain HTTP answered: {:?}",
        plain.map(|r| r.status())
    );

    // Stopping drains and ends the TLS server.
    tokio::time::timeout(std::time::Duration::from_secs(10), running.stop())
        .await
        .unwrap();
    assert!(client.get(format!("{base}/healthz")).send().await.is_err());
}

#[tokio::test]
async fn a_certificate_that_cannot_be_used_stops_the_start_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (cert_a, _, _) = certificate(dir.path(), "a");
    let (_, key_b, _) = certificate(dir.path(), "b");
    let missing = dir.path().join("missing.pem");
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate").unwrap();

    let cases = [
        (tls_config(&cert_a, &key_b), "do not go together"),
        (
            tls_config(&missing, &key_b),
            "cannot read the TLS certificate",
        ),
        (
            tls_config(&cert_a, &missing),
            "cannot read the TLS private key",
        ),
        (tls_config(&garbage, &key_b), "holds no CERTIFICATE"),
        (tls_config(&cert_a, &garbage), "no usable PEM private key"),
    ];
    for (i, (config, want)) in cases.into_iter().enumerate() {
        let sub = dir.path().join(format!("case{i}"));
        let err = match start(&config, &sub).await {
            Ok(r) => {
                r.stop().await;
                panic!("case {i} started; wanted {want:?}");
            }
            Err(e) => format!("{e:#}"),
        };
        assert!(err.contains(want), "case {i}: {err}");
    }
    let mut half = Config::default();
    half.http.tls_cert = cert_a.to_string_lossy().into_owned();
    half.dc09.addr = String::new();
    half.gb28181.addr = String::new();
    let err = start(&half, &dir.path().join("half")).await.err().unwrap();
    assert!(format!("{err:#}").contains("tls_key"), "{err:#}");
}
