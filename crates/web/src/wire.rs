//! The JSON shapes of the API (see `docs/ref/api.md`), built from domain types plus the
//! directory. Domain types stay free of presentation; this file adds the school, alarm point,
//! regions and GCJ-02 coordinates a console needs.

use serde::Serialize;
use xiaoan_core::geo::wgs84_to_gcj02;
use xiaoan_core::incident::{Incident, TimelineEntry};
use xiaoan_core::model::{AlarmPoint, Directory, Person, Region, School};

/// A position in degrees.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct LatLon {
    pub lat: f64,
    pub lon: f64,
}

/// A school with its regions, and optionally its points and people.
#[derive(Debug, Serialize)]
pub struct SchoolView<'a> {
    #[serde(flatten)]
    pub school: &'a School,
    pub gcj02: LatLon,
    pub police_region: Option<&'a Region>,
    pub bureau_region: Option<&'a Region>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alarm_points: Option<Vec<&'a AlarmPoint>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub people: Option<Vec<&'a Person>>,
}

impl<'a> SchoolView<'a> {
    /// The school alone, with regions.
    pub fn brief(dir: &'a Directory, school: &'a School) -> Self {
        let (lat, lon) = wgs84_to_gcj02(school.lat, school.lon);
        Self {
            school,
            gcj02: LatLon { lat, lon },
            police_region: dir.regions.get(&school.police_region_id),
            bureau_region: dir.regions.get(&school.bureau_region_id),
            alarm_points: None,
            people: None,
        }
    }

    /// The school with its alarm points and responsible people.
    pub fn full(dir: &'a Directory, school: &'a School) -> Self {
        Self {
            alarm_points: Some(dir.points_of(school.id)),
            people: Some(dir.people_of(school.id)),
            ..Self::brief(dir, school)
        }
    }
}

/// An incident with its school and alarm point.
#[derive(Debug, Serialize)]
pub struct IncidentView<'a> {
    #[serde(flatten)]
    pub incident: &'a Incident,
    pub school: Option<SchoolView<'a>>,
    pub alarm_point: Option<&'a AlarmPoint>,
}

impl<'a> IncidentView<'a> {
    pub fn new(dir: &'a Directory, incident: &'a Incident) -> Self {
        Self {
            incident,
            school: dir
                .schools
                .get(&incident.school_id)
                .map(|s| SchoolView::brief(dir, s)),
            alarm_point: dir.alarm_points.get(&incident.alarm_point_id),
        }
    }
}

/// An incident with its responsible people and timeline.
#[derive(Debug, Serialize)]
pub struct IncidentDetail<'a> {
    #[serde(flatten)]
    pub view: IncidentView<'a>,
    pub people: Vec<&'a Person>,
    pub timeline: &'a [TimelineEntry],
}

impl<'a> IncidentDetail<'a> {
    pub fn new(dir: &'a Directory, incident: &'a Incident, timeline: &'a [TimelineEntry]) -> Self {
        Self {
            view: IncidentView::new(dir, incident),
            people: dir.people_of(incident.school_id),
            timeline,
        }
    }
}

/// One event of the live stream.
#[derive(Debug, Serialize)]
pub struct StreamEvent<'a> {
    #[serde(rename = "type")]
    pub kind: String,
    pub incident: IncidentView<'a>,
    pub entry: &'a TimelineEntry,
}

impl<'a> StreamEvent<'a> {
    pub fn new(dir: &'a Directory, incident: &'a Incident, entry: &'a TimelineEntry) -> Self {
        Self {
            kind: format!("incident.{}", entry.kind.as_str()),
            incident: IncidentView::new(dir, incident),
            entry,
        }
    }
}
