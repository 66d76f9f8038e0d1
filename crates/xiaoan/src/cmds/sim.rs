//! `xiaoan sim dc09`: a simulated alarm panel. Sends SIA-DCS, ADM-CID or NULL frames (plain or
//! AES) to a DC-09 receiver over TCP or UDP, once or repeatedly at a rate, and prints each reply.
//!
//! `xiaoan sim gb28181`: one or more simulated GB/T 28181 devices (consecutive IDs sharing a few
//! UDP sockets, or one TCP connection each) that register, keep alive, answer the platform's
//! queries and controls, and send alarms on demand; prints what happens in plain lines.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use xiaoan_sia::{Key, XData};
use xiaoan_sim::panel::{Panel, PanelEvent};

/// Flags of `sim`.
#[derive(Debug, Args)]
pub struct SimArgs {
    #[command(subcommand)]
    pub which: Which,
}

/// Which simulator.
#[derive(Debug, Subcommand)]
pub enum Which {
    /// An alarm panel or panic button speaking SIA DC-09.
    Dc09(Box<Dc09Args>),
    /// GB/T 28181 devices (alarm controllers with alarm-input channels) registering to a
    /// platform: keepalives, catalog and queries answered, alarms on demand.
    Gb28181(Box<GbArgs>),
}

/// Flags of `sim dc09`.
#[derive(Debug, Args)]
pub struct Dc09Args {
    /// Receiver address.
    #[arg(long, default_value = "127.0.0.1:9000")]
    pub to: SocketAddr,
    /// Account number (hex digits).
    #[arg(long, default_value = "1111")]
    pub account: String,
    /// AES key as ASCII (16/24/32 characters): send encrypted frames.
    #[arg(long, conflicts_with = "key_hex")]
    pub key: Option<String>,
    /// AES key as hex (32/48/64 digits).
    #[arg(long)]
    pub key_hex: Option<String>,
    /// SIA event code, e.g. PA (panic), HA (hold-up), FA (fire), BA (burglary), RP (test).
    #[arg(long, default_value = "PA", conflicts_with_all = ["cid", "null"])]
    pub event: String,
    /// Contact ID event instead, e.g. 1120 (panic), 1122 (silent panic), 3120 (restore).
    #[arg(long)]
    pub cid: Option<String>,
    /// Send a NULL link test instead of an event.
    #[arg(long)]
    pub null: bool,
    /// Zone or user number.
    #[arg(long, default_value_t = 1)]
    pub zone: u32,
    /// Use UDP instead of TCP.
    #[arg(long)]
    pub udp: bool,
    /// Frames to send.
    #[arg(long, default_value_t = 1)]
    pub count: u32,
    /// Frames per second when sending several.
    #[arg(long, default_value_t = 1.0)]
    pub rate: f64,
    /// First sequence number.
    #[arg(long, default_value_t = 1)]
    pub seq: u16,
    /// Shift the frame timestamp by this many seconds (to test the receiver's window).
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    pub clock_offset: i64,
    /// Longitude sent in an `[X…]` block (WGS-84 degrees, e.g. 109.4869).
    #[arg(long, allow_hyphen_values = true)]
    pub lon: Option<f64>,
    /// Latitude sent in a `[Y…]` block (WGS-84 degrees, e.g. 30.2952).
    #[arg(long, allow_hyphen_values = true)]
    pub lat: Option<f64>,
    /// Verification link sent in a `[V…]` block (e.g. a camera's snapshot URL).
    #[arg(long)]
    pub verify_url: Option<String>,
    /// MAC address sent in an `[M…]` block.
    #[arg(long)]
    pub mac: Option<String>,
    /// Ask the receiver for the account's key with a `[K]` block (it answers with an encrypted
    /// `RSP`; needs --key or --key-hex).
    #[arg(long)]
    pub ask_key: bool,
}

