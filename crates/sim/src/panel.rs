//! A simulated DC-09 alarm panel: builds SIA-DCS / ADM-CID / NULL frames (plain or AES) with the
//! codec's encoder, sends them over TCP or UDP and reads the receiver's reply. Used by
//! `xiaoan sim dc09`, the demo instructions, the tests and the benchmark.

use std::net::SocketAddr;
use std::time::Duration;

use chrono::Utc;
use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use xiaoan_sia::{Body, Content, Decoder, Frame, Header, Key, Request, Token, XData, open};

/// What the panel reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PanelEvent {
    /// SIA DC-03 code, e.g. `PA` (panic), `BA` (burglary), `RP` (periodic test).
    Sia(String),
    /// Contact ID event code with qualifier, e.g. `1120` (new panic), `3120` (restore).
    ContactId(String),
    /// A `NULL` link test.
    LinkTest,
    /// Raw SIA-DCS data, sent as given after `#acct|`.
    Raw(String),
}

/// A simulated panel.
#[derive(Debug, Clone)]
pub struct Panel {
    pub account: String,
    pub receiver: Option<String>,
    pub line: String,
    pub key: Option<Key>,
    /// Zone (or user) number reported with events.
    pub zone: u32,
    /// Offset added to the frame timestamp (to test the receiver's window).
    pub clock_offset: chrono::Duration,
    /// Extra data blocks sent with every frame (`[X…]`, `[Y…]`, `[V…]`, `[M…]`, `[K]`).
    pub xdata: Vec<XData>,
}

/// Why the panel could not talk to the receiver.
#[derive(Debug, Error)]
pub enum PanelError {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("encode: {0}")]
    Encode(String),
    #[error("no reply within {0:?}")]
    Timeout(Duration),
    #[error("reply is not a DC-09 frame: {0}")]
    BadReply(String),
}

/// The receiver's answer.
#[derive(Debug, Clone)]
pub struct PanelReply {
    pub frame: Frame,
    /// For encrypted replies: the decrypted content (its timestamp is the receiver's time).
    pub content: Option<Content>,
    pub raw: Vec<u8>,
}

impl PanelReply {
    /// `ACK`, `NAK`, `DUH` or `RSP`.
    pub fn kind(&self) -> &'static str {
        match self.frame.token {
            Token::Ack => "ACK",
            Token::Nak => "NAK",
            Token::Duh => "DUH",
            Token::Rsp => "RSP",
            _ => "other",
        }
    }
}

impl Panel {
    /// A plain panel for `account`.
    pub fn new(account: &str) -> Self {
        Self {
            account: account.into(),
            receiver: Some("1".into()),
            line: "1".into(),
            key: None,
            zone: 1,
            clock_offset: chrono::Duration::zero(),
            xdata: Vec::new(),
        }
    }

    /// The frame for `event` with sequence `seq`.
    pub fn frame(&self, event: &PanelEvent, seq: u16) -> Result<Vec<u8>, PanelError> {
        let (token, data) = match event {
            PanelEvent::Sia(code) => (
                Token::SiaDcs,
                format!("#{}|Nri1/{}{:03}", self.account, code, self.zone),
            ),
            PanelEvent::ContactId(code) => (
                Token::AdmCid,
                format!("#{}|{} 01 {:03}", self.account, code, self.zone),
            ),
            PanelEvent::LinkTest => (Token::Null, String::new()),
            PanelEvent::Raw(data) => (Token::SiaDcs, format!("#{}|{}", self.account, data)),
        };
        let timestamp = (self.key.is_some() || self.clock_offset != chrono::Duration::zero())
            .then(|| (Utc::now() + self.clock_offset).naive_utc());
        let request = Request {
            token,
            header: Header {
                seq,
                receiver: self.receiver.clone(),
                line: self.line.clone(),
                account: self.account.clone(),
            },
            content: Content {
                data,
                xdata: self.xdata.clone(),
                timestamp,
            },
        };
        let encoded = match &self.key {
            Some(key) => request.encode_encrypted(key, &mut rand::rng()),
            None => request.encode(),
        };
        encoded.map_err(|e| PanelError::Encode(e.to_string()))
    }

    fn read_reply(&self, bytes: &[u8]) -> Result<PanelReply, PanelError> {
        let frame = Decoder::new()
            .parse_datagram(bytes)
            .map_err(|e| PanelError::BadReply(e.to_string()))?;
        let content = match (&frame.body, &self.key) {
            (Body::Encrypted(_), Some(key)) => {
                Some(open(&frame, Some(key)).map_err(|e| PanelError::BadReply(e.to_string()))?)
            }
            _ => None,
        };
        Ok(PanelReply {
            frame,
            content,
            raw: bytes.to_vec(),
        })
    }

    /// Sends one frame over an open TCP connection and reads the reply.
    pub async fn exchange_tcp(
        &self,
        stream: &mut TcpStream,
        frame: &[u8],
        wait: Duration,
    ) -> Result<PanelReply, PanelError> {
        stream.write_all(frame).await?;
        let mut buf = Vec::with_capacity(256);
        let mut chunk = [0u8; 512];
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let n = tokio::time::timeout_at(deadline, stream.read(&mut chunk))
                .await
                .map_err(|_| PanelError::Timeout(wait))??;
            if n == 0 {
                return Err(PanelError::BadReply("connection closed".into()));
            }
            buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
            if buf.contains(&b'\r') {
                return self.read_reply(&buf);
            }
        }
    }

    /// Connects, sends one frame over TCP, reads the reply.
    pub async fn send_tcp(
        &self,
        to: SocketAddr,
        frame: &[u8],
        wait: Duration,
    ) -> Result<PanelReply, PanelError> {
        let mut stream = TcpStream::connect(to).await?;
        stream.set_nodelay(true)?;
        self.exchange_tcp(&mut stream, frame, wait).await
    }

    /// Sends one frame as a UDP datagram and waits for the reply.
    pub async fn send_udp(
        &self,
        to: SocketAddr,
        frame: &[u8],
        wait: Duration,
    ) -> Result<PanelReply, PanelError> {
        let socket = UdpSocket::bind("127.0.0.1:0").await?;
        socket.send_to(frame, to).await?;
        let mut buf = [0u8; 2048];
        let (n, _) = tokio::time::timeout(wait, socket.recv_from(&mut buf))
            .await
            .map_err(|_| PanelError::Timeout(wait))??;
        self.read_reply(buf.get(..n).unwrap_or_default())
    }
}
