//! The I/O of a simulated fleet: a small pool of UDP sockets (or one TCP connection per device),
//! reader tasks that parse what arrives, and one driver task that owns every [`Device`],
//! routes each message with the [`Demux`], fires the devices' timers from a deadline heap, and
//! starts registrations a window at a time. [`FleetHandle`] talks to the driver. For live
//! video the driver opens a media socket when an INVITE arrives (its port goes into the answer)
//! and runs one sender task per stream ([`super::media`]).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use xiaoan_media::Frame;
use xiaoan_sip::{DEFAULT_MAX_MESSAGE_LEN, Message, StreamReader, is_keepalive, parse_datagram};

use super::demux::Demux;
use super::device::{Device, MediaCmd, RegState};
use super::media::Prepared;
use super::report::{Event, EventKind, FleetReport};
use super::sdp::Offer;
use super::{AlarmSpec, FleetConfig, SimError, Transport};

/// How to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopMode {
    /// Cease everything (keepalives, refreshes, answers): the platform should mark the devices
    /// offline after their missed keepalives.
    Silent,
    /// Unregister each registered device (`Expires: 0`).
    Unregister,
}

enum Command {
    Alarm {
        device: usize,
        spec: AlarmSpec,
        reply: oneshot::Sender<Result<u32, SimError>>,
    },
    Report(oneshot::Sender<FleetReport>),
    Stop(StopMode),
    HangUp {
        device: usize,
        reply: oneshot::Sender<Result<usize, SimError>>,
    },
}

/// Talks to a running fleet. Dropping it stops the fleet (without unregistering).
#[derive(Debug)]
pub struct FleetHandle {
    cmds: mpsc::Sender<Command>,
    task: JoinHandle<()>,
    ids: Vec<String>,
}

impl FleetHandle {
    /// The device IDs, by index.
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// Sends an alarm from device `device` (an index into [`FleetHandle::ids`]); returns its SN.
    pub async fn alarm(&self, device: usize, spec: AlarmSpec) -> Result<u32, SimError> {
        let (reply, rx) = oneshot::channel();
        self.cmds
            .send(Command::Alarm {
                device,
                spec,
                reply,
            })
            .await
            .map_err(|_| SimError::Stopped)?;
        rx.await.map_err(|_| SimError::Stopped)?
    }

    /// Device `device` ends its live-video sessions with BYE; returns how many it ended.
    pub async fn hang_up(&self, device: usize) -> Result<usize, SimError> {
        let (reply, rx) = oneshot::channel();
        self.cmds
            .send(Command::HangUp { device, reply })
            .await
            .map_err(|_| SimError::Stopped)?;
        rx.await.map_err(|_| SimError::Stopped)?
    }

    /// Every device's counters now.
    pub async fn report(&self) -> Result<FleetReport, SimError> {
        let (reply, rx) = oneshot::channel();
        self.cmds
            .send(Command::Report(reply))
            .await
            .map_err(|_| SimError::Stopped)?;
        rx.await.map_err(|_| SimError::Stopped)
    }

    /// Polls the report until `done` holds or `timeout` passes; returns the last report and
    /// whether `done` held.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        done: impl Fn(&FleetReport) -> bool,
    ) -> Result<(FleetReport, bool), SimError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let r = self.report().await?;
            if done(&r) {
                return Ok((r, true));
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok((r, false));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the devices (see [`StopMode`]); the fleet keeps running so an unregistration can
    /// be waited for with [`FleetHandle::wait_until`].
    pub async fn stop(&self, mode: StopMode) -> Result<(), SimError> {
        self.cmds
            .send(Command::Stop(mode))
            .await
            .map_err(|_| SimError::Stopped)
    }

    /// Ends the fleet: closes its sockets.
    pub async fn shutdown(self) {
        drop(self.cmds);
        let _ = self.task.await;
    }
}

enum Link {
    Udp(Arc<UdpSocket>),
    Tcp(mpsc::UnboundedSender<Vec<u8>>),
}

/// Opens the sockets, creates the devices and starts registering them (at most
/// `register_window` at a time). Events go to `events` when given.
pub async fn start(
    cfg: FleetConfig,
    events: Option<mpsc::UnboundedSender<Event>>,
) -> Result<FleetHandle, SimError> {
    start_with_clip(cfg, events, None).await
}

