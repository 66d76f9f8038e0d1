//! Which device a message received on a shared socket belongs to. Responses go by Call-ID (each
//! device has its own), then by the From user (the device sent the request); requests from the
//! platform go by the Request-URI user, then the To user, either of which may be a device ID or
//! one of its channel IDs.

use std::collections::HashMap;

use xiaoan_sip::{Message, Request, Response};

/// The routing table of a fleet: Call-IDs and device/channel IDs → device index.
#[derive(Debug, Clone, Default)]
pub struct Demux {
    calls: HashMap<String, usize>,
    ids: HashMap<String, usize>,
}

impl Demux {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds device `index` with its Call-IDs, its ID and its channel IDs.
    pub fn add<'a>(
        &mut self,
        index: usize,
        call_ids: impl IntoIterator<Item = &'a str>,
        ids: impl IntoIterator<Item = &'a str>,
    ) {
        for c in call_ids {
            self.calls.insert(c.to_owned(), index);
        }
        for id in ids {
            self.ids.entry(id.to_owned()).or_insert(index);
        }
    }

    pub fn route(&self, msg: &Message) -> Option<usize> {
        match msg {
            Message::Request(r) => self.route_request(r),
            Message::Response(r) => self.route_response(r),
        }
    }

    pub fn route_response(&self, resp: &Response) -> Option<usize> {
        resp.headers
            .call_id()
            .and_then(|c| self.calls.get(c.trim()))
            .or_else(|| {
                let from = resp.headers.from()?;
                self.ids.get(from.user()?)
            })
            .copied()
    }

    pub fn route_request(&self, req: &Request) -> Option<usize> {
        req.parsed_uri()
            .and_then(|u| self.ids.get(u.user.as_deref()?).copied())
            .or_else(|| {
                let to = req.headers.to()?;
                self.ids.get(to.user()?).copied()
            })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use xiaoan_sip::parse_datagram;

    fn table() -> Demux {
        let mut d = Demux::new();
        d.add(
            0,
            ["a1@127.0.0.1", "a2@127.0.0.1"],
            ["34020000001180000001", "34020000001340100001"],
        );
        d.add(
            1,
            ["b1@127.0.0.1", "b2@127.0.0.1"],
            ["34020000001180000002", "34020000001340200001"],
        );
        d
    }

    fn response(call_id: &str, from_user: &str) -> Message {
        let raw = format!(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n\
             From: <sip:{from_user}@3402000000>;tag=1\r\nTo: <sip:34020000002000000001@3402000000>;tag=2\r\n\
             Call-ID: {call_id}\r\nCSeq: 3 MESSAGE\r\nContent-Length: 0\r\n\r\n"
        );
        parse_datagram(raw.as_bytes()).unwrap()
    }

    fn request(uri_user: &str, to_user: &str) -> Message {
        let raw = format!(
            "MESSAGE sip:{uri_user}@127.0.0.1:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK9\r\n\
             From: <sip:34020000002000000001@3402000000>;tag=7\r\nTo: <sip:{to_user}@3402000000>\r\n\
             Call-ID: p1\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n"
        );
        parse_datagram(raw.as_bytes()).unwrap()
    }

    #[test]
    fn responses_go_by_call_id_first() {
        let d = table();
        // The Call-ID wins even when From names the other device.
        assert_eq!(
            d.route(&response("b2@127.0.0.1", "34020000001180000001")),
            Some(1)
        );
        assert_eq!(
            d.route(&response("a1@127.0.0.1", "34020000001180000002")),
            Some(0)
        );
    }

    #[test]
    fn responses_with_an_unknown_call_id_go_by_from_user() {
        let d = table();
        assert_eq!(
            d.route(&response("elsewhere", "34020000001180000002")),
            Some(1)
        );
        assert_eq!(
            d.route(&response("elsewhere", "34020000001180000099")),
            None
        );
    }

    #[test]
    fn requests_go_by_request_uri_then_to_user_including_channels() {
        let d = table();
        assert_eq!(
            d.route(&request("34020000001180000002", "34020000001180000001")),
            Some(1)
        );
        assert_eq!(
            d.route(&request("34020000002000000001", "34020000001180000001")),
            Some(0)
        );
        assert_eq!(
            d.route(&request("34020000001340200001", "x")),
            Some(1),
            "a channel ID finds its device"
        );
        assert_eq!(d.route(&request("1", "2")), None);
    }
}
