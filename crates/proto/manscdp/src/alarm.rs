//! THE alarm mapping table: (`AlarmMethod`, `AlarmType`) of a GB/T 28181 alarm notify →
//! normalized [`AlarmKind`], plus each kind's stable name, labels (中文/English), default
//! priority and [`Route`]. Documented in `docs/ref/gb28181-alarms.md`; keep the two in step.

/// One alarm method digit (GB/T 28181 `AlarmMethod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AlarmMethod {
    /// 1 电话报警: telephone alarm; school one-key (一键报警) buttons report this way.
    Telephone = 1,
    /// 2 设备报警: device alarm (alarm input, or a device condition given by `AlarmType`).
    Device = 2,
    /// 3 短信报警.
    Sms = 3,
    /// 4 GPS报警.
    Gps = 4,
    /// 5 视频报警: video analytics, by `AlarmType`.
    Video = 5,
    /// 6 设备故障报警, by `AlarmType`.
    DeviceFault = 6,
    /// 7 其他报警.
    Other = 7,
}

impl AlarmMethod {
    /// All methods, in digit order.
    pub const ALL: [AlarmMethod; 7] = [
        Self::Telephone,
        Self::Device,
        Self::Sms,
        Self::Gps,
        Self::Video,
        Self::DeviceFault,
        Self::Other,
    ];

    /// The method for a digit 1–7.
    pub fn from_digit(d: u8) -> Option<Self> {
        Self::ALL.get(usize::from(d).checked_sub(1)?).copied()
    }

    /// The digit 1–7.
    pub fn digit(self) -> u8 {
        self as u8
    }
}

/// A set of alarm methods: `AlarmMethod` may combine digits (`12` = telephone and device).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AlarmMethods(u8);

impl AlarmMethods {
    /// No method.
    pub const EMPTY: Self = Self(0);

    /// Reads the digits 1–7 of a value such as `2`, `12` or `1,2`; other characters are
    /// ignored.
    pub fn from_digits(s: &str) -> Self {
        s.bytes()
            .filter(u8::is_ascii_digit)
            .filter_map(|b| AlarmMethod::from_digit(b - b'0'))
            .fold(Self::EMPTY, Self::with)
    }

    /// This set plus one method.
    pub fn with(self, m: AlarmMethod) -> Self {
        Self(self.0 | 1 << (m.digit() - 1))
    }

    /// A set of one method.
    pub fn single(m: AlarmMethod) -> Self {
        Self::EMPTY.with(m)
    }

    pub fn contains(self, m: AlarmMethod) -> bool {
        self.0 & (1 << (m.digit() - 1)) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The methods in digit order.
    pub fn iter(self) -> impl Iterator<Item = AlarmMethod> {
        AlarmMethod::ALL
            .into_iter()
            .filter(move |m| self.contains(*m))
    }

    /// The digits as sent (`"12"`), empty for an empty set.
    pub fn to_digits(self) -> String {
        self.iter().map(|m| char::from(b'0' + m.digit())).collect()
    }
}

/// Where an alarm goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    /// Opens (or updates) an incident for the duty officer.
    Incident,
    /// Device health and the event log (faults, video loss, disk full, temperature).
    DeviceHealth,
    /// No known alarm method: log it and show it for review; never silently dropped.
    Review,
}

/// Normalized GB/T 28181 alarm kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlarmKind {
    /// Method 1.
    Telephone,
    /// Method 2 without a known `AlarmType`: an alarm input (button, infrared, door contact).
    DeviceAlarm,
    /// Method 2 type 1.
    VideoLoss,
    /// Method 2 type 2.
    Tamper,
    /// Method 2 type 3.
    DiskFull,
    /// Method 2 type 4.
    HighTemperature,
    /// Method 2 type 5.
    LowTemperature,
    /// Method 3.
    Sms,
    /// Method 4.
    Gps,
    /// Method 5 type 1.
    ManualVideo,
    /// Method 5 type 2.
    Motion,
    /// Method 5 type 3.
    AbandonedObject,
    /// Method 5 type 4.
    ObjectRemoved,
    /// Method 5 type 5.
    Tripwire,
    /// Method 5 type 6 (`AlarmTypeParam/EventType`: 1 entering, 2 leaving the area).
    Intrusion,
    /// Method 5 type 7.
    WrongWay,
    /// Method 5 type 8.
    Loitering,
    /// Method 5 type 9.
    FlowCount,
    /// Method 5 type 10.
    Density,
    /// Method 5 type 11.
    VideoAnomaly,
    /// Method 5 type 12.
    FastMovement,
    /// Method 5 without a known type.
    VideoAlarm,
    /// Method 6 type 1.
    DiskFault,
    /// Method 6 type 2.
    FanFault,
    /// Method 6 without a known type.
    DeviceFault,
    /// Method 7.
    Other,
    /// No known method digit.
    Unknown,
}

