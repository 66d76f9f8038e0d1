//! The platform: shared state (registrations, digest nonces, server transactions, channel
//! bindings, pending client requests) and the dispatch of every received SIP message.
//! `REGISTER` is handled in [`crate::register`], `MESSAGE` bodies in [`crate::message`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tokio::time::Instant;
use xiaoan_core::model::Id;
use xiaoan_hub::{DeviceRef, Hub};
use xiaoan_sip::{
    DigestServer, Incoming, Message, Method, Request, Response, ServerTransactions, Timers, new_tag,
};
use xiaoan_store::GbChannelFilter;

use crate::client::{self, ClientError, Identity, Pending};
use crate::config::GbConfig;
use crate::peer::{Outbound, Peer};

/// The source name used in incidents, signals and device health.
pub const SOURCE: &str = "gb28181";

/// A device's live registration.
#[derive(Debug, Clone)]
pub struct Registration {
    pub peer: Peer,
    pub expires_at: DateTime<Utc>,
}

/// Where a channel belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    pub school_id: Id,
    pub alarm_point_id: Id,
    pub one_key: bool,
}

/// The running platform.
pub struct Platform {
    pub(crate) hub: Arc<Hub>,
    pub(crate) config: GbConfig,
    pub(crate) tz: Tz,
    pub(crate) identity: Identity,
    pub(crate) out: Outbound,
    pub(crate) pending: Pending,
    pub(crate) timers: Timers,
    pub(crate) digest: Mutex<DigestServer>,
    pub(crate) server_tx: Mutex<ServerTransactions>,
    pub(crate) registrations: Mutex<HashMap<String, Registration>>,
    pub(crate) bindings: Mutex<HashMap<String, Binding>>,
    /// Device → school from the configuration.
    pub(crate) device_school: HashMap<String, Id>,
    pub(crate) passwords: HashMap<String, String>,
    /// Catalog parts being gathered, by device.
    pub(crate) catalogs: Mutex<HashMap<String, crate::message::CatalogParts>>,
    /// ACKs of established INVITE sessions, by Call-ID, for repeated 2xx responses.
    pub(crate) acks: Mutex<HashMap<String, (Peer, Vec<u8>)>>,
    /// Live sessions waiting for a BYE from the device, by Call-ID.
    pub(crate) byes: Mutex<HashMap<String, tokio::sync::oneshot::Sender<()>>>,
    /// Devices being asked for their catalog and information at once.
    pub(crate) queries: tokio::sync::Semaphore,
    /// Device rows, committed in groups.
    pub(crate) writer: crate::devices_writer::DeviceWriter,
}

impl std::fmt::Debug for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Platform")
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

impl Platform {
    /// The platform for `config`, sending through `out`; `port` is the listening port.
    pub fn new(
        hub: Arc<Hub>,
        config: GbConfig,
        out: Outbound,
        advertise: String,
        port: u16,
    ) -> Result<Arc<Self>, String> {
        let tz = crate::time::zone(&config.timezone)?;
        let digest = DigestServer::new(
            config.domain.clone(),
            config.qop,
            Duration::from_secs(u64::from(config.nonce_secs.max(10))),
        );
        let passwords = config
            .devices
            .iter()
            .filter_map(|d| Some((d.id.clone(), d.password.clone()?)))
            .collect();
        let device_school = config
            .devices
            .iter()
            .filter_map(|d| Some((d.id.clone(), d.school_id?)))
            .collect();
        Ok(Arc::new(Self {
            identity: Identity {
                platform_id: config.platform_id.clone(),
                domain: config.domain.clone(),
                advertise,
                port,
            },
            hub: hub.clone(),
            tz,
            out,
            pending: Pending::default(),
            timers: Timers::default(),
            digest: Mutex::new(digest),
            server_tx: Mutex::new(ServerTransactions::new(Timers::default())),
            registrations: Mutex::default(),
            bindings: Mutex::default(),
            device_school,
            passwords,
            catalogs: Mutex::default(),
            acks: Mutex::default(),
            queries: tokio::sync::Semaphore::new(32),
            byes: Mutex::default(),
            writer: crate::devices_writer::DeviceWriter::start(hub.store().clone()),
            config,
        }))
    }

