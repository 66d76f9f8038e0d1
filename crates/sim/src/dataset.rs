//! The demo dataset: real-looking schools and kindergartens of 恩施市 with alarm points,
//! responsible people and users (all with the same password hash, `demo` in the demo), and a
//! scalable dataset for benchmarks. Ids are fixed so tests and docs can name them.

use xiaoan_core::access::{Role, Scope};
use xiaoan_core::model::{
    AlarmPoint, Device, Id, Person, Region, RegionKind, School, SchoolKind, User,
};
use xiaoan_store::DirectorySeed;

/// Region ids of the demo.
pub const BUREAU: Id = 1;
/// 舞阳坝派出所: schools 1, 2 and 4.
pub const POLICE_AREA_1: Id = 2;
/// 小渡船派出所: schools 3 and 5.
pub const POLICE_AREA_2: Id = 3;

fn region(id: Id, kind: RegionKind, name: &str, code: &str, phone: &str) -> Region {
    Region {
        id,
        kind,
        name: name.into(),
        code: Some(code.into()),
        phone: Some(phone.into()),
    }
}

#[allow(clippy::too_many_arguments)]
fn school(
    id: Id,
    name: &str,
    address: &str,
    (lat, lon): (f64, f64),
    kind: SchoolKind,
    pupils: i64,
    boarders: i64,
    police: Id,
) -> School {
    School {
        id,
        name: name.into(),
        address: address.into(),
        lat,
        lon,
        kind,
        pupils,
        boarders,
        bureau_region_id: BUREAU,
        police_region_id: police,
    }
}

fn point(id: Id, school_id: Id, name: &str, location: &str, one_key: bool) -> AlarmPoint {
    AlarmPoint {
        id,
        school_id,
        name: name.into(),
        location: location.into(),
        one_key,
    }
}

fn person(id: Id, school_id: Id, role: &str, name: &str, phone: &str) -> Person {
    Person {
        id,
        school_id,
        role: role.into(),
        name: name.into(),
        phone: phone.into(),
    }
}

fn user(
    id: Id,
    username: &str,
    display_name: &str,
    role: Role,
    scopes: Vec<Scope>,
    post: Option<Id>,
    phone: &str,
) -> User {
    User {
        id,
        username: username.into(),
        display_name: display_name.into(),
        role,
        phone: Some(phone.into()),
        scopes,
        post_alarm_point_id: post,
    }
}

