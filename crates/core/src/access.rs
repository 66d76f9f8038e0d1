//! Roles, scopes and the one table of what each role may do. Every API route asks [`allowed`]
//! before acting and [`sees_school`]/[`sees_incident`] before showing anything.

use serde::{Deserialize, Serialize};

use crate::incident::Incident;
use crate::model::{Id, School, User};

/// What a user is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Alarm-centre operator (接警员).
    PoliceOperator,
    /// Alarm-centre supervisor (值班长).
    PoliceSupervisor,
    /// Officer in the field (出警民警): sees what is dispatched to them.
    PoliceOfficer,
    /// School guard (保安/门卫).
    SchoolGuard,
    /// Principal or security chief.
    SchoolAdmin,
    /// Responsible inspector of the education bureau (责任督学).
    BureauInspector,
    /// Education-bureau administrator.
    BureauAdmin,
    /// System administrator.
    Sysadmin,
}

impl Role {
    /// Every role, in the order the permission table lists them.
    pub const ALL: [Role; 8] = [
        Role::PoliceOperator,
        Role::PoliceSupervisor,
        Role::PoliceOfficer,
        Role::SchoolGuard,
        Role::SchoolAdmin,
        Role::BureauInspector,
        Role::BureauAdmin,
        Role::Sysadmin,
    ];

    /// The stored text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PoliceOperator => "police_operator",
            Self::PoliceSupervisor => "police_supervisor",
            Self::PoliceOfficer => "police_officer",
            Self::SchoolGuard => "school_guard",
            Self::SchoolAdmin => "school_admin",
            Self::BureauInspector => "bureau_inspector",
            Self::BureauAdmin => "bureau_admin",
            Self::Sysadmin => "sysadmin",
        }
    }

    /// Parses the stored text form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Police roles work the alarm centre.
    pub fn is_police(self) -> bool {
        matches!(
            self,
            Self::PoliceOperator | Self::PoliceSupervisor | Self::PoliceOfficer
        )
    }
}

/// A part of the world a user may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// A police jurisdiction (region of kind `police`).
    PoliceArea(Id),
    /// An education-bureau area (region of kind `bureau`).
    BureauRegion(Id),
    /// One school.
    School(Id),
}

/// Something a user may try to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Press the one-key alarm.
    RaiseAlarm,
    /// Tell the police a press was an accident.
    ReportAccidental,
    /// Read incidents, schools and the event stream.
    View,
    /// Take an incident.
    Claim,
    /// Send a unit or officer.
    Dispatch,
    /// Mark the police on scene.
    Arrive,
    /// Record the outcome.
    Resolve,
    /// Close a resolved incident.
    Close,
    /// Add a follow-up note.
    Note,
    /// Bind GB/T 28181 channels to schools' alarm points.
    ManageDevices,
    /// Send commands to devices: arm, disarm, alarm reset, PTZ.
    ControlDevices,
}

/// The one permission table: may `role` do `action` at all (scope is checked separately)?
pub fn allowed(role: Role, action: Action) -> bool {
    use Action as A;
    use Role as R;
    match action {
        A::View => true,
        A::RaiseAlarm | A::ReportAccidental => matches!(role, R::SchoolGuard | R::SchoolAdmin),
        A::Claim | A::Dispatch | A::Resolve | A::Close => {
            matches!(role, R::PoliceOperator | R::PoliceSupervisor)
        }
        A::Arrive => role.is_police(),
        A::Note => role.is_police() || matches!(role, R::SchoolGuard | R::SchoolAdmin),
        A::ManageDevices => matches!(role, R::PoliceSupervisor | R::Sysadmin),
        A::ControlDevices => role.is_police(),
    }
}

/// May the user see this school at all?
pub fn sees_school(user: &User, school: &School) -> bool {
    if user.role == Role::Sysadmin {
        return true;
    }
    user.scopes.iter().any(|scope| match *scope {
        Scope::PoliceArea(id) => school.police_region_id == id,
        Scope::BureauRegion(id) => school.bureau_region_id == id,
        Scope::School(id) => school.id == id,
    })
}

/// May the user see this incident? Officers in the field see only what is dispatched to them.
pub fn sees_incident(user: &User, school: &School, incident: &Incident) -> bool {
    if !sees_school(user, school) || incident.school_id != school.id {
        return false;
    }
    if user.role == Role::PoliceOfficer {
        return incident
            .dispatches
            .iter()
            .any(|d| d.officer_user_id == Some(user.id));
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SchoolKind;

    fn school(id: Id, bureau: Id, police: Id) -> School {
        School {
            id,
            name: format!("school {id}"),
            address: String::new(),
            lat: 30.27,
            lon: 109.48,
            kind: SchoolKind::Primary,
            pupils: 100,
            boarders: 0,
            bureau_region_id: bureau,
            police_region_id: police,
        }
    }

    fn user(role: Role, scopes: Vec<Scope>) -> User {
        User {
            id: 7,
            username: "u".into(),
            display_name: "u".into(),
            role,
            phone: None,
            scopes,
            post_alarm_point_id: None,
        }
    }

    #[test]
    fn scopes_select_schools_by_police_area_bureau_region_or_school() {
        let s = school(1, 10, 20);
        assert!(sees_school(
            &user(Role::PoliceOperator, vec![Scope::PoliceArea(20)]),
            &s
        ));
        assert!(!sees_school(
            &user(Role::PoliceOperator, vec![Scope::PoliceArea(21)]),
            &s
        ));
        assert!(sees_school(
            &user(Role::BureauAdmin, vec![Scope::BureauRegion(10)]),
            &s
        ));
        assert!(sees_school(
            &user(Role::SchoolGuard, vec![Scope::School(1)]),
            &s
        ));
        assert!(!sees_school(
            &user(Role::SchoolGuard, vec![Scope::School(2)]),
            &s
        ));
        assert!(sees_school(&user(Role::Sysadmin, vec![]), &s));
    }

    #[test]
    fn permission_table_keeps_police_and_school_actions_apart() {
        assert!(allowed(Role::SchoolGuard, Action::RaiseAlarm));
        assert!(!allowed(Role::PoliceOperator, Action::RaiseAlarm));
        assert!(allowed(Role::PoliceOperator, Action::Claim));
        assert!(!allowed(Role::PoliceOfficer, Action::Claim));
        assert!(allowed(Role::PoliceOfficer, Action::Arrive));
        assert!(!allowed(Role::BureauAdmin, Action::Resolve));
        assert!(!allowed(Role::SchoolGuard, Action::Close));
        for role in Role::ALL {
            assert!(allowed(role, Action::View));
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
    }
}
