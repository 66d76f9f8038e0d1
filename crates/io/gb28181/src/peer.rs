//! Where a SIP message came from and how to send one back: the UDP socket, or the TCP
//! connection a device registered over (devices behind NAT are reached over that same
//! connection).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use xiaoan_sip::Transport;

/// The far end of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    pub transport: Transport,
    pub addr: SocketAddr,
    /// The TCP connection it arrived on.
    pub conn: Option<u64>,
}

impl Peer {
    /// `"udp"` or `"tcp"`.
    pub fn transport_name(&self) -> &'static str {
        match self.transport {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        }
    }
}

/// Why a message could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("udp send to {0}: {1}")]
    Udp(SocketAddr, std::io::Error),
    #[error("the TCP connection to {0} is closed")]
    TcpClosed(SocketAddr),
    #[error("no UDP socket")]
    NoUdp,
}

/// Sends bytes to peers: over the UDP socket, or into a TCP connection's writer queue.
#[derive(Debug, Default, Clone)]
pub struct Outbound {
    udp: Option<Arc<UdpSocket>>,
    tcp: Arc<Mutex<HashMap<u64, mpsc::Sender<Vec<u8>>>>>,
}

impl Outbound {
    pub fn new(udp: Option<Arc<UdpSocket>>) -> Self {
        Self {
            udp,
            tcp: Arc::default(),
        }
    }

    /// Registers a TCP connection's writer queue.
    pub fn add_conn(&self, id: u64, tx: mpsc::Sender<Vec<u8>>) {
        if let Ok(mut m) = self.tcp.lock() {
            m.insert(id, tx);
        }
    }

    /// Forgets a closed TCP connection.
    pub fn remove_conn(&self, id: u64) {
        if let Ok(mut m) = self.tcp.lock() {
            m.remove(&id);
        }
    }

    /// Sends `bytes` to `peer`.
    pub async fn send(&self, peer: &Peer, bytes: Vec<u8>) -> Result<(), SendError> {
        match (peer.transport, peer.conn) {
            (Transport::Tcp, Some(id)) => {
                let tx = self.tcp.lock().ok().and_then(|m| m.get(&id).cloned());
                match tx {
                    Some(tx) => tx
                        .send(bytes)
                        .await
                        .map_err(|_| SendError::TcpClosed(peer.addr)),
                    None => Err(SendError::TcpClosed(peer.addr)),
                }
            }
            (Transport::Tcp, None) => Err(SendError::TcpClosed(peer.addr)),
            (Transport::Udp, _) => {
                let udp = self.udp.as_ref().ok_or(SendError::NoUdp)?;
                udp.send_to(&bytes, peer.addr)
                    .await
                    .map(drop)
                    .map_err(|e| SendError::Udp(peer.addr, e))
            }
        }
    }
}