    /// The device's password: its own, else the platform's (`None`: may not register).
    pub(crate) fn password_of(&self, device_id: &str) -> Option<&str> {
        self.passwords
            .get(device_id)
            .map(String::as_str)
            .or_else(|| (!self.config.password.is_empty()).then_some(self.config.password.as_str()))
    }

    /// Keepalive interval × count: silent longer than this, a device is offline.
    pub(crate) fn supervision_secs(&self) -> i64 {
        i64::from(self.config.keepalive_secs.max(1)) * i64::from(self.config.keepalive_count.max(1))
    }

    pub(crate) fn device_ref(&self, device_id: &str) -> DeviceRef {
        DeviceRef {
            source: SOURCE.into(),
            device: device_id.into(),
            school_id: self.school_of_device(device_id),
            alarm_point_id: self.binding(device_id).map(|b| b.alarm_point_id),
            supervision_secs: Some(self.supervision_secs()),
        }
    }

    /// The school a device belongs to: configured, else that of a channel bound under it.
    pub(crate) fn school_of_device(&self, device_id: &str) -> Option<Id> {
        self.device_school
            .get(device_id)
            .copied()
            .or_else(|| self.binding(device_id).map(|b| b.school_id))
    }

    pub(crate) fn binding(&self, channel_id: &str) -> Option<Binding> {
        self.bindings
            .lock()
            .ok()
            .and_then(|m| m.get(channel_id).copied())
    }

    /// Applies the configured bindings to the store and loads every binding into memory. When
    /// storage cannot be written (a full disk) the configured bindings are used from memory, so
    /// the platform still starts and its alarms are still routed (and refused honestly while the
    /// disk stays full).
    pub async fn load_bindings(&self) -> Result<(), xiaoan_store::StoreError> {
        let store = self.hub.store();
        let now = self.hub.clock().now();
        let mut unsaved = Vec::new();
        for b in &self.config.channels {
            let device = b.device_id.clone().unwrap_or_else(|| b.id.clone());
            let point = self
                .hub
                .directory()
                .await
                .alarm_points
                .get(&b.alarm_point_id)
                .cloned();
            let Some(point) = point else {
                tracing::error!(channel = %b.id, point = b.alarm_point_id, "gb28181 channel bound to an alarm point that does not exist");
                continue;
            };
            match store
                .bind_gb_channel(&b.id, &device, Some(point.school_id), Some(point.id), now)
                .await
            {
                Ok(_) => {}
                Err(xiaoan_store::StoreError::Unavailable(e)) => {
                    tracing::error!(channel = %b.id, error = %e, "gb28181 channel binding not stored (storage failing); used from the configuration");
                    let binding = Binding {
                        school_id: point.school_id,
                        alarm_point_id: point.id,
                        one_key: point.one_key,
                    };
                    unsaved.push((b.id.clone(), binding));
                }
                Err(e) => return Err(e),
            }
        }
        self.reload_bindings().await?;
        if !unsaved.is_empty()
            && let Ok(mut m) = self.bindings.lock()
        {
            m.extend(unsaved);
        }
        Ok(())
    }

    /// Reloads the channel bindings from the store (after an API change).
    pub async fn reload_bindings(&self) -> Result<(), xiaoan_store::StoreError> {
        let channels = self
            .hub
            .store()
            .list_gb_channels(&GbChannelFilter::default())
            .await?;
        let dir = self.hub.directory().await;
        let map: HashMap<String, Binding> = channels
            .into_iter()
            .filter_map(|c| {
                let point = dir.alarm_points.get(&c.alarm_point_id?)?;
                Some((
                    c.id,
                    Binding {
                        school_id: point.school_id,
                        alarm_point_id: point.id,
                        one_key: point.one_key,
                    },
                ))
            })
            .collect();
        if let Ok(mut m) = self.bindings.lock() {
            *m = map;
        }
        Ok(())
    }