/// The `[X]`, `[Y]`, `[V]`, `[M]` and `[K]` blocks the flags ask for.
fn xdata(a: &Dc09Args) -> Vec<XData> {
    let mut out = Vec::new();
    if let Some(lon) = a.lon {
        out.push(XData::Longitude(format!("{lon:.6}")));
    }
    if let Some(lat) = a.lat {
        out.push(XData::Latitude(format!("{lat:.6}")));
    }
    if let Some(v) = &a.verify_url {
        out.push(XData::VerificationUrl(v.clone()));
    }
    if let Some(m) = &a.mac {
        out.push(XData::Mac(m.clone()));
    }
    if a.ask_key {
        out.push(XData::NewKey(String::new()));
    }
    out
}

/// Runs the chosen simulator.
pub async fn run(args: SimArgs) -> anyhow::Result<()> {
    match args.which {
        Which::Dc09(a) => dc09(*a).await,
        Which::Gb28181(a) => gb28181(*a).await,
    }
}

async fn dc09(a: Dc09Args) -> anyhow::Result<()> {
    let mut panel = Panel::new(&a.account);
    panel.zone = a.zone;
    panel.clock_offset = chrono::Duration::seconds(a.clock_offset);
    panel.xdata = xdata(&a);
    if a.ask_key && panel.key.is_none() {
        anyhow::bail!("--ask-key needs --key or --key-hex: keys travel encrypted only");
    }
    panel.key = match (&a.key, &a.key_hex) {
        (Some(k), _) => Some(Key::from_ascii(k).context("--key")?),
        (_, Some(k)) => Some(Key::from_hex(k).context("--key-hex")?),
        _ => None,
    };
    let event = if a.null {
        PanelEvent::LinkTest
    } else if let Some(cid) = &a.cid {
        PanelEvent::ContactId(cid.clone())
    } else {
        PanelEvent::Sia(a.event.clone())
    };
    let wait = Duration::from_secs(10);
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / a.rate.max(0.001)));
    for i in 0..a.count {
        tick.tick().await;
        let seq = ((u32::from(a.seq) + i - 1) % 9999 + 1) as u16;
        let frame = panel.frame(&event, seq)?;
        let sent = String::from_utf8_lossy(&frame).trim().to_owned();
        let reply = if a.udp {
            panel.send_udp(a.to, &frame, wait).await
        } else {
            panel.send_tcp(a.to, &frame, wait).await
        };
        match reply {
            Ok(r) => {
                println!(
                    "sent {sent}\n  → {} {}",
                    r.kind(),
                    String::from_utf8_lossy(&r.raw).trim()
                );
                for x in r.content.iter().flat_map(|c| &c.xdata) {
                    if let XData::NewKey(k) = x {
                        println!(
                            "  → key handed over: {} hex digits (AES-{})",
                            k.len(),
                            k.len() * 4
                        );
                    }
                }
            }
            Err(e) => println!("sent {sent}\n  → no reply: {e}"),
        }
    }
    Ok(())
}