/// [`start`], the cameras sending `clip` (e.g. [`super::media::padded_clip`]) instead of the
/// shipped clip when given.
pub async fn start_with_clip(
    cfg: FleetConfig,
    events: Option<mpsc::UnboundedSender<Event>>,
    clip: Option<Arc<[Frame]>>,
) -> Result<FleetHandle, SimError> {
    let profile = Arc::new(cfg.profile.clone());
    let mut rng = StdRng::from_os_rng();
    let (in_tx, in_rx) = mpsc::channel::<(usize, Message)>(8192);
    let mut links = Vec::new();
    let mut locals = Vec::new();
    let mut tasks = Vec::new();
    match profile.transport {
        Transport::Udp => {
            let ip = local_ip_towards(cfg.to)?;
            for link in 0..cfg.sockets.clamp(1, cfg.devices.len().max(1)) {
                let socket = Arc::new(UdpSocket::bind(SocketAddr::new(ip, 0)).await?);
                locals.push(socket.local_addr()?);
                tasks.push(tokio::spawn(read_udp(socket.clone(), link, in_tx.clone())));
                links.push(Link::Udp(socket));
            }
        }
        Transport::Tcp => {
            for link in 0..cfg.devices.len() {
                let stream = TcpStream::connect(cfg.to).await?;
                stream.set_nodelay(true)?;
                locals.push(stream.local_addr()?);
                let (r, w) = stream.into_split();
                let (out_tx, out_rx) = mpsc::unbounded_channel();
                tasks.push(tokio::spawn(read_tcp(r, link, in_tx.clone())));
                tasks.push(tokio::spawn(write_tcp(w, out_rx)));
                links.push(Link::Tcp(out_tx));
            }
        }
    }
    drop(in_tx);
    let mut devices = Vec::with_capacity(cfg.devices.len());
    let mut demux = Demux::new();
    for (i, spec) in cfg.devices.iter().enumerate() {
        let local = locals
            .get(i % locals.len().max(1))
            .copied()
            .ok_or(SimError::Stopped)?;
        let d = Device::new(spec, profile.clone(), local, cfg.to, &mut rng)?;
        demux.add(
            i,
            d.call_ids(),
            std::iter::once(d.id()).chain(d.channels().iter().map(String::as_str)),
        );
        devices.push(d);
    }
    let ids = devices.iter().map(|d| d.id().to_owned()).collect();
    let n = devices.len();
    let (cmd_tx, cmd_rx) = mpsc::channel(64);
    let driver = Driver {
        locals,
        prepared: HashMap::new(),
        streams: HashMap::new(),
        clip,
        scheduled: vec![None; n],
        initial: vec![false; n],
        waiting: (0..n).collect(),
        in_flight: 0,
        window: cfg.register_window.max(1),
        devices,
        links,
        to: cfg.to,
        demux,
        heap: BinaryHeap::new(),
        events,
        rng,
        started_at: None,
        all_registered_at: None,
        first_registered: 0,
    };
    let task = tokio::spawn(driver.run(in_rx, cmd_rx, tasks));
    Ok(FleetHandle {
        cmds: cmd_tx,
        task,
        ids,
    })
}

/// The local IP the OS would use to reach `to` (so Via and Contact carry a real address).
fn local_ip_towards(to: SocketAddr) -> Result<IpAddr, SimError> {
    let any: IpAddr = if to.is_ipv4() {
        Ipv4Addr::UNSPECIFIED.into()
    } else {
        Ipv6Addr::UNSPECIFIED.into()
    };
    let probe = std::net::UdpSocket::bind(SocketAddr::new(any, 0))?;
    probe.connect(to)?;
    Ok(probe.local_addr()?.ip())
}

async fn read_udp(socket: Arc<UdpSocket>, link: usize, tx: mpsc::Sender<(usize, Message)>) {
    let mut buf = vec![0u8; 65_536];
    loop {
        let Ok((len, _from)) = socket.recv_from(&mut buf).await else {
            // ICMP port unreachable surfaces here on some systems; keep reading.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let Some(data) = buf.get(..len) else { continue };
        if is_keepalive(data) {
            continue;
        }
        if let Ok(msg) = parse_datagram(data)
            && tx.send((link, msg)).await.is_err()
        {
            return;
        }
    }
}

async fn read_tcp(
    mut r: tokio::net::tcp::OwnedReadHalf,
    link: usize,
    tx: mpsc::Sender<(usize, Message)>,
) {
    let mut reader = StreamReader::new(DEFAULT_MAX_MESSAGE_LEN);
    let mut buf = vec![0u8; 16_384];
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => reader.feed(buf.get(..n).unwrap_or_default()),
        }
        while let Some(m) = reader.next_message() {
            if let Ok(msg) = m
                && tx.send((link, msg)).await.is_err()
            {
                return;
            }
        }
    }
}

async fn write_tcp(
    mut w: tokio::net::tcp::OwnedWriteHalf,
    mut rx: mpsc::UnboundedReceiver<Vec<u8>>,
) {
    while let Some(bytes) = rx.recv().await {
        if w.write_all(&bytes).await.is_err() {
            return;
        }
    }
}

