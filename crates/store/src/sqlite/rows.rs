//! Row shapes of the SQLite schema and their conversions to and from the core types: the time
//! text format, enum text, actors split over three columns, JSON columns. Nothing read from the
//! database is trusted: every parse failure becomes `StoreError::Other`, never a panic.

use chrono::{DateTime, SecondsFormat, Utc};
use xiaoan_core::access::{Role, Scope};
use xiaoan_core::incident::{
    Actor, Dispatch, Disposition, EntryKind, Incident, IncidentState, TimelineEntry,
};
use xiaoan_core::model::{AlarmPoint, Device, Id, Person, Region, RegionKind, School, SchoolKind};

use crate::{Result, Session, StoreError};

/// The stored time form: RFC 3339 UTC, nine fractional digits, `Z`. Fixed width, so text order
/// is time order; lossless for `DateTime<Utc>`.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// Parses the stored time form.
pub(crate) fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| corrupt("timestamp", &format!("{s:?} ({e})")))
}

fn parse_opt_ts(s: Option<&str>) -> Result<Option<DateTime<Utc>>> {
    s.map(parse_ts).transpose()
}

pub(crate) fn corrupt(what: &str, detail: &str) -> StoreError {
    StoreError::Other(format!("corrupt {what} in database: {detail}"))
}

pub(crate) fn parse_enum<T>(what: &str, s: &str, parse: impl Fn(&str) -> Option<T>) -> Result<T> {
    parse(s).ok_or_else(|| corrupt(what, &format!("{s:?}")))
}

fn parse_role(s: Option<&str>) -> Result<Option<Role>> {
    s.map(|s| parse_enum("role", s, Role::parse)).transpose()
}

fn priority(p: i64) -> Result<u8> {
    u8::try_from(p)
        .ok()
        .filter(|p| (1..=4).contains(p))
        .ok_or_else(|| corrupt("priority", &p.to_string()))
}

/// Scope → (kind, target id) columns.
pub(crate) fn scope_columns(scope: &Scope) -> (&'static str, Id) {
    match *scope {
        Scope::PoliceArea(id) => ("police_area", id),
        Scope::BureauRegion(id) => ("bureau_region", id),
        Scope::School(id) => ("school", id),
    }
}

/// (kind, target id) columns → scope.
pub(crate) fn scope_from_columns(kind: &str, id: Id) -> Result<Scope> {
    match kind {
        "police_area" => Ok(Scope::PoliceArea(id)),
        "bureau_region" => Ok(Scope::BureauRegion(id)),
        "school" => Ok(Scope::School(id)),
        other => Err(corrupt("scope kind", &format!("{other:?}"))),
    }
}

/// Serializes a value for a JSON column.
pub(crate) fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Other(format!("encoding JSON: {e}")))
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| corrupt(what, &e.to_string()))
}

#[derive(sqlx::FromRow)]
pub(crate) struct RegionRow {
    id: i64,
    kind: String,
    name: String,
    code: Option<String>,
    phone: Option<String>,
}

