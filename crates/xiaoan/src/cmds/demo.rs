//! `xiaoan demo`: the server with the 恩施市 demo dataset. Without `--data-dir` it runs in a fresh
//! temporary directory removed at exit; with one it seeds an empty directory and reuses a filled one.

use std::sync::Arc;

use clap::Args;
use xiaoan_store::Store;

use super::ServerFlags;
use crate::server;

/// Flags of `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub server: ServerFlags,
}

const LOGINS: &[&str] = &[
    "  operator    接警员（舞阳坝派出所）       supervisor  值班长（舞阳坝派出所）",
    "  officer     出警民警（舞阳坝派出所）     operator2   接警员（小渡船派出所）",
    "  guard1      门卫，恩施市实验小学         principal1  校长，恩施市实验小学",
    "  guard2      门卫，恩施市机关幼儿园       inspector   责任督学（学校1、2）",
    "  bureau      恩施市教育局                 admin       系统管理员",
    "  password for every user: demo",
];

/// Fills an empty store with the demo dataset; leaves a filled one alone.
pub async fn seed_if_empty(store: &dyn Store) -> anyhow::Result<bool> {
    if !store.load_directory().await?.schools.is_empty() || !store.list_users().await?.is_empty() {
        return Ok(false);
    }
    let hash = xiaoan_web::hash_password("demo").map_err(anyhow::Error::msg)?;
    store
        .seed_directory(&xiaoan_sim::dataset::demo(&hash))
        .await?;
    Ok(true)
}

/// How often the demo's simulated panel (account 1111) sends a `NULL` link test.
const LINK_TEST_SECS: u32 = 30;

/// The demo's simulated panel on account 1111: a `NULL` link test now and every
/// [`LINK_TEST_SECS`], so supervision shows the device as healthy; stop the demo's panel and
/// nothing else notices until the interval passes, as with a real one.
async fn link_tests(to: std::net::SocketAddr) {
    use xiaoan_sim::panel::{Panel, PanelEvent};
    let panel = Panel::new("1111");
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(u64::from(LINK_TEST_SECS)));
    loop {
        tick.tick().await;
        let sent = match panel.frame(&PanelEvent::LinkTest, 0) {
            Ok(frame) => panel
                .send_tcp(to, &frame, std::time::Duration::from_secs(10))
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err(e) = sent {
            tracing::warn!(error = %e, "demo panel link test failed");
        }
    }
}

/// The demo's own GB/T 28181 devices: school 1's gate camera and its one-key alarm input (a
/// device of its own), registered and keeping alive like real ones, so the console shows them
/// online; `xiaoan sim gb28181 --device-id … --alarm` presses the alarm input from outside.
async fn gb_devices(to: std::net::SocketAddr) {
    use xiaoan_sim::gb_device::{self, DeviceSpec, FleetConfig, Profile};
    let cfg = FleetConfig {
        to,
        profile: Profile {
            platform_id: DEMO_PLATFORM_ID.into(),
            domain: DEMO_DOMAIN.into(),
            password: DEMO_SIP_PASSWORD.into(),
            retry_after: std::time::Duration::from_secs(5),
            ..Profile::default()
        },
        devices: [DEMO_GATE_CAMERA, DEMO_ALARM_INPUT]
            .into_iter()
            // Each is its own single channel in its catalog, as IPCs and alarm columns report.
            .map(|id| DeviceSpec {
                id: id.into(),
                channels: vec![id.into()],
            })
            .collect(),
        sockets: 1,
        register_window: 2,
    };
    match gb_device::start(cfg, None).await {
        // The fleet runs until the demo stops; its handle must stay alive.
        Ok(fleet) => {
            std::future::pending::<()>().await;
            drop(fleet);
        }
        Err(e) => tracing::warn!(error = %e, "demo GB/T 28181 devices did not start"),
    }
}

/// AES-256 key (hex) of demo account `3333`.
pub const DEMO_AES256_HEX: &str =
    "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F";

/// The demo's DC-09 accounts unless the configuration names its own: `1111` plain and `2222`
/// AES-128 (ASCII key `AAAAAAAAAAAAAAAA`) at 恩施市实验小学's 南门门卫室 (alarm point 1), and
/// `3333` AES-256 ([`DEMO_AES256_HEX`]) at its 北门门卫室 (alarm point 2).
pub fn demo_accounts(config: &mut crate::config::Config) {
    if !config.dc09.accounts.is_empty() {
        return;
    }
    let account = |account: &str, point, key: Option<&str>, key_hex: Option<&str>| {
        xiaoan_dc09::AccountConfig {
            account: account.into(),
            receiver: None,
            line: None,
            alarm_point_id: point,
            key: key.map(str::to_owned),
            key_hex: key_hex.map(str::to_owned),
            ..Default::default()
        }
    };
    config.dc09.accounts = vec![
        // Supervised: the demo's own simulated panel sends it a link test every 30 s.
        xiaoan_dc09::AccountConfig {
            supervision_secs: Some(LINK_TEST_SECS * 3),
            ..account("1111", 1, None, None)
        },
        account("2222", 1, Some("AAAAAAAAAAAAAAAA"), None),
        account("3333", 2, None, Some(DEMO_AES256_HEX)),
    ];
}

