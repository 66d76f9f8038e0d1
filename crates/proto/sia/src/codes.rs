//! THE mapping table: Contact ID event codes and SIA DC-03 codes → normalized `AlarmKind`,
//! plus each kind's labels (中文/English), default priority and routing.
//! Documented in `docs/ref/dc09-events.md`; keep the two in step.

/// Normalized alarm kind shared by Contact ID and SIA DC-03.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AlarmKind {
    Panic,
    SilentPanic,
    HoldUp,
    Duress,
    Fire,
    Medical,
    Burglary,
    Tamper,
    AcLoss,
    LowBattery,
    PeriodicTest,
    ManualTest,
    /// Disarm.
    Opening,
    /// Arm.
    Closing,
    Trouble,
    /// Restore of a condition (see `Event::restores` for which).
    Restore,
    /// Code not in the table; never dropped. `raw` is the code as received.
    Unknown {
        raw: String,
    },
}

/// Where an event goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    /// Opens (or updates) an incident for the duty officer.
    Incident,
    /// Device health / event log (tests, arming, power, troubles, restores).
    DeviceHealth,
    /// Unknown code: log it and show it for review; never silently dropped.
    Review,
}

impl AlarmKind {
    /// Every named kind (all but `Unknown`), in table order.
    pub const NAMED: [AlarmKind; 16] = [
        Self::Panic,
        Self::SilentPanic,
        Self::HoldUp,
        Self::Duress,
        Self::Fire,
        Self::Medical,
        Self::Burglary,
        Self::Tamper,
        Self::AcLoss,
        Self::LowBattery,
        Self::PeriodicTest,
        Self::ManualTest,
        Self::Opening,
        Self::Closing,
        Self::Trouble,
        Self::Restore,
    ];

    /// The named kind whose [`as_str`](Self::as_str) is `name`.
    pub fn from_name(name: &str) -> Option<AlarmKind> {
        Self::NAMED.into_iter().find(|k| k.as_str() == name)
    }

    /// The stable snake-case name, as stored on incidents and signals.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Panic => "panic",
            Self::SilentPanic => "silent_panic",
            Self::HoldUp => "hold_up",
            Self::Duress => "duress",
            Self::Fire => "fire",
            Self::Medical => "medical",
            Self::Burglary => "burglary",
            Self::Tamper => "tamper",
            Self::AcLoss => "ac_loss",
            Self::LowBattery => "low_battery",
            Self::PeriodicTest => "periodic_test",
            Self::ManualTest => "manual_test",
            Self::Opening => "opening",
            Self::Closing => "closing",
            Self::Trouble => "trouble",
            Self::Restore => "restore",
            Self::Unknown { .. } => "unknown",
        }
    }

    /// Chinese label.
    pub fn label_zh(&self) -> &'static str {
        match self {
            Self::Panic => "紧急求助",
            Self::SilentPanic => "无声求助",
            Self::HoldUp => "抢劫报警",
            Self::Duress => "挟持报警",
            Self::Fire => "火警",
            Self::Medical => "医疗求助",
            Self::Burglary => "入侵报警",
            Self::Tamper => "防拆报警",
            Self::AcLoss => "交流电断电",
            Self::LowBattery => "电池欠压",
            Self::PeriodicTest => "定时测试",
            Self::ManualTest => "手动测试",
            Self::Opening => "撤防",
            Self::Closing => "布防",
            Self::Trouble => "故障",
            Self::Restore => "恢复",
            Self::Unknown { .. } => "未知事件",
        }
    }

    /// English label.
    pub fn label_en(&self) -> &'static str {
        match self {
            Self::Panic => "Panic",
            Self::SilentPanic => "Silent panic",
            Self::HoldUp => "Hold-up",
            Self::Duress => "Duress",
            Self::Fire => "Fire",
            Self::Medical => "Medical",
            Self::Burglary => "Burglary",
            Self::Tamper => "Tamper",
            Self::AcLoss => "AC power loss",
            Self::LowBattery => "Low battery",
            Self::PeriodicTest => "Periodic test",
            Self::ManualTest => "Manual test",
            Self::Opening => "Opening (disarm)",
            Self::Closing => "Closing (arm)",
            Self::Trouble => "Trouble",
            Self::Restore => "Restore",
            Self::Unknown { .. } => "Unknown event",
        }
    }

    /// Default priority, 1 (highest) … 4.
    pub fn priority(&self) -> u8 {
        match self {
            Self::Panic | Self::SilentPanic | Self::HoldUp | Self::Duress | Self::Fire => 1,
            Self::Medical | Self::Burglary => 2,
            Self::Tamper | Self::AcLoss | Self::Trouble | Self::Unknown { .. } => 3,
            Self::LowBattery
            | Self::PeriodicTest
            | Self::ManualTest
            | Self::Opening
            | Self::Closing
            | Self::Restore => 4,
        }
    }

    /// Where events of this kind go.
    pub fn route(&self) -> Route {
        match self {
            Self::Panic
            | Self::SilentPanic
            | Self::HoldUp
            | Self::Duress
            | Self::Fire
            | Self::Medical
            | Self::Burglary
            | Self::Tamper => Route::Incident,
            Self::AcLoss
            | Self::LowBattery
            | Self::PeriodicTest
            | Self::ManualTest
            | Self::Opening
            | Self::Closing
            | Self::Trouble
            | Self::Restore => Route::DeviceHealth,
            Self::Unknown { .. } => Route::Review,
        }
    }

    /// True if this kind opens an incident (panic, hold-up/duress, fire, medical, burglary, tamper).
    pub fn opens_incident(&self) -> bool {
        self.route() == Route::Incident
    }
}