/// The demo: 恩施市, five schools, two police areas, one bureau. Every user gets `password_hash`.
pub fn demo(password_hash: &str) -> DirectorySeed {
    use RegionKind::{Bureau, Police};
    use SchoolKind::{Kindergarten, Middle, Primary};
    let regions = vec![
        region(BUREAU, Bureau, "恩施市教育局", "422801", "0718-8224301"),
        region(
            POLICE_AREA_1,
            Police,
            "恩施市公安局舞阳坝派出所",
            "422801-PCS-01",
            "0718-8212110",
        ),
        region(
            POLICE_AREA_2,
            Police,
            "恩施市公安局小渡船派出所",
            "422801-PCS-02",
            "0718-8236110",
        ),
    ];
    let schools = vec![
        school(
            1,
            "恩施市实验小学",
            "湖北省恩施市舞阳大道181号",
            (30.2946, 109.4797),
            Primary,
            2860,
            0,
            POLICE_AREA_1,
        ),
        school(
            2,
            "恩施市机关幼儿园",
            "湖北省恩施市航空大道56号",
            (30.2988, 109.4756),
            Kindergarten,
            420,
            0,
            POLICE_AREA_1,
        ),
        school(
            3,
            "恩施市小渡船中学",
            "湖北省恩施市小渡船街道施州大道12号",
            (30.2712, 109.4893),
            Middle,
            1650,
            820,
            POLICE_AREA_2,
        ),
        school(
            4,
            "恩施市东风大道小学",
            "湖北省恩施市东风大道88号",
            (30.3031, 109.4862),
            Primary,
            1930,
            0,
            POLICE_AREA_1,
        ),
        school(
            5,
            "恩施市小渡船幼儿园",
            "湖北省恩施市小渡船街道学院路7号",
            (30.2675, 109.4830),
            Kindergarten,
            310,
            0,
            POLICE_AREA_2,
        ),
    ];
    let alarm_points = vec![
        point(1, 1, "南门门卫室", "南门东侧门卫室，一层临街", true),
        point(2, 1, "北门门卫室", "北门（后门）门卫室", true),
        point(3, 1, "安防监控室", "综合楼一楼东侧", true),
        point(4, 1, "教学楼值班室", "1号教学楼一楼楼梯口", false),
        point(5, 2, "大门门卫室", "幼儿园正门左侧", true),
        point(6, 2, "保健室", "一楼保健室（晨检处）", false),
        point(7, 3, "校门门卫室", "校门西侧门卫室", true),
        point(8, 3, "男生宿舍值班室", "男生宿舍楼一楼", true),
        point(9, 3, "女生宿舍值班室", "女生宿舍楼一楼", true),
        point(10, 3, "安防监控中心", "行政楼二楼", true),
        point(11, 4, "东门门卫室", "东门门卫室", true),
        point(12, 5, "大门门卫室", "园门右侧门卫室", true),
    ];
    let devices = alarm_points
        .iter()
        .filter(|p| p.one_key)
        .map(|p| Device {
            id: p.id,
            school_id: p.school_id,
            alarm_point_id: Some(p.id),
            kind: "web_terminal".into(),
            name: format!("{}一键报警终端", p.name),
            external_id: None,
        })
        .collect();
    let people = vec![
        person(1, 1, "principal", "刘红梅", "13907181021"),
        person(2, 1, "security_chief", "向东", "13872712033"),
        person(3, 1, "guard", "张建国", "15971812046"),
        person(4, 1, "inspector", "周文", "13508640155"),
        person(5, 1, "police_contact", "社区民警 覃勇", "13972711862"),
        person(6, 2, "principal", "谭晓燕", "13886891207"),
        person(7, 2, "guard", "黄志强", "15071861139"),
        person(8, 2, "inspector", "周文", "13508640155"),
        person(9, 2, "police_contact", "社区民警 覃勇", "13972711862"),
        person(10, 3, "principal", "杨国华", "13907181580"),
        person(11, 3, "security_chief", "邓平", "13593736624"),
        person(12, 3, "guard", "滕光明", "18772763018"),
        person(13, 3, "inspector", "黄丽", "13617188725"),
        person(14, 3, "police_contact", "社区民警 牟磊", "13886840937"),
        person(15, 4, "principal", "田春梅", "13972780412"),
        person(16, 4, "guard", "冉启华", "15827002361"),
        person(17, 5, "principal", "饶静", "13508640387"),
        person(18, 5, "guard", "胡德胜", "13797755240"),
    ];
    let users = vec![
        user(
            1,
            "operator",
            "接警员 李娜",
            Role::PoliceOperator,
            vec![Scope::PoliceArea(POLICE_AREA_1)],
            None,
            "0718-8212110",
        ),
        user(
            2,
            "supervisor",
            "值班长 赵刚",
            Role::PoliceSupervisor,
            vec![Scope::PoliceArea(POLICE_AREA_1)],
            None,
            "13707188001",
        ),
        user(
            3,
            "officer",
            "民警 陈伟",
            Role::PoliceOfficer,
            vec![Scope::PoliceArea(POLICE_AREA_1)],
            None,
            "13707188023",
        ),
        user(
            4,
            "operator2",
            "接警员 王芳",
            Role::PoliceOperator,
            vec![Scope::PoliceArea(POLICE_AREA_2)],
            None,
            "0718-8236110",
        ),
        user(
            5,
            "guard1",
            "门卫 张建国",
            Role::SchoolGuard,
            vec![Scope::School(1)],
            Some(1),
            "15971812046",
        ),
        user(
            6,
            "principal1",
            "校长 刘红梅",
            Role::SchoolAdmin,
            vec![Scope::School(1)],
            None,
            "13907181021",
        ),
        user(
            7,
            "guard2",
            "门卫 黄志强",
            Role::SchoolGuard,
            vec![Scope::School(2)],
            Some(5),
            "15071861139",
        ),
        user(
            8,
            "inspector",
            "责任督学 周文",
            Role::BureauInspector,
            vec![Scope::School(1), Scope::School(2)],
            None,
            "13508640155",
        ),
        user(
            9,
            "bureau",
            "教育局安全科 田亮",
            Role::BureauAdmin,
            vec![Scope::BureauRegion(BUREAU)],
            None,
            "0718-8224301",
        ),
        user(
            10,
            "admin",
            "系统管理员",
            Role::Sysadmin,
            vec![],
            None,
            "0718-8224300",
        ),
        user(
            11,
            "officer2",
            "民警 谭军",
            Role::PoliceOfficer,
            vec![Scope::PoliceArea(POLICE_AREA_2)],
            None,
            "13707188057",
        ),
    ];
    DirectorySeed {
        regions,
        schools,
        alarm_points,
        devices,
        people,
        users: users
            .into_iter()
            .map(|u| (u, password_hash.to_owned()))
            .collect(),
    }
}