    /// Restores registrations still valid from the store (UDP devices only: TCP connections
    /// did not survive the restart), so keepalives and alarms are accepted at once.
    pub async fn restore_registrations(&self) -> Result<usize, xiaoan_store::StoreError> {
        let now = self.hub.clock().now();
        let devices = self.hub.store().list_gb_devices(None).await?;
        let mut n = 0;
        if let Ok(mut regs) = self.registrations.lock() {
            for d in devices {
                let (Some(expires_at), true) = (d.expires_at, d.online) else {
                    continue;
                };
                let Ok(addr) = d.remote.parse() else { continue };
                if expires_at <= now || d.transport != "udp" {
                    continue;
                }
                regs.insert(
                    d.id,
                    Registration {
                        peer: Peer {
                            transport: xiaoan_sip::Transport::Udp,
                            addr,
                            conn: None,
                        },
                        expires_at,
                    },
                );
                n += 1;
            }
        }
        Ok(n)
    }

    /// The live registration of a device.
    pub fn registration(&self, device_id: &str) -> Option<Registration> {
        self.registrations
            .lock()
            .ok()
            .and_then(|m| m.get(device_id).cloned())
    }

    /// Handles one received message from `peer`.
    pub async fn on_message(self: &Arc<Self>, msg: Message, peer: Peer) {
        match msg {
            Message::Response(resp) => {
                if self.reack(&resp).await {
                    return;
                }
                if !self.pending.deliver(resp) {
                    tracing::debug!(%peer.addr, "gb28181: response for no pending request");
                }
            }
            Message::Request(req) => self.on_request(req, peer).await,
        }
    }

    async fn on_request(self: &Arc<Self>, mut req: Request, peer: Peer) {
        if let Some(mut via) = req.headers.top_via() {
            via.set_source(&peer.addr.ip().to_string(), peer.addr.port());
            let rest: Vec<String> = req
                .headers
                .get_all("Via")
                .skip(1)
                .map(str::to_owned)
                .collect();
            req.headers.remove("Via");
            req.headers.push("Via", via.to_string());
            for v in rest {
                req.headers.push("Via", v);
            }
        }
        let incoming = match self.server_tx.lock() {
            Ok(mut t) => t.on_request(Instant::now().into_std(), &req, peer.transport),
            Err(_) => Incoming::New,
        };
        match incoming {
            Incoming::New => {}
            Incoming::Retransmission(Some(resp)) => {
                self.send_raw(&peer, resp.encode()).await;
                return;
            }
            Incoming::Retransmission(None) | Incoming::AckAbsorbed => return,
        }
        let resp = match req.method {
            Method::Register => crate::register::handle(self, &req, peer).await,
            Method::Message | Method::Notify if !req.body.is_empty() => {
                crate::message::handle(self, &req, peer).await
            }
            Method::Options => Some(self.reply(&req, 200)),
            Method::Ack => None,
            Method::Bye => {
                self.device_bye(&req);
                Some(self.reply(&req, 200))
            }
            Method::Cancel | Method::Info | Method::Notify => Some(self.reply(&req, 200)),
            _ => Some(self.reply(&req, 405)),
        };
        if let Some(resp) = resp {
            self.respond(&peer, resp).await;
        }
    }

    /// Tells the session of a BYE's Call-ID that the device ended it.
    fn device_bye(&self, req: &Request) {
        let Some(call_id) = req.headers.call_id() else {
            return;
        };
        if let Ok(mut m) = self.acks.lock() {
            m.remove(call_id);
        }
        let waiting = self.byes.lock().ok().and_then(|mut m| m.remove(call_id));
        match waiting {
            Some(tx) => {
                let _ = tx.send(());
            }
            None => tracing::debug!(call_id, "gb28181: BYE for no live session"),
        }
    }