struct Driver {
    devices: Vec<Device>,
    /// Local addresses of the links (media sockets are opened on their IP).
    locals: Vec<SocketAddr>,
    /// Media sockets opened for answered INVITEs, by Call-ID, until their ACK.
    prepared: HashMap<String, Prepared>,
    /// Running streams, by Call-ID.
    streams: HashMap<String, JoinHandle<()>>,
    /// What the cameras send instead of the shipped clip.
    clip: Option<Arc<[Frame]>>,
    links: Vec<Link>,
    to: SocketAddr,
    demux: Demux,
    /// (deadline, device) entries; an entry counts only while it equals `scheduled[device]`.
    heap: BinaryHeap<Reverse<(Instant, usize)>>,
    scheduled: Vec<Option<Instant>>,
    /// Devices whose first registration is in progress.
    initial: Vec<bool>,
    waiting: VecDeque<usize>,
    in_flight: usize,
    window: usize,
    events: Option<mpsc::UnboundedSender<Event>>,
    rng: StdRng,
    started_at: Option<Instant>,
    all_registered_at: Option<Instant>,
    first_registered: usize,
}

impl Driver {
    async fn run(
        mut self,
        mut inbound: mpsc::Receiver<(usize, Message)>,
        mut cmds: mpsc::Receiver<Command>,
        tasks: Vec<JoinHandle<()>>,
    ) {
        self.fill_window().await;
        loop {
            let next = self.heap.peek().map(|Reverse((t, _))| *t);
            tokio::select! {
                m = inbound.recv() => match m {
                    Some((link, msg)) => self.on_message(link, msg).await,
                    None => break,
                },
                c = cmds.recv() => match c {
                    Some(c) => self.on_command(c).await,
                    None => break,
                },
                () = sleep_until(next) => self.on_timers().await,
            }
        }
        for t in tasks {
            t.abort();
        }
        for (_, t) in self.streams.drain() {
            t.abort();
        }
    }

    async fn on_message(&mut self, link: usize, msg: Message) {
        let now = Instant::now();
        let index = match self.links.get(link) {
            Some(Link::Tcp(_)) => Some(link),
            _ => self.demux.route(&msg),
        };
        let Some(i) = index else { return };
        let media_port = match &msg {
            Message::Request(r) if r.method == xiaoan_sip::Method::Invite => {
                let ip = self
                    .locals
                    .get(link)
                    .or(self.locals.first())
                    .map(|a| a.ip())
                    .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
                self.prepare(r, ip).await
            }
            _ => None,
        };
        let Some(d) = self.devices.get_mut(i) else {
            return;
        };
        match &msg {
            Message::Request(r) => d.on_request_with_port(now, r, media_port, &mut self.rng),
            Message::Response(r) => d.on_response(now, r, &mut self.rng),
        }
        self.touch(i).await;
    }

    /// Opens (once per Call-ID) the media socket an INVITE's offer needs; its port.
    async fn prepare(&mut self, req: &xiaoan_sip::Request, ip: IpAddr) -> Option<u16> {
        let call_id = req.headers.call_id()?.to_owned();
        if let Some(p) = self.prepared.get(&call_id) {
            return Some(p.port());
        }
        let offer = Offer::parse(&String::from_utf8_lossy(&req.body))?;
        let p = Prepared::open(offer.mode, ip).await.ok()?;
        let port = p.port();
        self.prepared.insert(call_id, p);
        Some(port)
    }

    fn on_media(&mut self, cmd: MediaCmd) {
        match cmd {
            MediaCmd::Start {
                call_id,
                dest,
                ssrc,
                ..
            } => {
                let Some(p) = self.prepared.remove(&call_id) else {
                    return;
                };
                let clip = self.clip.clone();
                let task = tokio::spawn(async move {
                    if let Err(e) = super::media::stream(p, dest, ssrc, clip).await {
                        tracing_note(&e);
                    }
                });
                if let Some(old) = self.streams.insert(call_id, task) {
                    old.abort();
                }
            }
            MediaCmd::Stop { call_id } => {
                self.prepared.remove(&call_id);
                if let Some(t) = self.streams.remove(&call_id) {
                    t.abort();
                }
            }
        }
    }

