//! The directory: regions (education-bureau areas and police jurisdictions), schools, the alarm
//! points inside them, devices, responsible people and the users who log in. Plain data; the
//! store persists it and [`Directory`] answers look-ups over one loaded snapshot.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::access::{Role, Scope};

/// Row id of any directory record.
pub type Id = i64;

/// Whether a region is an education-bureau area or a police jurisdiction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionKind {
    /// An education bureau's area (教育局辖区).
    Bureau,
    /// A police station's jurisdiction (派出所辖区).
    Police,
}

impl RegionKind {
    /// The stored text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bureau => "bureau",
            Self::Police => "police",
        }
    }

    /// Parses the stored text form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "bureau" => Some(Self::Bureau),
            "police" => Some(Self::Police),
            _ => None,
        }
    }
}

/// A bureau area or a police jurisdiction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Region {
    pub id: Id,
    pub kind: RegionKind,
    pub name: String,
    /// GB/T 2260 division code or police unit code, when known.
    pub code: Option<String>,
    /// Duty phone of the station or bureau office.
    pub phone: Option<String>,
}

/// School type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SchoolKind {
    Kindergarten,
    Primary,
    Middle,
}

impl SchoolKind {
    /// The stored text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kindergarten => "kindergarten",
            Self::Primary => "primary",
            Self::Middle => "middle",
        }
    }

    /// Parses the stored text form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "kindergarten" => Some(Self::Kindergarten),
            "primary" => Some(Self::Primary),
            "middle" => Some(Self::Middle),
            _ => None,
        }
    }
}

/// A school or kindergarten.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct School {
    pub id: Id,
    pub name: String,
    pub address: String,
    /// WGS-84 latitude in degrees.
    pub lat: f64,
    /// WGS-84 longitude in degrees.
    pub lon: f64,
    pub kind: SchoolKind,
    pub pupils: i64,
    pub boarders: i64,
    /// The education-bureau area the school belongs to.
    pub bureau_region_id: Id,
    /// The police jurisdiction that answers its alarms.
    pub police_region_id: Id,
}

/// A place inside a school where an alarm can be raised (gate house, duty room, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmPoint {
    pub id: Id,
    pub school_id: Id,
    /// Short name shown on the console, e.g. "南门门卫室".
    pub name: String,
    /// Where it is, for the responding officer, e.g. "南门东侧，一层".
    pub location: String,
    /// A one-key alarm point: every alarm from it is priority 1.
    pub one_key: bool,
}

/// A device installed at an alarm point (one-key button, panel, camera, column).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Device {
    pub id: Id,
    pub school_id: Id,
    pub alarm_point_id: Option<Id>,
    /// "one_key_button", "alarm_panel", "camera", "alarm_column", "web_terminal", ...
    pub kind: String,
    pub name: String,
    /// Protocol identity: DC-09 account, GB/T 28181 device id, or empty.
    pub external_id: Option<String>,
}

/// A responsible person attached to a school (not necessarily a user).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub id: Id,
    pub school_id: Id,
    /// "principal", "security_chief", "guard", "inspector" (责任督学), "police_contact", ...
    pub role: String,
    pub name: String,
    pub phone: String,
}

/// Someone who logs in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: Id,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub phone: Option<String>,
    /// What the user may see: police areas, bureau regions or schools.
    pub scopes: Vec<Scope>,
    /// For guards: the alarm point a press defaults to.
    pub post_alarm_point_id: Option<Id>,
}

/// One loaded snapshot of the directory with indexed look-ups.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub regions: HashMap<Id, Region>,
    pub schools: HashMap<Id, School>,
    pub alarm_points: HashMap<Id, AlarmPoint>,
    pub devices: HashMap<Id, Device>,
    pub people: Vec<Person>,
}

impl Directory {
    /// The school an alarm point belongs to.
    pub fn school_of_point(&self, alarm_point_id: Id) -> Option<&School> {
        let point = self.alarm_points.get(&alarm_point_id)?;
        self.schools.get(&point.school_id)
    }

    /// The responsible people of a school, in a stable order.
    pub fn people_of(&self, school_id: Id) -> Vec<&Person> {
        self.people
            .iter()
            .filter(|p| p.school_id == school_id)
            .collect()
    }

    /// The alarm points of a school, by id.
    pub fn points_of(&self, school_id: Id) -> Vec<&AlarmPoint> {
        let mut points: Vec<_> = self
            .alarm_points
            .values()
            .filter(|p| p.school_id == school_id)
            .collect();
        points.sort_by_key(|p| p.id);
        points
    }

    /// Schools the user may see, by id (sorted).
    pub fn visible_schools(&self, user: &User) -> Vec<Id> {
        let mut ids: Vec<Id> = self
            .schools
            .values()
            .filter(|s| crate::access::sees_school(user, s))
            .map(|s| s.id)
            .collect();
        ids.sort_unstable();
        ids
    }
}
