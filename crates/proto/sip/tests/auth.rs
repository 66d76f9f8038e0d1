//! Digest authentication: the GB/T 28181 D1 test vector, server verification with and without
//! qop, nonce expiry and replay, and the client side answering challenges.
#![allow(clippy::unwrap_used)]

use rand::SeedableRng;
use rand::rngs::StdRng;
use std::time::{Duration, Instant};
use xiaoan_sip::{
    Challenge, Credentials, DigestServer, QopInput, Verdict, answer, digest_response, ha1,
};

const USER: &str = "34020000001320000001";
const REALM: &str = "3402000000";
const URI: &str = "sip:34020000002000000001@3402000000:5060";

#[test]
fn d1_vector_recomputes_exactly() {
    let h = ha1(USER, REALM, "123456");
    let r = digest_response(&h, "c98f6d56cb2ab8e6", "REGISTER", URI, None);
    assert_eq!(r, "79d8846430436131196c50746cd97fa5");
}

#[test]
fn rfc2617_qop_vector() {
    // RFC 2617 §3.5 (Mufasa / Circle Of Life).
    let h = ha1("Mufasa", "testrealm@host.com", "Circle Of Life");
    let r = digest_response(
        &h,
        "dcd98b7102dd2f0e8b11d0f600bfb0c093",
        "GET",
        "/dir/index.html",
        Some(QopInput {
            nc: "00000001",
            cnonce: "0a4f113b",
            qop: "auth",
        }),
    );
    assert_eq!(r, "6629fae49393a05397450978507c4ef1");
}

#[test]
fn challenge_and_credentials_round_trip() {
    let c = Challenge::parse(
        r#"Digest realm="3402000000", nonce="abc", algorithm=MD5, qop="auth", stale=TRUE"#,
    )
    .unwrap();
    assert!(c.stale && c.offers_qop_auth());
    assert_eq!(Challenge::parse(&c.to_string()).unwrap(), c);
    assert!(Challenge::parse("Basic realm=\"x\"").is_none());

    let creds = answer(&c, "REGISTER", URI, USER, "pw", "cn0nce", 1);
    assert_eq!(creds.nc.as_deref(), Some("00000001"));
    assert_eq!(Credentials::parse(&creds.to_string()).unwrap(), creds);
}

fn server(qop: bool) -> (DigestServer, StdRng, Instant) {
    (
        DigestServer::new(REALM, qop, Duration::from_secs(60)),
        StdRng::seed_from_u64(7),
        Instant::now(),
    )
}

#[test]
fn server_without_qop_accepts_once_then_stale() {
    let (mut s, mut rng, t0) = server(false);
    let ch = s.challenge(t0, false, &mut rng);
    assert_eq!(ch.algorithm.as_deref(), Some("MD5"));
    assert_eq!(ch.qop, None);
    let creds = answer(&ch, "REGISTER", URI, USER, "123456", "", 1);
    assert_eq!(creds.qop, None);
    assert_eq!(s.verify(t0, "REGISTER", &creds, "wrong"), Verdict::Rejected);
    assert_eq!(s.verify(t0, "REGISTER", &creds, "123456"), Verdict::Ok);
    // Replayed: the nonce is used up.
    assert_eq!(s.verify(t0, "REGISTER", &creds, "123456"), Verdict::Stale);
    let again = s.challenge(t0, true, &mut rng);
    assert!(again.stale);
    assert!(again.to_string().contains("stale=true"));
    assert_ne!(again.nonce, ch.nonce);
}

#[test]
fn server_with_qop_rejects_reused_nonce_count() {
    let (mut s, mut rng, t0) = server(true);
    let ch = s.challenge(t0, false, &mut rng);
    assert!(ch.to_string().contains(r#"qop="auth""#));
    let first = answer(&ch, "REGISTER", URI, USER, "123456", "aaaa", 1);
    let second = answer(&ch, "REGISTER", URI, USER, "123456", "bbbb", 2);
    assert_eq!(s.verify(t0, "REGISTER", &first, "123456"), Verdict::Ok);
    assert_eq!(s.verify(t0, "REGISTER", &second, "123456"), Verdict::Ok);
    assert_eq!(s.verify(t0, "REGISTER", &first, "123456"), Verdict::Stale);
    // A tampered nc without recomputing the digest is a wrong answer, not a stale one.
    let mut forged = second.clone();
    forged.nc = Some("00000003".into());
    assert_eq!(
        s.verify(t0, "REGISTER", &forged, "123456"),
        Verdict::Rejected
    );
}

#[test]
fn server_expires_nonces() {
    let (mut s, mut rng, t0) = server(false);
    let ch = s.challenge(t0, false, &mut rng);
    let creds = answer(&ch, "REGISTER", URI, USER, "123456", "", 1);
    let late = t0 + Duration::from_secs(61);
    assert_eq!(s.verify(late, "REGISTER", &creds, "123456"), Verdict::Stale);
    s.purge(late);
    assert!(s.is_empty());
}

#[test]
fn server_rejects_unknown_nonce_as_stale_and_wrong_realm() {
    let (mut s, _, t0) = server(false);
    let foreign =
        Challenge::parse(r#"Digest realm="3402000000", nonce="c98f6d56cb2ab8e6""#).unwrap();
    let creds = answer(&foreign, "REGISTER", URI, USER, "123456", "", 1);
    assert_eq!(s.verify(t0, "REGISTER", &creds, "123456"), Verdict::Stale);
    let mut other = creds.clone();
    other.realm = "9999999999".into();
    assert_eq!(
        s.verify(t0, "REGISTER", &other, "123456"),
        Verdict::Rejected
    );
    let mut alg = creds;
    alg.algorithm = Some("SHA-256".into());
    assert_eq!(s.verify(t0, "REGISTER", &alg, "123456"), Verdict::Rejected);
}

#[test]
fn ha2_uses_the_authorization_uri_not_the_request_uri() {
    // sipp hashes uri="sip:IP:PORT" while the Request-URI names the platform.
    let (mut s, mut rng, t0) = server(true);
    let ch = s.challenge(t0, false, &mut rng);
    let creds = answer(
        &ch,
        "REGISTER",
        "sip:127.0.0.1:25060",
        USER,
        "12345678",
        "6b8b4567",
        1,
    );
    assert_eq!(s.verify(t0, "REGISTER", &creds, "12345678"), Verdict::Ok);
}

#[test]
fn capacity_forgets_the_oldest_nonce() {
    let (s, mut rng, t0) = server(false);
    let mut s = s.with_capacity(2);
    let a = s.challenge(t0, false, &mut rng);
    let _b = s.challenge(t0, false, &mut rng);
    let _c = s.challenge(t0, false, &mut rng);
    assert_eq!(s.len(), 2);
    let creds = answer(&a, "REGISTER", URI, USER, "123456", "", 1);
    assert_eq!(s.verify(t0, "REGISTER", &creds, "123456"), Verdict::Stale);
}

#[test]
fn md5_sess_answers_verify() {
    let (mut s, mut rng, t0) = server(true);
    let mut ch = s.challenge(t0, false, &mut rng);
    ch.algorithm = Some("MD5-sess".into());
    let creds = answer(&ch, "REGISTER", URI, USER, "123456", "cc", 1);
    assert_eq!(creds.algorithm.as_deref(), Some("MD5-sess"));
    assert_eq!(s.verify(t0, "REGISTER", &creds, "123456"), Verdict::Ok);
}