/// A benchmark directory: `schools` schools of `points_per_school` one-key points each, all in one
/// police area; user `benchop` (operator) sees them all and `benchguard` (guard) may press at any.
pub fn bench(schools: usize, points_per_school: usize, password_hash: &str) -> DirectorySeed {
    let mut seed = DirectorySeed {
        regions: vec![
            region(BUREAU, RegionKind::Bureau, "基准测试教育局", "000000", "0"),
            region(
                POLICE_AREA_1,
                RegionKind::Police,
                "基准测试派出所",
                "000000-PCS",
                "0",
            ),
        ],
        ..Default::default()
    };
    let mut point_id = 0;
    for s in 1..=schools as Id {
        let offset = s as f64 * 0.0005;
        seed.schools.push(school(
            s,
            &format!("基准学校{s}"),
            "基准路1号",
            (30.28 + offset, 109.47 + offset),
            SchoolKind::Primary,
            1000,
            0,
            POLICE_AREA_1,
        ));
        for p in 0..points_per_school {
            point_id += 1;
            seed.alarm_points
                .push(point(point_id, s, &format!("门卫室{p}"), "大门", true));
        }
    }
    let all_schools = (1..=schools as Id).map(Scope::School).collect();
    seed.users = vec![
        (
            user(
                1,
                "benchop",
                "基准接警员",
                Role::PoliceOperator,
                vec![Scope::PoliceArea(POLICE_AREA_1)],
                None,
                "0",
            ),
            password_hash.to_owned(),
        ),
        (
            user(
                2,
                "benchguard",
                "基准门卫",
                Role::SchoolGuard,
                all_schools,
                Some(1),
                "0",
            ),
            password_hash.to_owned(),
        ),
    ];
    seed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_cross_references_hold() {
        let seed = demo("x");
        for p in &seed.alarm_points {
            assert!(seed.schools.iter().any(|s| s.id == p.school_id));
        }
        for s in &seed.schools {
            assert!(
                seed.regions
                    .iter()
                    .any(|r| r.id == s.police_region_id && r.kind == RegionKind::Police)
            );
            assert!(
                seed.regions
                    .iter()
                    .any(|r| r.id == s.bureau_region_id && r.kind == RegionKind::Bureau)
            );
        }
        for (u, _) in &seed.users {
            if let Some(post) = u.post_alarm_point_id {
                assert!(seed.alarm_points.iter().any(|p| p.id == post));
            }
        }
        let names: Vec<_> = seed
            .users
            .iter()
            .map(|(u, _)| u.username.as_str())
            .collect();
        for required in [
            "operator",
            "supervisor",
            "officer",
            "operator2",
            "guard1",
            "principal1",
            "guard2",
            "inspector",
            "bureau",
            "admin",
        ] {
            assert!(names.contains(&required), "{required}");
        }
    }

    #[test]
    fn bench_dataset_scales() {
        let seed = bench(20, 5, "x");
        assert_eq!(seed.schools.len(), 20);
        assert_eq!(seed.alarm_points.len(), 100);
    }
}