/// The demo platform's IDs under 恩施市's division code 422801.
pub const DEMO_PLATFORM_ID: &str = "42280100002000000001";
pub const DEMO_DOMAIN: &str = "4228010000";
pub const DEMO_SIP_PASSWORD: &str = "12345678";
/// 恩施市实验小学's gate camera and its one-key alarm input (a device of its own).
pub const DEMO_GATE_CAMERA: &str = "42280100001320000001";
pub const DEMO_ALARM_INPUT: &str = "42280100001340000001";

/// The demo's GB/T 28181 platform: 恩施市 IDs, and school 1's gate camera and one-key alarm input
/// bound to its 南门门卫室 (alarm point 1); the gate camera is also the point's live camera.
/// Left alone if the configuration names other IDs.
pub fn demo_gb28181(config: &mut crate::config::Config) {
    let g = &mut config.gb28181;
    let default = xiaoan_gb28181::GbConfig::default();
    if g.platform_id != default.platform_id || !g.channels.is_empty() {
        return;
    }
    g.platform_id = DEMO_PLATFORM_ID.into();
    g.domain = DEMO_DOMAIN.into();
    g.password = DEMO_SIP_PASSWORD.into();
    if config.cameras.is_empty() {
        config.cameras = vec![xiaoan_core::camera::Camera {
            id: DEMO_GATE_CAMERA.into(),
            name: "南门摄像机".into(),
            school_id: 1,
            alarm_point_id: Some(1),
            source: xiaoan_core::camera::CameraSource::Gb28181 {
                device_id: DEMO_GATE_CAMERA.into(),
                channel_id: DEMO_GATE_CAMERA.into(),
            },
        }];
    }
    let g = &mut config.gb28181;
    g.channels = [DEMO_GATE_CAMERA, DEMO_ALARM_INPUT]
        .into_iter()
        .map(|id| xiaoan_gb28181::ChannelBinding {
            id: id.into(),
            device_id: None,
            alarm_point_id: 1,
        })
        .collect();
}

/// Runs `demo` until stopped.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let mut config = args.server.config()?;
    demo_accounts(&mut config);
    demo_gb28181(&mut config);
    let (data_dir, _temp) = match &config.data_dir {
        Some(dir) => (dir.clone(), None),
        None => {
            let temp = tempfile::Builder::new().prefix("xiaoan-demo-").tempdir()?;
            (temp.path().to_path_buf(), Some(temp))
        }
    };
    let store = server::open_store(&data_dir).await?;
    let seeded = seed_if_empty(&store).await?;
    let listener = server::bind(&config.http.addr).await?;
    let running = server::start(&config, data_dir.clone(), Arc::new(store), listener).await?;
    if let Some(addr) = running.dc09_addr {
        tokio::spawn(link_tests(addr));
        println!(
            "DC-09 receiver: {addr} (TCP and UDP); accounts 1111 (plain), 2222 (AES-128, key AAAAAAAAAAAAAAAA), 3333 (AES-256, key_hex {DEMO_AES256_HEX})"
        );
        println!("  fire a panic: xiaoan sim dc09 --to {addr} --account 1111 --event PA");
    }
    if let Some(addr) = running.sip_addr {
        tokio::spawn(gb_devices(addr));
        println!(
            "GB/T 28181 platform: {addr} (UDP and TCP); ID {DEMO_PLATFORM_ID}, domain {DEMO_DOMAIN}, password {DEMO_SIP_PASSWORD}"
        );
        println!(
            "  one-key alarm column: xiaoan sim gb28181 --to {addr} --device-id {DEMO_ALARM_INPUT} --password {DEMO_SIP_PASSWORD} --alarm"
        );
    }
    println!(
        "xiaoan demo: http://{}/  (data: {}{})",
        running.http_addr,
        data_dir.display(),
        if seeded {
            ", demo data loaded"
        } else {
            ", existing data"
        }
    );
    println!("{}", LOGINS.join("\n"));
    running.run_until_stopped().await;
    Ok(())
}
