//! The SIP messages a simulated device sends: REGISTER, MESSAGE with a MANSCDP body, responses
//! to the platform's requests, and the catalog split into Response `Catalog` MESSAGEs that stay
//! within [`MAX_UDP_REQUEST`](super::MAX_UDP_REQUEST) bytes each.

use xiaoan_manscdp::{CatalogItem, Charset, EncodeError, OnOff, encode_catalog};
use xiaoan_sip::{HostPort, Method, NameAddr, Request, Response, Uri, Via};

use super::Transport;

/// `Content-Type` of MANSCDP bodies.
pub const MANSCDP: &str = "Application/MANSCDP+xml";

/// `User-Agent` of the simulator.
pub const USER_AGENT: &str = "xiaoan-sim-gb28181";

/// Where a device is and whom it talks to: enough to write the headers of its requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressing {
    pub device_id: String,
    pub platform_id: String,
    pub domain: String,
    /// The local address of the device's socket (Via sent-by and Contact).
    pub local: HostPort,
    /// The platform's address (Request-URI host).
    pub remote: HostPort,
    pub transport: Transport,
}

/// The header fields of one outgoing request that change between requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ids<'a> {
    pub branch: &'a str,
    pub from_tag: &'a str,
    pub call_id: &'a str,
    pub cseq: u32,
}

impl Addressing {
    /// The Via value for a request with `branch` (with `rport`).
    pub fn via(&self, branch: &str) -> String {
        let mut via = Via::new(self.transport.as_str(), self.local.clone(), branch);
        via.params.set("rport", None);
        via.to_string()
    }

    fn device_uri(&self) -> Uri {
        Uri::sip(Some(&self.device_id), &self.domain, None)
    }

    fn base(&self, method: Method, uri: String, to: Uri, ids: &Ids<'_>) -> Request {
        let mut from = NameAddr::new(self.device_uri());
        from.params.set("tag", Some(ids.from_tag));
        let mut req = Request::new(method.clone(), uri);
        let h = &mut req.headers;
        h.push("Via", self.via(ids.branch));
        h.push("From", from.to_string());
        h.push("To", NameAddr::new(to).to_string());
        h.push("Call-ID", ids.call_id);
        h.push("CSeq", format!("{} {method}", ids.cseq));
        h.push("Max-Forwards", "70");
        h.push("User-Agent", USER_AGENT);
        req
    }

    /// `REGISTER sip:<platform>@<domain>` with the device as From and To, a Contact at the
    /// local address and `Expires`.
    pub fn register(&self, ids: &Ids<'_>, expires: u32) -> Request {
        let uri = Uri::sip(Some(&self.platform_id), &self.domain, None).to_string();
        let mut req = self.base(Method::Register, uri, self.device_uri(), ids);
        let contact = Uri::sip(Some(&self.device_id), &self.local.host, self.local.port);
        req.headers
            .push("Contact", NameAddr::new(contact).to_string());
        req.headers.push("Expires", expires.to_string());
        req
    }

    /// `MESSAGE sip:<platform>@<platform address>` carrying a MANSCDP body.
    pub fn message(&self, ids: &Ids<'_>, body: Vec<u8>) -> Request {
        let uri =
            Uri::sip(Some(&self.platform_id), &self.remote.host, self.remote.port).to_string();
        let to = Uri::sip(Some(&self.platform_id), &self.domain, None);
        let mut req = self.base(Method::Message, uri, to, ids);
        req.headers.push("Content-Type", MANSCDP);
        req.body = body;
        req
    }

    /// The body budget of one MESSAGE so the whole request stays within `limit` bytes: the
    /// request's size without a body, plus room for a longer `Content-Length` and a CSeq that
    /// grows by a few digits.
    pub fn message_body_budget(&self, ids: &Ids<'_>, limit: usize) -> usize {
        let empty = self.message(ids, Vec::new()).encode().len();
        limit.saturating_sub(empty + 3 + 4)
    }
}

/// The response to a platform request, with `User-Agent`.
pub fn respond(req: &Request, status: u16, to_tag: &str) -> Response {
    let mut resp = req.response(status, to_tag);
    resp.headers.push("User-Agent", USER_AGENT);
    resp
}

/// The catalog items of a device: one alarm-input channel per ID, named 报警输入N, online.
pub fn catalog_items(device_id: &str, channels: &[String]) -> Vec<CatalogItem> {
    channels
        .iter()
        .enumerate()
        .map(|(i, id)| CatalogItem {
            name: Some(format!("报警输入{}", i + 1)),
            manufacturer: Some("xiaoan".into()),
            model: Some("SIM-ALARM-IN".into()),
            owner: Some("xiaoan".into()),
            civil_code: id.get(..6).map(str::to_owned),
            address: Some("simulated".into()),
            parental: Some(0),
            parent_id: Some(device_id.to_owned()),
            safety_way: Some(0),
            register_way: Some(1),
            secrecy: Some(0),
            status: Some(OnOff::On),
            ..CatalogItem::new(id.clone())
        })
        .collect()
}

/// The Response `Catalog` bodies for a catalog query with `sn`, each at most `budget` bytes.
pub fn catalog_bodies(
    sn: u32,
    device_id: &str,
    items: &[CatalogItem],
    charset: Charset,
    budget: usize,
) -> Result<Vec<Vec<u8>>, EncodeError> {
    encode_catalog(sn, device_id, items, charset, budget)
}