impl AlarmKind {
    /// Every kind, in table order.
    pub const ALL: [AlarmKind; 27] = [
        Self::Telephone,
        Self::DeviceAlarm,
        Self::VideoLoss,
        Self::Tamper,
        Self::DiskFull,
        Self::HighTemperature,
        Self::LowTemperature,
        Self::Sms,
        Self::Gps,
        Self::ManualVideo,
        Self::Motion,
        Self::AbandonedObject,
        Self::ObjectRemoved,
        Self::Tripwire,
        Self::Intrusion,
        Self::WrongWay,
        Self::Loitering,
        Self::FlowCount,
        Self::Density,
        Self::VideoAnomaly,
        Self::FastMovement,
        Self::VideoAlarm,
        Self::DiskFault,
        Self::FanFault,
        Self::DeviceFault,
        Self::Other,
        Self::Unknown,
    ];

    /// The kind for one method and the notify's `AlarmType`: THE table.
    pub fn of(method: AlarmMethod, alarm_type: Option<u32>) -> Self {
        use AlarmMethod as M;
        match (method, alarm_type) {
            (M::Telephone, _) => Self::Telephone,
            (M::Device, Some(1)) => Self::VideoLoss,
            (M::Device, Some(2)) => Self::Tamper,
            (M::Device, Some(3)) => Self::DiskFull,
            (M::Device, Some(4)) => Self::HighTemperature,
            (M::Device, Some(5)) => Self::LowTemperature,
            (M::Device, _) => Self::DeviceAlarm,
            (M::Sms, _) => Self::Sms,
            (M::Gps, _) => Self::Gps,
            (M::Video, Some(1)) => Self::ManualVideo,
            (M::Video, Some(2)) => Self::Motion,
            (M::Video, Some(3)) => Self::AbandonedObject,
            (M::Video, Some(4)) => Self::ObjectRemoved,
            (M::Video, Some(5)) => Self::Tripwire,
            (M::Video, Some(6)) => Self::Intrusion,
            (M::Video, Some(7)) => Self::WrongWay,
            (M::Video, Some(8)) => Self::Loitering,
            (M::Video, Some(9)) => Self::FlowCount,
            (M::Video, Some(10)) => Self::Density,
            (M::Video, Some(11)) => Self::VideoAnomaly,
            (M::Video, Some(12)) => Self::FastMovement,
            (M::Video, _) => Self::VideoAlarm,
            (M::DeviceFault, Some(1)) => Self::DiskFault,
            (M::DeviceFault, Some(2)) => Self::FanFault,
            (M::DeviceFault, _) => Self::DeviceFault,
            (M::Other, _) => Self::Other,
        }
    }