    /// Resolves when the device sends BYE for the session `call_id`.
    pub fn watch_bye(&self, call_id: &str) -> tokio::sync::oneshot::Receiver<()> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if let Ok(mut m) = self.byes.lock() {
            m.insert(call_id.to_owned(), tx);
        }
        rx
    }

    /// Stops waiting for a BYE of `call_id` (the platform ended the session).
    pub fn forget_bye(&self, call_id: &str) {
        if let Ok(mut m) = self.byes.lock() {
            m.remove(call_id);
        }
    }

    /// The host the platform advertises (SIP headers, and SDP unless `media_advertise` is set).
    pub fn advertise(&self) -> &str {
        &self.identity.advertise
    }

    /// The platform's ID and domain.
    pub fn ids(&self) -> (&str, &str) {
        (&self.identity.platform_id, &self.identity.domain)
    }

    /// A response to `req` with a fresh To tag.
    pub(crate) fn reply(&self, req: &Request, status: u16) -> Response {
        let mut resp = req.response(status, &new_tag(&mut rand::rng()));
        resp.headers.push("User-Agent", "xiaoan");
        resp
    }

    /// Sends a response and records it so a retransmitted request gets it again.
    pub(crate) async fn respond(&self, peer: &Peer, resp: Response) {
        if let Ok(mut t) = self.server_tx.lock() {
            t.record_response(Instant::now().into_std(), &resp);
        }
        self.send_raw(peer, resp.encode()).await;
    }

    async fn send_raw(&self, peer: &Peer, bytes: Vec<u8>) {
        if let Err(e) = self.out.send(peer, bytes).await {
            tracing::warn!(error = %e, "gb28181: could not send");
        }
    }

    /// Sends a MANSCDP MESSAGE to a registered device and waits for its final response.
    pub async fn send_manscdp(
        &self,
        device_id: &str,
        body: &xiaoan_manscdp::Body,
    ) -> Result<Response, CommandError> {
        let reg = self
            .registration(device_id)
            .ok_or_else(|| CommandError::NotRegistered(device_id.to_owned()))?;
        let bytes = body
            .encode(xiaoan_manscdp::Charset::Gb18030)
            .map_err(|e| CommandError::Encode(e.to_string()))?;
        let req = client::build(
            &self.identity,
            &self.pending,
            Method::Message,
            device_id,
            &reg.peer,
            Some(("Application/MANSCDP+xml", bytes)),
        );
        Ok(client::send(&self.out, &self.pending, reg.peer, req, self.timers).await?)
    }

    /// Drops expired nonces and transactions; ends registrations that ran out.
    pub async fn maintain(&self) {
        let now_i = Instant::now().into_std();
        if let Ok(mut d) = self.digest.lock() {
            d.purge(now_i);
        }
        // Only expiry matters here: the platform answers no INVITE with a final response it
        // would have to repeat (devices do not call the platform), so Timer G output is unused.
        if let Ok(mut t) = self.server_tx.lock() {
            t.poll(now_i);
        }
        let now = self.hub.clock().now();
        let mut expired = Vec::new();
        if let Ok(mut m) = self.registrations.lock() {
            m.retain(|id, r| {
                let keep = r.expires_at > now;
                if !keep {
                    expired.push((id.clone(), r.peer));
                }
                keep
            });
        }
        for (id, peer) in expired {
            tracing::warn!(device = %id, "gb28181: registration expired");
            crate::register::mark_offline(self, &id, peer, "注册已过期").await;
        }
    }
}

/// Why a command to a device failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("device {0} is not registered")]
    NotRegistered(String),
    #[error("encode: {0}")]
    Encode(String),
    #[error("{0}")]
    Client(#[from] ClientError),
    #[error("the device answered {0}")]
    Refused(u16),
}