    async fn on_command(&mut self, c: Command) {
        let now = Instant::now();
        match c {
            Command::Alarm {
                device,
                spec,
                reply,
            } => {
                let r = match self.devices.get_mut(device) {
                    Some(d) => d.send_alarm(now, &spec, &mut self.rng),
                    None => Err(SimError::NoDevice(device.to_string())),
                };
                if r.is_ok() {
                    self.touch(device).await;
                }
                let _ = reply.send(r);
            }
            Command::HangUp { device, reply } => {
                let r = match self.devices.get_mut(device) {
                    Some(d) => Ok(d.hang_up(now, &mut self.rng)),
                    None => Err(SimError::NoDevice(device.to_string())),
                };
                self.touch(device).await;
                let _ = reply.send(r);
            }
            Command::Report(reply) => {
                let _ = reply.send(FleetReport {
                    devices: self.devices.iter().map(|d| d.report().clone()).collect(),
                    started_at: self.started_at,
                    all_registered_at: self.all_registered_at,
                });
            }
            Command::Stop(mode) => {
                self.waiting.clear();
                for i in 0..self.devices.len() {
                    if let Some(d) = self.devices.get_mut(i) {
                        match mode {
                            StopMode::Silent => d.silence(),
                            StopMode::Unregister => {
                                if matches!(d.state(), RegState::Registered | RegState::Registering)
                                {
                                    d.unregister(now, &mut self.rng);
                                } else {
                                    d.silence();
                                }
                            }
                        }
                    }
                    self.touch(i).await;
                }
            }
        }
    }

    async fn on_timers(&mut self) {
        let now = Instant::now();
        while let Some(Reverse((t, i))) = self.heap.peek().copied() {
            if t > now {
                break;
            }
            self.heap.pop();
            if self.scheduled.get(i).copied().flatten() != Some(t) {
                continue;
            }
            if let Some(s) = self.scheduled.get_mut(i) {
                *s = None;
            }
            if let Some(d) = self.devices.get_mut(i) {
                d.poll(now, &mut self.rng);
            }
            self.touch(i).await;
        }
    }

    /// Starts first registrations while fewer than `window` are in progress.
    async fn fill_window(&mut self) {
        while self.in_flight < self.window {
            let Some(i) = self.waiting.pop_front() else {
                return;
            };
            let now = Instant::now();
            self.started_at.get_or_insert(now);
            if let Some(d) = self.devices.get_mut(i) {
                d.register(now, &mut self.rng);
                self.in_flight += 1;
                if let Some(f) = self.initial.get_mut(i) {
                    *f = true;
                }
            }
            Box::pin(self.touch(i)).await;
        }
    }

    /// After device `i` did something: send its bytes, pass on its events, reschedule it, and
    /// keep the registration window full.
    async fn touch(&mut self, i: usize) {
        let Some(d) = self.devices.get_mut(i) else {
            return;
        };
        let (out, events) = d.take_output();
        let media = d.take_media();
        let next = d.next_deadline();
        let state = d.state();
        let id = d.id().to_owned();
        for cmd in media {
            self.on_media(cmd);
        }
        let link = match self.links.len() {
            0 => None,
            n if matches!(self.links.first(), Some(Link::Tcp(_))) => self.links.get(i.min(n - 1)),
            n => self.links.get(i % n),
        };
        for bytes in out {
            let sent = match link {
                Some(Link::Udp(s)) => s.send_to(&bytes, self.to).await.map(|_| ()),
                Some(Link::Tcp(tx)) => tx
                    .send(bytes)
                    .map_err(|_| std::io::Error::other("connection closed")),
                None => Ok(()),
            };
            if let Err(e) = sent {
                self.emit(&id, EventKind::Note(format!("send failed: {e}")));
            }
        }
        for e in events {
            if matches!(e, EventKind::Registered { .. })
                && self
                    .devices
                    .get(i)
                    .is_some_and(|d| d.report().registrations == 1)
            {
                self.first_registered += 1;
                if self.first_registered == self.devices.len() {
                    self.all_registered_at = Some(Instant::now());
                }
            }
            self.emit(&id, e);
        }
        if let Some(t) = next {
            let slot = self.scheduled.get_mut(i);
            if let Some(slot) = slot
                && slot.is_none_or(|s| t < s)
            {
                *slot = Some(t);
                self.heap.push(Reverse((t, i)));
            }
        }
        if self.initial.get(i).copied().unwrap_or(false) && state != RegState::Registering {
            if let Some(f) = self.initial.get_mut(i) {
                *f = false;
            }
            self.in_flight = self.in_flight.saturating_sub(1);
            Box::pin(self.fill_window()).await;
        }
    }

    fn emit(&self, device: &str, kind: EventKind) {
        if let Some(tx) = &self.events {
            let _ = tx.send(Event {
                device: device.to_owned(),
                kind,
            });
        }
    }
}

/// A stream that could not run (the platform did not connect, a TCP connection failed): it just
/// ends; the platform notices the missing media.
fn tracing_note(_e: &std::io::Error) {}

async fn sleep_until(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(tokio::time::Instant::from_std(t)).await,
        None => std::future::pending().await,
    }
}
