//! Live-video sessions with a device: INVITE with the platform's SDP offer (and the `Subject`
//! header), the device's answer, the ACK for a 2xx (sent again if the device repeats its 2xx),
//! and BYE to end the session. Only signalling: the caller opens the media socket first and
//! puts its port in the offer.

use std::time::Duration;

use xiaoan_sip::{Method, Request, Response};

use crate::client;
use crate::peer::Peer;
use crate::platform::{CommandError, Platform};
use crate::sdp::{Answer, Offer};

/// How long a device may take to answer an INVITE (ringing included).
const INVITE_TIMEOUT: Duration = Duration::from_secs(10);

/// An established session, enough to end it.
#[derive(Debug, Clone)]
pub struct Dialog {
    pub device_id: String,
    pub channel_id: String,
    pub call_id: String,
    /// Our From (with our tag), their To (with their tag).
    pub from: String,
    pub to: String,
    /// Where in-dialog requests go (the Contact of the 2xx, else the INVITE's Request-URI).
    pub target: String,
    pub cseq: u32,
    pub peer: Peer,
}

impl Platform {
    /// Invites `channel_id` of the registered `device_id` to send video as `offer` says.
    pub async fn invite(
        &self,
        device_id: &str,
        channel_id: &str,
        offer: &Offer,
    ) -> Result<(Dialog, Answer), CommandError> {
        let reg = self
            .registration(device_id)
            .ok_or_else(|| CommandError::NotRegistered(device_id.to_owned()))?;
        let mut req = client::build(
            &self.identity,
            &self.pending,
            Method::Invite,
            channel_id,
            &reg.peer,
            Some(("APPLICATION/SDP", offer.to_sdp().into_bytes())),
        );
        req.headers.push(
            "Subject",
            crate::sdp::subject(channel_id, &offer.ssrc, &self.identity.platform_id),
        );
        let sent = client::send(&self.out, &self.pending, reg.peer, req.clone(), self.timers);
        let resp = tokio::time::timeout(INVITE_TIMEOUT, sent)
            .await
            .map_err(|_| CommandError::Client(client::ClientError::Timeout(INVITE_TIMEOUT)))??;
        if !resp.is_success() {
            return Err(CommandError::Refused(resp.status));
        }
        let dialog = Dialog {
            device_id: device_id.to_owned(),
            channel_id: channel_id.to_owned(),
            call_id: req.headers.call_id().unwrap_or_default().to_owned(),
            from: req.headers.get("From").unwrap_or_default().to_owned(),
            to: resp.headers.get("To").unwrap_or_default().to_owned(),
            target: resp
                .headers
                .contact()
                .map(|c| c.uri.to_string())
                .unwrap_or_else(|| req.uri.clone()),
            cseq: req.headers.cseq().map(|c| c.seq).unwrap_or(1),
            peer: reg.peer,
        };
        let ack = in_dialog(&self.identity, &dialog, Method::Ack, dialog.cseq);
        let ack_bytes = ack.encode();
        if let Ok(mut m) = self.acks.lock() {
            m.insert(dialog.call_id.clone(), (reg.peer, ack_bytes.clone()));
        }
        if let Err(e) = self.out.send(&reg.peer, ack_bytes).await {
            tracing::warn!(device = %device_id, error = %e, "gb28181: ACK not sent");
        }
        let answer = Answer::parse(&String::from_utf8_lossy(&resp.body));
        tracing::info!(device = %device_id, channel = %channel_id, ssrc = %offer.ssrc, transport = offer.transport.as_str(), "gb28181 live session started");
        Ok((dialog, answer))
    }

    /// Ends a session with BYE.
    pub async fn bye(&self, dialog: &Dialog) -> Result<(), CommandError> {
        if let Ok(mut m) = self.acks.lock() {
            m.remove(&dialog.call_id);
        }
        let bye = in_dialog(&self.identity, dialog, Method::Bye, dialog.cseq + 1);
        let resp = client::send(&self.out, &self.pending, dialog.peer, bye, self.timers).await?;
        tracing::info!(device = %dialog.device_id, channel = %dialog.channel_id, status = resp.status, "gb28181 live session ended");
        Ok(())
    }

    /// A 2xx to an INVITE arrived again (our ACK was lost): acknowledge it again.
    pub(crate) async fn reack(&self, resp: &Response) -> bool {
        let is_invite_2xx = resp.is_success()
            && resp
                .headers
                .cseq()
                .is_some_and(|c| c.method == Method::Invite);
        if !is_invite_2xx {
            return false;
        }
        let Some(call_id) = resp.headers.call_id() else {
            return false;
        };
        let known = self.acks.lock().ok().and_then(|m| m.get(call_id).cloned());
        match known {
            Some((peer, ack)) => {
                let _ = self.out.send(&peer, ack).await;
                true
            }
            None => false,
        }
    }
}

/// A request inside the dialog (ACK for the 2xx, BYE).
fn in_dialog(id: &client::Identity, d: &Dialog, method: Method, cseq: u32) -> Request {
    let mut req = Request::new(method.clone(), d.target.clone());
    let h = &mut req.headers;
    h.push("Via", id.via(&d.peer, &mut rand::rng()));
    h.push("From", d.from.clone());
    h.push("To", d.to.clone());
    h.push("Call-ID", d.call_id.clone());
    h.push("CSeq", format!("{cseq} {}", method.as_str()));
    h.push("Max-Forwards", "70");
    h.push("User-Agent", "xiaoan");
    req
}
