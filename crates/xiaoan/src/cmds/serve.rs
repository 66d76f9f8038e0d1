//! `xiaoan serve`: runs the server on a data directory. On first start (no users yet) it creates
//! a sysadmin `admin` with a random password written to `initial-admin-password` in the data
//! directory (mode 0600), never to the log.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use xiaoan_core::access::Role;
use xiaoan_core::model::User;
use xiaoan_store::{DirectorySeed, Store};

use super::ServerFlags;
use crate::server;

/// Flags of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub server: ServerFlags,
}

/// Creates the first administrator if there are no users at all.
async fn ensure_admin(store: &dyn Store, data_dir: &Path) -> anyhow::Result<()> {
    if !store.list_users().await?.is_empty() {
        return Ok(());
    }
    let password = xiaoan_web::new_secret();
    let hash = xiaoan_web::hash_password(&password).map_err(anyhow::Error::msg)?;
    let admin = User {
        id: 1,
        username: "admin".into(),
        display_name: "系统管理员".into(),
        role: Role::Sysadmin,
        phone: None,
        scopes: vec![],
        post_alarm_point_id: None,
    };
    store
        .seed_directory(&DirectorySeed {
            users: vec![(admin, hash)],
            ..Default::default()
        })
        .await?;
    let path = data_dir.join("initial-admin-password");
    std::fs::write(&path, format!("{password}\n"))
        .with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    eprintln!(
        "created user `admin`; its password is in {} (read it, then delete the file)",
        path.display()
    );
    Ok(())
}

/// Runs `serve` until stopped.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let config = args.server.config()?;
    let data_dir = config
        .data_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("xiaoan-data"));
    let store = server::open_store(&data_dir).await?;
    ensure_admin(&store, &data_dir).await?;
    let listener = server::bind(&config.http.addr).await?;
    let running = server::start(&config, data_dir, Arc::new(store), listener).await?;
    let scheme = if running.https { "https" } else { "http" };
    println!("xiaoan serving {scheme}://{}/", running.http_addr);
    running.run_until_stopped().await;
    Ok(())
}
