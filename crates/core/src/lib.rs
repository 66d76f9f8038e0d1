//! The xiaoan domain core: what a school, an alarm point, a user and an incident are, and the rules
//! that move an incident from the press to its closing. Pure code: no sockets, no database, no
//! system clock (time is passed in). Storage and the web layer call into this crate; it calls
//! nothing outside itself.
//!
//! # Layout
//! - [`model`]: the directory: regions, schools, alarm points, devices, people, users.
//! - [`audit`]: the audit trail's entries, their hash chain and the check that finds a break.
//! - [`access`]: roles, scopes, what each role may do and see (one table).
//! - [`incident`]: the incident record, its timeline entries and the pure state machine.
//! - [`escalation`]: which unclaimed incidents are due to escalate at a given time.
//! - [`signal`]: non-emergency device signals and device health (supervision).
//! - [`geo`]: WGS-84 → GCJ-02 for drawing on Chinese base maps.
//! - [`camera`]: cameras, where they are and where their video comes from.
//! - [`gb`]: GB/T 28181 devices and channels, and where each channel belongs.

pub mod access;
pub mod audit;
pub mod camera;
pub mod escalation;
pub mod gb;
pub mod geo;
pub mod incident;
pub mod model;
pub mod signal;

pub use access::{Action, Role, Scope};
pub use incident::{
    Command, Disposition, Incident, IncidentState, NewAlarm, TimelineEntry, TransitionError,
};
pub use model::{AlarmPoint, Directory, Person, Region, RegionKind, School, SchoolKind, User};