/// Contact ID event code (XYZ, without the qualifier) → kind. `None`: not in the table.
pub fn cid_kind(code: u16) -> Option<AlarmKind> {
    use AlarmKind::*;
    Some(match code {
        100 | 101 => Medical,
        110..=117 => Fire,
        120 | 123 => Panic,
        121 | 124 | 125 => Duress,
        122 => SilentPanic,
        130..=136 => Burglary,
        137 | 144 | 145 | 383 => Tamper,
        301 => AcLoss,
        302 | 384 => LowBattery,
        300..=399 => Trouble,
        400..=405 | 407..=409 => Opening,
        601 => ManualTest,
        602 => PeriodicTest,
        _ => return None,
    })
}

/// A SIA DC-03 code's meaning: the kind, and for restores the kind being restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiaMeaning {
    pub kind: AlarmKind,
    pub restores: Option<AlarmKind>,
}

/// SIA DC-03 two-letter code → meaning. `None`: not in the table.
pub fn sia_meaning(code: &str) -> Option<SiaMeaning> {
    use AlarmKind::*;
    let (kind, restores) = match code {
        "PA" => (Panic, None),
        "PH" | "PR" => (Restore, Some(Panic)),
        "HA" => (HoldUp, None),
        "HH" | "HR" => (Restore, Some(HoldUp)),
        "MA" | "QA" => (Medical, None),
        "MH" | "MR" | "QH" | "QR" => (Restore, Some(Medical)),
        "FA" => (Fire, None),
        "FH" | "FR" => (Restore, Some(Fire)),
        "BA" => (Burglary, None),
        "BH" | "BR" => (Restore, Some(Burglary)),
        "TA" => (Tamper, None),
        "TR" => (Restore, Some(Tamper)),
        "AT" => (AcLoss, None),
        "AR" => (Restore, Some(AcLoss)),
        "YT" | "XT" => (LowBattery, None),
        "YR" | "XR" => (Restore, Some(LowBattery)),
        "RP" => (PeriodicTest, None),
        "RX" => (ManualTest, None),
        "OP" | "OA" | "OG" | "OQ" | "OS" | "OR" => (Opening, None),
        "CL" | "CA" | "CG" | "CQ" | "CS" | "CF" => (Closing, None),
        "BT" | "FT" | "PT" | "HT" | "MT" | "QT" | "ET" | "LT" | "NT" | "YP" | "YM" | "YC" => {
            (Trouble, None)
        }
        "BJ" | "FJ" | "PJ" | "HJ" | "MJ" | "QJ" | "ER" | "LR" | "NR" | "YQ" => {
            (Restore, Some(Trouble))
        }
        _ => return None,
    };
    Some(SiaMeaning { kind, restores })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.
mod tests {
    use super::*;

    #[test]
    fn every_named_kind_round_trips_by_name() {
        for k in AlarmKind::NAMED {
            assert_eq!(AlarmKind::from_name(k.as_str()), Some(k.clone()));
        }
        assert_eq!(AlarmKind::from_name("unknown"), None);
        assert_eq!(AlarmKind::from_name("Panic"), None);
    }

    #[test]
    fn cid_table_matches_standards_digest() {
        use AlarmKind::*;
        let want = [
            (120, Panic),
            (121, Duress),
            (122, SilentPanic),
            (123, Panic),
            (100, Medical),
            (101, Medical),
            (110, Fire),
            (111, Fire),
            (114, Fire),
            (130, Burglary),
            (134, Burglary),
            (137, Tamper),
            (144, Tamper),
            (145, Tamper),
            (383, Tamper),
            (301, AcLoss),
            (302, LowBattery),
            (601, ManualTest),
            (602, PeriodicTest),
            (401, Opening),
            (350, Trouble),
        ];
        for (code, kind) in want {
            assert_eq!(cid_kind(code), Some(kind), "{code}");
        }
        assert_eq!(cid_kind(406), None);
        assert_eq!(cid_kind(999), None);
    }

    #[test]
    fn sia_table() {
        assert_eq!(sia_meaning("PA").map(|m| m.kind), Some(AlarmKind::Panic));
        assert_eq!(
            sia_meaning("PH"),
            Some(SiaMeaning {
                kind: AlarmKind::Restore,
                restores: Some(AlarmKind::Panic)
            })
        );
        assert_eq!(sia_meaning("HA").map(|m| m.kind), Some(AlarmKind::HoldUp));
        assert_eq!(sia_meaning("QA").map(|m| m.kind), Some(AlarmKind::Medical));
        assert_eq!(sia_meaning("CL").map(|m| m.kind), Some(AlarmKind::Closing));
        assert_eq!(sia_meaning("ZZ"), None);
    }

    #[test]
    fn routing_and_priority() {
        assert!(AlarmKind::Panic.opens_incident());
        assert!(AlarmKind::Tamper.opens_incident());
        assert!(!AlarmKind::PeriodicTest.opens_incident());
        assert!(!AlarmKind::Restore.opens_incident());
        let unknown = AlarmKind::Unknown { raw: "ZZ".into() };
        assert_eq!(unknown.route(), Route::Review);
        assert_eq!(AlarmKind::Panic.priority(), 1);
        assert_eq!(AlarmKind::PeriodicTest.priority(), 4);
        assert_eq!(AlarmKind::Panic.label_zh(), "紧急求助");
        assert_eq!(AlarmKind::Duress.label_zh(), "挟持报警");
        assert_eq!(AlarmKind::Closing.label_en(), "Closing (arm)");
    }
}