/// Flags of `sim gb28181`.
#[derive(Debug, Args)]
pub struct GbArgs {
    /// The platform's SIP address.
    #[arg(long, default_value = "127.0.0.1:5060")]
    pub to: SocketAddr,
    /// The device's 20-digit ID (the first of `--devices` consecutive IDs).
    #[arg(long)]
    pub device_id: String,
    /// The registration password.
    #[arg(long)]
    pub password: String,
    /// The 10-digit SIP domain (digest realm); default: the first 10 digits of --platform-id.
    #[arg(long)]
    pub domain: Option<String>,
    /// The platform's 20-digit ID.
    #[arg(long, default_value = "34020000002000000001")]
    pub platform_id: String,
    /// Alarm-input channels per device (IDs derived from the device ID, type 134).
    #[arg(long, default_value_t = 1, conflicts_with = "channel")]
    pub channels: usize,
    /// Explicit channel IDs (repeatable; with --devices, every device gets these).
    #[arg(long)]
    pub channel: Vec<String>,
    /// Keepalive interval in seconds.
    #[arg(long, default_value_t = 60)]
    pub keepalive: u64,
    /// Registration lifetime asked for, in seconds.
    #[arg(long, default_value_t = 3600)]
    pub expires: u32,
    /// Seconds to wait after a failed registration before trying again.
    #[arg(long, default_value_t = 60)]
    pub retry: u64,
    /// One TCP connection per device instead of shared UDP sockets.
    #[arg(long)]
    pub tcp: bool,
    /// UDP sockets shared by the devices.
    #[arg(long, default_value_t = 1)]
    pub sockets: usize,
    /// UTF-8 bodies instead of GB2312.
    #[arg(long)]
    pub utf8: bool,
    /// Simulated devices with consecutive IDs from --device-id.
    #[arg(long, default_value_t = 1)]
    pub devices: usize,
    /// Send an alarm from every device once registered.
    #[arg(long)]
    pub alarm: bool,
    /// `AlarmPriority`, 1 (highest) to 4.
    #[arg(long, default_value_t = 1)]
    pub alarm_priority: u8,
    /// `AlarmMethod`: 1 telephone/one-key, 2 device, 5 video, 6 device fault, 7 other.
    #[arg(long, default_value = "2")]
    pub alarm_method: String,
    /// `Info/AlarmType` (by method, e.g. method 5 type 6 = intrusion).
    #[arg(long)]
    pub alarm_type: Option<u32>,
    /// The channel the alarm is about; default: the device's first channel.
    #[arg(long)]
    pub alarm_channel: Option<String>,
    /// `AlarmDescription`.
    #[arg(long, default_value = "模拟报警")]
    pub alarm_description: String,
    /// `Longitude` (WGS-84 degrees).
    #[arg(long, allow_hyphen_values = true)]
    pub lon: Option<f64>,
    /// `Latitude` (WGS-84 degrees).
    #[arg(long, allow_hyphen_values = true)]
    pub lat: Option<f64>,
    /// Keep running this many seconds (keepalives, answers), then stop; without it and without
    /// --alarm, run until Ctrl-C.
    #[arg(long)]
    pub run_secs: Option<u64>,
    /// How to stop: `unregister` (Expires: 0) or `silent` (just stop sending keepalives, so
    /// the platform marks the devices offline).
    #[arg(long, default_value = "unregister", value_parser = ["unregister", "silent"])]
    pub stop: String,
    /// Seconds to wait for every device to register.
    #[arg(long, default_value_t = 30)]
    pub register_timeout: u64,
}

