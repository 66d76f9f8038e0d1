//! Checks of the audit trail: seeding, raising (one by one and in a batch) and commands write
//! their audit entries in the same commit; appends continue one chain without gaps, also when
//! many come at once; entries read back by incident; the chain verifies.

use std::sync::Arc;

use xiaoan_core::audit::{AuditActor, AuditRecord, GENESIS_HASH, NewAuditEntry, time_text, verify};
use xiaoan_core::incident::{Actor, Command};

use crate::{AuditFilter, IdempotencyKey, RaiseRequest, Store};

use super::fixture::*;
use super::{ok, some};

async fn all(store: &dyn Store) -> Vec<AuditRecord> {
    ok(
        store.audit_entries(&AuditFilter::default()).await,
        "audit entries",
    )
}

fn actions(records: &[AuditRecord]) -> Vec<&str> {
    records.iter().map(|r| r.action.as_str()).collect()
}

/// Every kind of write leaves its entries on one intact chain.
pub async fn audit_trail(store: Arc<dyn Store>) {
    seeded(&*store).await;
    let seeded_entries = all(&*store).await;
    assert_eq!(
        seeded_entries.len(),
        seed().users.len(),
        "one entry per user"
    );
    assert!(seeded_entries.iter().all(|r| r.action == "user.create"));
    assert_eq!(seeded_entries[0].seq, 1);
    assert_eq!(seeded_entries[0].prev_hash, GENESIS_HASH);
    assert!(
        seeded_entries.iter().all(|r| !r.detail.contains("argon2")),
        "no password hash in the audit trail"
    );

    // One raise: the press (the centre's receipt is not an action of its own).
    let raised = ok(
        store
            .raise_alarm(&alarm(POINT_A1, 1, at(0)), None, at(1))
            .await,
        "raise",
    );
    let id = raised.incident.id;
    ok(
        store
            .apply_command(id, &Command::Claim, &actor(OP1), at(10))
            .await,
        "claim",
    );
    // A refused command writes nothing.
    assert!(
        store
            .apply_command(id, &Command::Claim, &actor(OP2), at(11))
            .await
            .is_err()
    );
    // A batch: a new incident, a join of the open one, a replayed key.
    let key = IdempotencyKey {
        principal: "dc09:1234".into(),
        key: "k1".into(),
    };
    let mut device = alarm(POINT_A2, 1, at(20));
    device.source = "dc09".into();
    device.raised_by = Actor::system();
    let batch = [
        RaiseRequest {
            alarm: device.clone(),
            key: Some(key.clone()),
        },
        RaiseRequest {
            alarm: alarm(POINT_A1, 1, at(20)),
            key: None,
        },
        RaiseRequest {
            alarm: device,
            key: Some(key),
        },
    ];
    let outcomes = ok(store.raise_alarms(&batch, at(21)).await, "batch");
    let other = some(outcomes[0].as_ref().ok(), "batch raise").incident.id;

    let of_incident = ok(
        store
            .audit_entries(&AuditFilter {
                incident_id: Some(id),
                ..AuditFilter::default()
            })
            .await,
        "by incident",
    );
    assert_eq!(
        actions(&of_incident),
        ["incident.raise", "incident.claim", "incident.join"]
    );
    let claim = &of_incident[1];
    assert_eq!(claim.actor_user_id, Some(OP1));
    assert_eq!(claim.actor_role.as_deref(), Some("police_operator"));
    assert_eq!(claim.school_id, Some(SCHOOL_A));
    assert_eq!(claim.object_id.as_deref(), Some(id.to_string().as_str()));
    assert_eq!(claim.at, time_text(at(10)));
    let of_other = ok(
        store
            .audit_entries(&AuditFilter {
                incident_id: Some(other),
                ..AuditFilter::default()
            })
            .await,
        "by incident",
    );
    assert_eq!(
        actions(&of_other),
        ["incident.raise"],
        "the replay wrote nothing"
    );
    assert_eq!(of_other[0].actor_name, "dc09:1234");
    assert_eq!(of_other[0].actor_user_id, None);

    // Appends of their own, several at once from many tasks: still one chain without gaps.
    let mut tasks = Vec::new();
    for n in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut e = NewAuditEntry::new(
                at(30 + n),
                AuditActor::principal(format!("user{n}")),
                "auth.login",
                "user",
                Some(n.to_string()),
            );
            e.detail = serde_json::json!({ "n": n });
            store.append_audit(&[e.clone(), e]).await
        }));
    }
    for t in tasks {
        let written = ok(ok(t.await, "task"), "append");
        assert_eq!(written.len(), 2);
        assert_eq!(written[1].seq, written[0].seq + 1);
        assert_eq!(written[1].prev_hash, written[0].hash);
    }
    assert!(ok(store.append_audit(&[]).await, "empty append").is_empty());

    let everything = all(&*store).await;
    let seqs: Vec<i64> = everything.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, (1..=everything.len() as i64).collect::<Vec<_>>());
    let summary = ok(verify(&everything), "pure verify");
    let helper = ok(ok(store.verify_audit().await, "verify_audit"), "chain");
    assert_eq!(summary, helper);
    assert_eq!(helper.entries, everything.len() as u64);
    assert_eq!(Some(&helper.last_hash), everything.last().map(|r| &r.hash));

    // Paging.
    let page = ok(
        store
            .audit_entries(&AuditFilter {
                incident_id: None,
                after_seq: 3,
                limit: Some(2),
            })
            .await,
        "page",
    );
    assert_eq!(page.iter().map(|r| r.seq).collect::<Vec<_>>(), [4, 5]);
}
