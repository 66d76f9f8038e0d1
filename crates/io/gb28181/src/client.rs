//! Requests the platform sends to devices (catalog and device-info queries, the alarm
//! `Response`, device control): built with a fresh Call-ID and branch, sent, retransmitted over
//! UDP per RFC 3261 timers by a client transaction, and answered through a pending table the
//! receive loop feeds with responses.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use xiaoan_sip::{
    ClientKey, ClientOutput, ClientTransaction, Method, Request, Response, ResponseAction, Timers,
    new_branch, new_tag, random_hex,
};

use crate::peer::{Outbound, Peer};

/// Why a request got no final answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("send: {0}")]
    Send(#[from] crate::peer::SendError),
    #[error("no final response within {0:?}")]
    Timeout(Duration),
    #[error("transaction: {0}")]
    Transaction(#[from] xiaoan_sip::TransactionError),
}

/// Who the platform is on the wire.
#[derive(Debug, Clone)]
pub struct Identity {
    pub platform_id: String,
    pub domain: String,
    /// Host and port for `Via`/`Contact`.
    pub advertise: String,
    pub port: u16,
}

impl Identity {
    /// A `Via` for a new request to `peer` (fresh branch; `rport` asked for NAT).
    pub fn via(&self, peer: &Peer, rng: &mut impl rand::RngCore) -> String {
        let transport = match peer.transport {
            xiaoan_sip::Transport::Udp => "UDP",
            xiaoan_sip::Transport::Tcp => "TCP",
        };
        format!(
            "SIP/2.0/{transport} {}:{};rport;branch={}",
            self.advertise,
            self.port,
            new_branch(rng)
        )
    }
}

/// Pending client transactions, by key.
#[derive(Debug, Default)]
pub struct Pending {
    waiting: Mutex<HashMap<ClientKey, mpsc::UnboundedSender<Response>>>,
    cseq: AtomicU32,
}

impl Pending {
    /// Hands a response to the transaction waiting for it; false if none is.
    pub fn deliver(&self, resp: Response) -> bool {
        let Some(key) = ClientKey::of_response(&resp) else {
            return false;
        };
        let tx = self.waiting.lock().ok().and_then(|m| m.get(&key).cloned());
        tx.is_some_and(|tx| tx.send(resp).is_ok())
    }

    fn next_cseq(&self) -> u32 {
        self.cseq.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// Builds an out-of-dialog request from the platform to `device_id` at `peer`.
pub fn build(
    id: &Identity,
    pending: &Pending,
    method: Method,
    device_id: &str,
    peer: &Peer,
    body: Option<(&str, Vec<u8>)>,
) -> Request {
    let mut rng = rand::rng();
    let mut req = Request::new(method.clone(), format!("sip:{device_id}@{}", peer.addr));
    let h = &mut req.headers;
    h.push("Via", id.via(peer, &mut rng));
    h.push(
        "From",
        format!(
            "<sip:{}@{}>;tag={}",
            id.platform_id,
            id.domain,
            new_tag(&mut rng)
        ),
    );
    h.push("To", format!("<sip:{device_id}@{}>", id.domain));
    h.push(
        "Call-ID",
        format!("{}@{}", random_hex(&mut rng, 12), id.advertise),
    );
    h.push(
        "CSeq",
        format!("{} {}", pending.next_cseq(), method.as_str()),
    );
    h.push("Max-Forwards", "70");
    h.push(
        "Contact",
        format!("<sip:{}@{}:{}>", id.platform_id, id.advertise, id.port),
    );
    h.push("User-Agent", "xiaoan");
    if let Some((content_type, bytes)) = body {
        h.push("Content-Type", content_type);
        req.body = bytes;
    }
    req
}

/// Sends `req` to `peer` and waits for its final response, retransmitting over UDP.
pub async fn send(
    out: &Outbound,
    pending: &Pending,
    peer: Peer,
    req: Request,
    timers: Timers,
) -> Result<Response, ClientError> {
    let now = Instant::now().into_std();
    let mut tx = ClientTransaction::new(now, req.clone(), peer.transport, timers)?;
    let key = tx.key().clone();
    let (resp_tx, mut resp_rx) = mpsc::unbounded_channel();
    if let Ok(mut m) = pending.waiting.lock() {
        m.insert(key.clone(), resp_tx);
    }
    let result = drive(out, &peer, &req, &mut tx, &mut resp_rx, timers).await;
    if let Ok(mut m) = pending.waiting.lock() {
        m.remove(&key);
    }
    result
}

async fn drive(
    out: &Outbound,
    peer: &Peer,
    req: &Request,
    tx: &mut ClientTransaction,
    responses: &mut mpsc::UnboundedReceiver<Response>,
    timers: Timers,
) -> Result<Response, ClientError> {
    out.send(peer, req.encode()).await?;
    loop {
        let deadline = tx
            .next_deadline()
            .map(Instant::from_std)
            .unwrap_or_else(|| Instant::now() + timers.timeout());
        tokio::select! {
            resp = responses.recv() => {
                let Some(resp) = resp else { return Err(ClientError::Timeout(timers.timeout())) };
                match tx.on_response(Instant::now().into_std(), &resp) {
                    ResponseAction::Deliver if resp.is_final() => return Ok(resp),
                    ResponseAction::DeliverAndAck(ack) => {
                        out.send(peer, ack.encode()).await?;
                        return Ok(resp);
                    }
                    _ => {}
                }
            }
            _ = tokio::time::sleep_until(deadline) => {
                match tx.poll(Instant::now().into_std()) {
                    Some(ClientOutput::Retransmit(again)) => out.send(peer, again.encode()).await?,
                    Some(ClientOutput::Timeout) => return Err(ClientError::Timeout(timers.timeout())),
                    Some(ClientOutput::Terminated) => return Err(ClientError::Timeout(timers.timeout())),
                    None => {}
                }
            }
        }
    }
}
