//! HTTPS for the HTTP listener: loads the configured PEM certificate chain and private key into a
//! rustls server configuration (ring provider, TLS 1.2 and 1.3, HTTP/1.1 and h2 by ALPN), with a
//! start-up error that names the file and the problem, and serves the web application over it
//! with graceful shutdown.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum_server::accept::NoDelayAcceptor;
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use xiaoan_web::AppState;

/// How long open connections get to finish when the server stops.
const DRAIN: Duration = Duration::from_secs(3);

/// Reads `cert` (PEM chain, leaf first) and `key` (PEM PKCS#8, PKCS#1 or SEC1) and checks they
/// belong together.
pub fn load(cert: &Path, key: &Path) -> anyhow::Result<Arc<ServerConfig>> {
    let cert_pem = std::fs::read(cert)
        .with_context(|| format!("cannot read the TLS certificate {}", cert.display()))?;
    let key_pem = std::fs::read(key)
        .with_context(|| format!("cannot read the TLS private key {}", key.display()))?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("the TLS certificate {} is not valid PEM", cert.display()))?;
    anyhow::ensure!(
        !chain.is_empty(),
        "the TLS certificate file {} holds no CERTIFICATE block",
        cert.display()
    );
    let private = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| {
            format!(
                "the TLS private key {} holds no usable PEM private key",
                key.display()
            )
        })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .with_context(|| {
            format!(
                "the TLS certificate {} and private key {} do not go together",
                cert.display(),
                key.display()
            )
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves the web application over TLS on `listener` until `shutdown` is cancelled.
pub async fn serve(
    listener: TcpListener,
    config: Arc<ServerConfig>,
    state: AppState,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let app = xiaoan_web::router(state).into_make_service_with_connect_info::<SocketAddr>();
    let acceptor =
        RustlsAcceptor::new(RustlsConfig::from_config(config)).acceptor(NoDelayAcceptor::new());
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.cancelled().await;
        stopper.graceful_shutdown(Some(DRAIN));
    });
    axum_server::from_tcp(listener.into_std()?)?
        .acceptor(acceptor)
        .handle(handle)
        .serve(app)
        .await
}
