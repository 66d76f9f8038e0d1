//! The conformance suite every [`Store`](crate::Store) backend must pass. Each check is a `pub async fn`
//! taking a fresh, empty store; [`conformance_tests!`](crate::conformance_tests) turns the whole
//! list into one `#[tokio::test]` per check for a backend:
//!
//! ```text
//! async fn fresh() -> (Arc<dyn Store>, TempDir) { ... }
//! xiaoan_store::conformance_tests!(fresh);
//! ```
//!
//! Checks panic with a message on failure (they are test code compiled into the library so
//! other backends can reuse them). Times are whole milliseconds so every backend can store them
//! exactly.

mod audit;
mod clips;
mod commands;
mod directory;
mod fixture;
mod gb;
mod raising;
mod reads;
mod recordings;
mod signals;

use std::fmt::Display;

pub use audit::*;
pub use clips::*;
pub use commands::*;
pub use directory::*;
pub use fixture::*;
pub use gb::*;
pub use raising::*;
pub use reads::*;
pub use recordings::*;
pub use signals::*;

/// Generates one `#[tokio::test]` per conformance check. `$fresh` is an async fn returning
/// `(Arc<dyn Store>, guard)`: a new empty store and whatever must live as long as it.
#[macro_export]
macro_rules! conformance_tests {
    ($fresh:path) => {
        $crate::conformance_tests!(@each $fresh;
            seed_round_trip,
            seeding_twice_conflicts,
            user_lookup,
            sessions_lifecycle,
            raise_creates_incident,
            second_raise_joins,
            raise_at_other_point_is_separate,
            raise_after_resolve_opens_new_incident,
            raise_at_unknown_point_is_not_found,
            idempotent_replay,
            concurrent_idempotent_raises,
            second_claim_is_refused,
            full_lifecycle,
            unknown_incident,
            list_filters,
            events_paging,
            concurrent_raises_make_one_incident,
            batch_raise_isolates_failures,
            large_mixed_batch,
            many_signals_in_one_batch,
            signals_and_health,
            gb_devices_catalogs_and_bindings,
            clips_and_protected_spans,
            recordings_index,
            audit_trail,
        );
    };
    (@each $fresh:path; $($check:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $check() {
                let (store, _guard) = $fresh().await;
                $crate::conformance::$check(store).await;
            }
        )*
    };
}

pub(crate) fn ok<T, E: Display>(r: Result<T, E>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what}: {e}"),
    }
}

pub(crate) fn some<T>(o: Option<T>, what: &str) -> T {
    match o {
        Some(v) => v,
        None => panic!("{what}: got None"),
    }
}