    /// The stable snake-case name, as stored on incidents and signals.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Telephone => "telephone_alarm",
            Self::DeviceAlarm => "device_alarm",
            Self::VideoLoss => "video_loss",
            Self::Tamper => "tamper",
            Self::DiskFull => "disk_full",
            Self::HighTemperature => "high_temperature",
            Self::LowTemperature => "low_temperature",
            Self::Sms => "sms_alarm",
            Self::Gps => "gps_alarm",
            Self::ManualVideo => "manual_video_alarm",
            Self::Motion => "motion_detection",
            Self::AbandonedObject => "abandoned_object",
            Self::ObjectRemoved => "object_removed",
            Self::Tripwire => "tripwire",
            Self::Intrusion => "intrusion",
            Self::WrongWay => "wrong_way",
            Self::Loitering => "loitering",
            Self::FlowCount => "flow_count",
            Self::Density => "crowd_density",
            Self::VideoAnomaly => "video_anomaly",
            Self::FastMovement => "fast_movement",
            Self::VideoAlarm => "video_alarm",
            Self::DiskFault => "disk_fault",
            Self::FanFault => "fan_fault",
            Self::DeviceFault => "device_fault",
            Self::Other => "other_alarm",
            Self::Unknown => "unknown",
        }
    }

    /// The kind with this stable name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Telephone => "电话报警（一键报警）",
            Self::DeviceAlarm => "设备报警输入",
            Self::VideoLoss => "视频丢失",
            Self::Tamper => "设备防拆",
            Self::DiskFull => "存储设备磁盘满",
            Self::HighTemperature => "设备高温",
            Self::LowTemperature => "设备低温",
            Self::Sms => "短信报警",
            Self::Gps => "GPS报警",
            Self::ManualVideo => "人工视频报警",
            Self::Motion => "运动目标检测",
            Self::AbandonedObject => "遗留物检测",
            Self::ObjectRemoved => "物体移除检测",
            Self::Tripwire => "绊线检测",
            Self::Intrusion => "入侵检测",
            Self::WrongWay => "逆行检测",
            Self::Loitering => "徘徊检测",
            Self::FlowCount => "流量统计",
            Self::Density => "密度检测",
            Self::VideoAnomaly => "视频异常",
            Self::FastMovement => "快速移动",
            Self::VideoAlarm => "视频报警",
            Self::DiskFault => "存储设备磁盘故障",
            Self::FanFault => "存储设备风扇故障",
            Self::DeviceFault => "设备故障",
            Self::Other => "其他报警",
            Self::Unknown => "未知报警",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            Self::Telephone => "Telephone / one-key alarm",
            Self::DeviceAlarm => "Device alarm input",
            Self::VideoLoss => "Video loss",
            Self::Tamper => "Tamper",
            Self::DiskFull => "Disk full",
            Self::HighTemperature => "High temperature",
            Self::LowTemperature => "Low temperature",
            Self::Sms => "SMS alarm",
            Self::Gps => "GPS alarm",
            Self::ManualVideo => "Manual video alarm",
            Self::Motion => "Motion detection",
            Self::AbandonedObject => "Abandoned object",
            Self::ObjectRemoved => "Object removed",
            Self::Tripwire => "Tripwire",
            Self::Intrusion => "Intrusion",
            Self::WrongWay => "Wrong-way movement",
            Self::Loitering => "Loitering",
            Self::FlowCount => "Flow count",
            Self::Density => "Crowd density",
            Self::VideoAnomaly => "Video anomaly",
            Self::FastMovement => "Fast movement",
            Self::VideoAlarm => "Video alarm",
            Self::DiskFault => "Disk fault",
            Self::FanFault => "Fan fault",
            Self::DeviceFault => "Device fault",
            Self::Other => "Other alarm",
            Self::Unknown => "Unknown alarm",
        }
    }

    /// Default priority, 1 (highest, 一级警情) … 4; a valid `AlarmPriority` from the device
    /// overrides it.
    pub fn default_priority(self) -> u8 {
        match self {
            Self::Telephone => 1,
            Self::DeviceAlarm
            | Self::Tamper
            | Self::Sms
            | Self::ManualVideo
            | Self::Tripwire
            | Self::Intrusion => 2,
            Self::VideoLoss
            | Self::HighTemperature
            | Self::LowTemperature
            | Self::Gps
            | Self::AbandonedObject
            | Self::ObjectRemoved
            | Self::Loitering
            | Self::Density
            | Self::VideoAnomaly
            | Self::FastMovement
            | Self::VideoAlarm
            | Self::DiskFault
            | Self::DeviceFault
            | Self::Other
            | Self::Unknown => 3,
            Self::DiskFull | Self::Motion | Self::WrongWay | Self::FlowCount | Self::FanFault => 4,
        }
    }

    /// Where the kind goes.
    pub fn route(self) -> Route {
        match self {
            Self::VideoLoss
            | Self::DiskFull
            | Self::HighTemperature
            | Self::LowTemperature
            | Self::VideoAnomaly
            | Self::DiskFault
            | Self::FanFault
            | Self::DeviceFault => Route::DeviceHealth,
            Self::Unknown => Route::Review,
            _ => Route::Incident,
        }
    }

    /// True if `AlarmType` changed the kind away from the method's generic kind.
    fn is_specific(self) -> bool {
        !matches!(
            self,
            Self::DeviceAlarm | Self::VideoAlarm | Self::DeviceFault | Self::Unknown
        )
    }
}

/// The outcome of [`classify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Classification {
    pub kind: AlarmKind,
    pub route: Route,
    /// The device's `AlarmPriority` if it is 1–4, else the kind's default.
    pub priority: u8,
    /// The method component the kind came from (`None` for [`AlarmKind::Unknown`]).
    pub method: Option<AlarmMethod>,
}

/// Classifies an alarm. For combined methods each component is looked up with the same
/// `AlarmType`; if any component opens an incident the alarm is an incident, and the component
/// chosen is, in order: an incident over device health, the most urgent default priority, a
/// kind the `AlarmType` made specific over a generic one, the lowest digit.
pub fn classify(
    methods: AlarmMethods,
    alarm_type: Option<u32>,
    device_priority: Option<u8>,
) -> Classification {
    let best = methods
        .iter()
        .map(|m| (m, AlarmKind::of(m, alarm_type)))
        .min_by_key(|(m, k)| {
            (
                k.route() != Route::Incident,
                k.default_priority(),
                !k.is_specific(),
                m.digit(),
            )
        });
    let (method, kind) = match best {
        Some((m, k)) => (Some(m), k),
        None => (None, AlarmKind::Unknown),
    };
    let priority = device_priority
        .filter(|p| (1..=4).contains(p))
        .unwrap_or_else(|| kind.default_priority());
    Classification {
        kind,
        route: kind.route(),
        priority,
        method,
    }
}
