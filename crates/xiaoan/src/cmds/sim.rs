//! `xiaoan sim dc09`: a simulated alarm panel. Sends SIA-DCS, ADM-CID or NULL frames (plain or
//! AES) to a DC-09 receiver over TCP or UDP, once or repeatedly at a rate, and prints each reply.

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
    Dc09(Dc09Args),
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
        Which::Dc09(a) => dc09(a).await,
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