async fn gb28181(a: GbArgs) -> anyhow::Result<()> {
    use xiaoan_sim::gb_device::{self, AlarmSpec, DeviceSpec, FleetConfig, Profile, StopMode};

    anyhow::ensure!(a.devices >= 1, "--devices must be at least 1");
    let domain = match &a.domain {
        Some(d) => d.clone(),
        None => a.platform_id.chars().take(10).collect(),
    };
    let ids = gb_device::consecutive_ids(&a.device_id, a.devices)?;
    let devices = ids
        .iter()
        .map(|id| {
            let channels = if a.channel.is_empty() {
                gb_device::channel_ids(id, a.channels)?
            } else {
                a.channel.clone()
            };
            Ok(DeviceSpec {
                id: id.clone(),
                channels,
            })
        })
        .collect::<Result<Vec<_>, gb_device::SimError>>()?;
    let cfg = FleetConfig {
        to: a.to,
        profile: Profile {
            platform_id: a.platform_id.clone(),
            domain,
            password: a.password.clone(),
            keepalive: Duration::from_secs(a.keepalive.max(1)),
            expires: a.expires,
            retry_after: Duration::from_secs(a.retry.max(1)),
            charset: if a.utf8 {
                gb_device::Charset::Utf8
            } else {
                gb_device::Charset::Gb18030
            },
            transport: if a.tcp {
                gb_device::Transport::Tcp
            } else {
                gb_device::Transport::Udp
            },
            spread_keepalives: a.devices > 1,
        },
        devices,
        sockets: a.sockets,
        register_window: 200,
    };
    let n = cfg.devices.len();
    // With many devices, routine keepalives would drown the rest: print them only for a few.
    let chatty = n <= 5;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<gb_device::Event>();
    let printer = tokio::spawn(async move {
        while let Some(e) = rx.recv().await {
            if chatty || !matches!(e.kind, gb_device::EventKind::KeepaliveOk { .. }) {
                println!("{e}");
            }
        }
    });
    println!(
        "{n} device(s) from {} → {} over {}",
        a.device_id,
        a.to,
        if a.tcp { "TCP" } else { "UDP" }
    );
    let fleet = gb_device::start(cfg, Some(tx)).await?;
    let (report, all) = fleet
        .wait_until(Duration::from_secs(a.register_timeout), |r| {
            r.registered() == n
        })
        .await?;
    if let Some(t) = report.time_to_register_all() {
        println!("all {n} registered in {:.1} ms", t.as_secs_f64() * 1000.0);
    }
    let mut failed = false;
    if !all {
        println!("only {}/{n} registered", report.registered());
        failed = true;
    }
    if a.alarm {
        let spec = AlarmSpec {
            channel: a.alarm_channel.clone(),
            priority: a.alarm_priority,
            method: a.alarm_method.clone(),
            alarm_type: a.alarm_type,
            description: Some(a.alarm_description.clone()).filter(|d| !d.is_empty()),
            longitude: a.lon,
            latitude: a.lat,
        };
        let mut sent = 0;
        for (i, id) in ids.iter().enumerate() {
            match fleet.alarm(i, spec.clone()).await {
                Ok(_) => sent += 1,
                Err(e) => println!("{id}: alarm not sent: {e}"),
            }
        }
        // 64·T1 = 32 s for the 200, then a little for the platform's Response.
        let (report, done) = fleet
            .wait_until(Duration::from_secs(40), |r| {
                r.devices
                    .iter()
                    .flat_map(|d| &d.alarms)
                    .all(|al| al.timed_out || al.to_response.is_some())
            })
            .await?;
        let alarms: Vec<_> = report.devices.iter().flat_map(|d| &d.alarms).collect();
        let complete = alarms
            .iter()
            .filter(|al| {
                al.status.is_some_and(|s| (200..300).contains(&s)) && al.to_response.is_some()
            })
            .count();
        println!(
            "alarms: {sent} sent, {complete} answered 200 and confirmed by the platform's Response"
        );
        if !done || complete < n {
            failed = true;
        }
    }
    if let Some(secs) = a.run_secs {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(secs)) => {}
            _ = tokio::signal::ctrl_c() => println!("interrupted"),
        }
    } else if !a.alarm {
        println!("running until Ctrl-C");
        let _ = tokio::signal::ctrl_c().await;
    }
    if a.stop == "silent" {
        fleet.stop(StopMode::Silent).await?;
        println!("stopped sending: the platform should mark the device(s) offline");
    } else {
        fleet.stop(StopMode::Unregister).await?;
        let (r, _) = fleet
            .wait_until(Duration::from_secs(10), |r| r.registered() == 0)
            .await?;
        println!(
            "{}/{n} still registered after unregistering",
            r.registered()
        );
    }
    let r = fleet.report().await?;
    println!(
        "summary: {} registrations, {} register failures; keepalives {} sent, {} acknowledged, {} failed; {} platform requests answered",
        r.devices.iter().map(|d| d.registrations).sum::<u32>(),
        r.register_failures(),
        r.keepalives_sent(),
        r.keepalives_ok(),
        r.keepalives_failed(),
        r.devices.iter().map(|d| d.requests_answered).sum::<u64>(),
    );
    fleet.shutdown().await;
    let _ = printer.await;
    anyhow::ensure!(!failed, "the devices did not complete what was asked");
    Ok(())
}