impl TryFrom<RegionRow> for Region {
    type Error = StoreError;
    fn try_from(r: RegionRow) -> Result<Self> {
        Ok(Region {
            id: r.id,
            kind: parse_enum("region kind", &r.kind, RegionKind::parse)?,
            name: r.name,
            code: r.code,
            phone: r.phone,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SchoolRow {
    id: i64,
    name: String,
    address: String,
    lat: f64,
    lon: f64,
    kind: String,
    pupils: i64,
    boarders: i64,
    bureau_region_id: i64,
    police_region_id: i64,
}

impl TryFrom<SchoolRow> for School {
    type Error = StoreError;
    fn try_from(r: SchoolRow) -> Result<Self> {
        Ok(School {
            id: r.id,
            name: r.name,
            address: r.address,
            lat: r.lat,
            lon: r.lon,
            kind: parse_enum("school kind", &r.kind, SchoolKind::parse)?,
            pupils: r.pupils,
            boarders: r.boarders,
            bureau_region_id: r.bureau_region_id,
            police_region_id: r.police_region_id,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AlarmPointRow {
    id: i64,
    school_id: i64,
    name: String,
    location: String,
    one_key: bool,
}

impl From<AlarmPointRow> for AlarmPoint {
    fn from(r: AlarmPointRow) -> Self {
        AlarmPoint {
            id: r.id,
            school_id: r.school_id,
            name: r.name,
            location: r.location,
            one_key: r.one_key,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct DeviceRow {
    id: i64,
    school_id: i64,
    alarm_point_id: Option<i64>,
    kind: String,
    name: String,
    external_id: Option<String>,
}

impl From<DeviceRow> for Device {
    fn from(r: DeviceRow) -> Self {
        Device {
            id: r.id,
            school_id: r.school_id,
            alarm_point_id: r.alarm_point_id,
            kind: r.kind,
            name: r.name,
            external_id: r.external_id,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct PersonRow {
    id: i64,
    school_id: i64,
    role: String,
    name: String,
    phone: String,
}

impl From<PersonRow> for Person {
    fn from(r: PersonRow) -> Self {
        Person {
            id: r.id,
            school_id: r.school_id,
            role: r.role,
            name: r.name,
            phone: r.phone,
        }
    }
}

/// A user row without scopes; the hash stays in `password_hash` and is never logged.
#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    pub(crate) id: i64,
    pub(crate) username: String,
    pub(crate) display_name: String,
    pub(crate) role: String,
    pub(crate) phone: Option<String>,
    pub(crate) password_hash: String,
    pub(crate) disabled: bool,
    pub(crate) post_alarm_point_id: Option<i64>,
}

impl UserRow {
    pub(crate) fn into_user(self, scopes: Vec<Scope>) -> Result<(xiaoan_core::User, String, bool)> {
        let user = xiaoan_core::User {
            id: self.id,
            username: self.username,
            display_name: self.display_name,
            role: parse_enum("role", &self.role, Role::parse)?,
            phone: self.phone,
            scopes,
            post_alarm_point_id: self.post_alarm_point_id,
        };
        Ok((user, self.password_hash, self.disabled))
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ScopeRow {
    pub(crate) user_id: i64,
    pub(crate) kind: String,
    pub(crate) target_id: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    token_hash: String,
    user_id: i64,
    created_at: String,
    expires_at: String,
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;
    fn try_from(r: SessionRow) -> Result<Self> {
        Ok(Session {
            token_hash: r.token_hash,
            user_id: r.user_id,
            created_at: parse_ts(&r.created_at)?,
            expires_at: parse_ts(&r.expires_at)?,
        })
    }
}

/// The column list matching [`IncidentRow`], for `SELECT`s (a macro so `concat!` can build
/// static SQL from it).
macro_rules! incident_columns {
    () => {
        "id, school_id, alarm_point_id, state, priority, kind, \
     source, silent, note, raised_by_user_id, raised_by_name, raised_by_role, raised_at, \
     received_at, claimed_by_user_id, claimed_by_name, claimed_by_role, claimed_at, dispatches, \
     on_scene_at, escalated_at, disposition, resolution_note, resolved_at, closed_at, \
     press_count, accidental_reported_at, updated_at, details"
    };
}
pub(crate) use incident_columns;

/// [`incident_columns`] as JSON values, in the same order, for `json_array(…)`: a batch reads
/// its open incidents as one JSON text (one value crossing from the SQLite thread instead of 29
/// per incident, each copied and freed one by one); `silent` (0 or 1) becomes a JSON boolean.
macro_rules! incident_json_columns {
    () => {
        "id, school_id, alarm_point_id, state, priority, kind, \
     source, json(CASE WHEN silent THEN 'true' ELSE 'false' END), note, raised_by_user_id, \
     raised_by_name, raised_by_role, raised_at, received_at, claimed_by_user_id, claimed_by_name, \
     claimed_by_role, claimed_at, dispatches, on_scene_at, escalated_at, disposition, \
     resolution_note, resolved_at, closed_at, press_count, accidental_reported_at, updated_at, \
     details"
    };
}
pub(crate) use incident_json_columns;

/// Also deserialized from a JSON array of the columns in order ([`incident_json_columns`]).
#[derive(sqlx::FromRow, serde::Deserialize)]
pub(crate) struct IncidentRow {
    id: i64,
    school_id: i64,
    alarm_point_id: i64,
    state: String,
    priority: i64,
    kind: String,
    source: String,
    silent: bool,
    note: Option<String>,
    raised_by_user_id: Option<i64>,
    raised_by_name: String,
    raised_by_role: Option<String>,
    raised_at: String,
    received_at: String,
    claimed_by_user_id: Option<i64>,
    claimed_by_name: Option<String>,
    claimed_by_role: Option<String>,
    claimed_at: Option<String>,
    dispatches: String,
    on_scene_at: Option<String>,
    escalated_at: Option<String>,
    disposition: Option<String>,
    resolution_note: Option<String>,
    resolved_at: Option<String>,
    closed_at: Option<String>,
    press_count: i64,
    accidental_reported_at: Option<String>,
    updated_at: String,
    details: String,
}

impl TryFrom<IncidentRow> for Incident {
    type Error = StoreError;
    fn try_from(r: IncidentRow) -> Result<Self> {
        let claimed_by = match r.claimed_by_name {
            Some(name) => Some(Actor {
                user_id: r.claimed_by_user_id,
                name,
                role: parse_role(r.claimed_by_role.as_deref())?,
            }),
            None => None,
        };
        let dispatches: Vec<Dispatch> = from_json("dispatches", &r.dispatches)?;
        Ok(Incident {
            id: r.id,
            school_id: r.school_id,
            alarm_point_id: r.alarm_point_id,
            state: parse_enum("incident state", &r.state, IncidentState::parse)?,
            priority: priority(r.priority)?,
            kind: r.kind,
            source: r.source,
            silent: r.silent,
            note: r.note,
            raised_by: Actor {
                user_id: r.raised_by_user_id,
                name: r.raised_by_name,
                role: parse_role(r.raised_by_role.as_deref())?,
            },
            raised_at: parse_ts(&r.raised_at)?,
            received_at: parse_ts(&r.received_at)?,
            claimed_by,
            claimed_at: parse_opt_ts(r.claimed_at.as_deref())?,
            dispatches,
            on_scene_at: parse_opt_ts(r.on_scene_at.as_deref())?,
            escalated_at: parse_opt_ts(r.escalated_at.as_deref())?,
            disposition: r
                .disposition
                .as_deref()
                .map(|d| parse_enum("disposition", d, Disposition::parse))
                .transpose()?,
            resolution_note: r.resolution_note,
            resolved_at: parse_opt_ts(r.resolved_at.as_deref())?,
            closed_at: parse_opt_ts(r.closed_at.as_deref())?,
            press_count: r.press_count,
            accidental_reported_at: parse_opt_ts(r.accidental_reported_at.as_deref())?,
            updated_at: parse_ts(&r.updated_at)?,
            details: from_json("details", &r.details)?,
        })
    }
}

/// The column list matching [`EntryRow`], for `SELECT`s.
macro_rules! entry_columns {
    () => {
        "id, incident_id, at, kind, actor_user_id, actor_name, actor_role, note, data"
    };
}
pub(crate) use entry_columns;

#[derive(sqlx::FromRow)]
pub(crate) struct EntryRow {
    id: i64,
    incident_id: i64,
    at: String,
    kind: String,
    actor_user_id: Option<i64>,
    actor_name: String,
    actor_role: Option<String>,
    note: Option<String>,
    data: String,
}

impl TryFrom<EntryRow> for TimelineEntry {
    type Error = StoreError;
    fn try_from(r: EntryRow) -> Result<Self> {
        Ok(TimelineEntry {
            id: r.id,
            incident_id: r.incident_id,
            at: parse_ts(&r.at)?,
            kind: parse_enum("timeline entry kind", &r.kind, EntryKind::parse)?,
            actor: Actor {
                user_id: r.actor_user_id,
                name: r.actor_name,
                role: parse_role(r.actor_role.as_deref())?,
            },
            note: r.note,
            data: from_json("timeline entry data", &r.data)?,
        })
    }
}

/// Converts a batch of rows, failing on the first corrupt one.
pub(crate) fn convert_all<R, T>(rows: Vec<R>) -> Result<Vec<T>>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_text_is_fixed_width_lossless_and_ordered() {
        let a = DateTime::from_timestamp(1_700_000_000, 5).unwrap_or_default();
        let b = DateTime::from_timestamp(1_700_000_000, 123_456_789).unwrap_or_default();
        assert_eq!(ts(a), "2023-11-14T22:13:20.000000005Z");
        assert_eq!(ts(a).len(), ts(b).len());
        assert!(ts(a) < ts(b));
        assert_eq!(parse_ts(&ts(b)).ok(), Some(b));
        assert!(matches!(parse_ts("yesterday"), Err(StoreError::Other(_))));
    }

    #[test]
    fn corrupt_enum_text_is_an_error_not_a_panic() {
        assert!(matches!(
            scope_from_columns("galaxy", 1),
            Err(StoreError::Other(_))
        ));
        assert!(matches!(priority(9), Err(StoreError::Other(_))));
        assert!(matches!(
            parse_role(Some("king")),
            Err(StoreError::Other(_))
        ));
    }
}
