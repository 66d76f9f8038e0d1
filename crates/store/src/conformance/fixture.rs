//! The fixture every check starts from: a small directory, its users as actors, alarms, and
//! fixed millisecond-precise times.

use chrono::{DateTime, Duration, TimeZone, Utc};
use xiaoan_core::access::{Role, Scope};
use xiaoan_core::incident::{Actor, NewAlarm};
use xiaoan_core::model::{
    AlarmPoint, Device, Id, Person, Region, RegionKind, School, SchoolKind, User,
};

use crate::{DirectorySeed, IdempotencyKey, Store};

use super::{ok, some};

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 8, 0, 0)
        .single()
        .map(|t| t + Duration::milliseconds(123))
        .unwrap_or_default()
}

/// `t0` plus whole seconds.
pub fn at(secs: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(secs)
}

pub const SCHOOL_A: Id = 100;
pub const SCHOOL_B: Id = 101;
pub const SCHOOL_C: Id = 102;
/// One-key point at school A.
pub const POINT_A1: Id = 1000;
/// Second point at school A.
pub const POINT_A2: Id = 1001;
pub const POINT_B: Id = 1010;
pub const POINT_C: Id = 1020;

fn user(id: Id, username: &str, name: &str, role: Role, scopes: Vec<Scope>) -> User {
    User {
        id,
        username: username.into(),
        display_name: name.into(),
        role,
        phone: None,
        scopes,
        post_alarm_point_id: None,
    }
}

/// The hash stored for user `id` in [`seed`].
pub fn hash_of(id: Id) -> String {
    format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ{id}$aGFzaGhhc2hoYXNo")
}

/// A small directory: one bureau, two police areas, three schools, four alarm points, users of
/// each working role.
pub fn seed() -> DirectorySeed {
    let mut guard = user(
        1,
        "guard",
        "王保安",
        Role::SchoolGuard,
        vec![Scope::School(SCHOOL_A)],
    );
    guard.phone = Some("13800000001".into());
    guard.post_alarm_point_id = Some(POINT_A1);
    let users = vec![
        guard,
        user(
            2,
            "op1",
            "李接警",
            Role::PoliceOperator,
            vec![Scope::PoliceArea(20), Scope::PoliceArea(21)],
        ),
        user(
            3,
            "op2",
            "张接警",
            Role::PoliceOperator,
            vec![Scope::PoliceArea(20)],
        ),
        user(
            4,
            "sup",
            "赵值班长",
            Role::PoliceSupervisor,
            vec![Scope::PoliceArea(20)],
        ),
        user(
            5,
            "officer",
            "陈民警",
            Role::PoliceOfficer,
            vec![Scope::PoliceArea(20)],
        ),
        user(
            6,
            "bureau",
            "刘督学",
            Role::BureauInspector,
            vec![Scope::BureauRegion(10), Scope::School(SCHOOL_C)],
        ),
        user(7, "admin", "系统管理员", Role::Sysadmin, vec![]),
    ];
    let school = |id: Id, name: &str, kind: SchoolKind, police: Id, lat: f64, lon: f64| School {
        id,
        name: name.into(),
        address: format!("{name}路1号"),
        lat,
        lon,
        kind,
        pupils: 100 + id,
        boarders: id - 100,
        bureau_region_id: 10,
        police_region_id: police,
    };
    let point = |id: Id, school_id: Id, name: &str, one_key: bool| AlarmPoint {
        id,
        school_id,
        name: name.into(),
        location: format!("{name}，一层"),
        one_key,
    };
    DirectorySeed {
        regions: vec![
            Region {
                id: 10,
                kind: RegionKind::Bureau,
                name: "城区教育局".into(),
                code: Some("422801".into()),
                phone: Some("0718-8200000".into()),
            },
            Region {
                id: 20,
                kind: RegionKind::Police,
                name: "舞阳派出所".into(),
                code: None,
                phone: Some("0718-110".into()),
            },
            Region {
                id: 21,
                kind: RegionKind::Police,
                name: "小渡船派出所".into(),
                code: Some("422801-02".into()),
                phone: None,
            },
        ],
        schools: vec![
            school(
                SCHOOL_A,
                "实验小学",
                SchoolKind::Primary,
                20,
                30.2712345678,
                109.4876543219,
            ),
            school(SCHOOL_B, "第一中学", SchoolKind::Middle, 21, 30.29, -109.5),
            school(
                SCHOOL_C,
                "阳光幼儿园",
                SchoolKind::Kindergarten,
                20,
                -0.000001,
                0.0,
            ),
        ],
        alarm_points: vec![
            point(POINT_A1, SCHOOL_A, "南门门卫室", true),
            point(POINT_A2, SCHOOL_A, "值班室", false),
            point(POINT_B, SCHOOL_B, "北门", true),
            point(POINT_C, SCHOOL_C, "大门", true),
        ],
        devices: vec![
            Device {
                id: 5000,
                school_id: SCHOOL_A,
                alarm_point_id: Some(POINT_A1),
                kind: "one_key_button".into(),
                name: "一键报警".into(),
                external_id: Some("1234".into()),
            },
            Device {
                id: 5001,
                school_id: SCHOOL_B,
                alarm_point_id: None,
                kind: "camera".into(),
                name: "操场摄像机".into(),
                external_id: None,
            },
        ],
        people: vec![
            Person {
                id: 9001,
                school_id: SCHOOL_A,
                role: "principal".into(),
                name: "周校长".into(),
                phone: "13900000001".into(),
            },
            Person {
                id: 9000,
                school_id: SCHOOL_A,
                role: "security_chief".into(),
                name: "吴主任".into(),
                phone: "13900000002".into(),
            },
        ],
        users: users
            .into_iter()
            .map(|u| {
                let h = hash_of(u.id);
                (u, h)
            })
            .collect(),
    }
}

/// The actor for fixture user `id`.
pub fn actor(id: Id) -> Actor {
    let seed = seed();
    let (u, _) = some(
        seed.users.into_iter().find(|(u, _)| u.id == id),
        "fixture user",
    );
    Actor {
        user_id: Some(u.id),
        name: u.display_name,
        role: Some(u.role),
    }
}

pub const GUARD: Id = 1;
pub const OP1: Id = 2;
pub const OP2: Id = 3;
pub const OFFICER: Id = 5;

/// A web press at `point` (school derived from the fixture) raised at `raised_at`.
pub fn alarm(point: Id, priority: u8, raised_at: DateTime<Utc>) -> NewAlarm {
    let school_id = match point {
        POINT_A1 | POINT_A2 => SCHOOL_A,
        POINT_B => SCHOOL_B,
        _ => SCHOOL_C,
    };
    NewAlarm {
        school_id,
        alarm_point_id: point,
        priority,
        kind: "panic".into(),
        source: "web".into(),
        silent: point == POINT_A2,
        note: Some("有人持刀".into()),
        raised_by: actor(GUARD),
        raised_at,
        details: if point == POINT_A2 {
            serde_json::json!({ "account": "1234", "code": "PA", "zone": "001" })
        } else {
            serde_json::Value::Null
        },
    }
}

pub(crate) async fn seeded(store: &dyn Store) {
    ok(store.seed_directory(&seed()).await, "seed_directory");
}

pub(crate) fn key(principal: &str, key: &str) -> IdempotencyKey {
    IdempotencyKey {
        principal: principal.into(),
        key: key.into(),
    }
}
