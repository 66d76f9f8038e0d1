//! GB/T 28181 device IDs: the 20-digit code and the kind of device its type code (digits
//! 11–13) names.

/// What a device or channel is, from the type code of its ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    /// 111
    Dvr,
    /// 117
    AlarmController,
    /// 118
    Nvr,
    /// 131
    Camera,
    /// 132
    Ipc,
    /// 134: infrared, smoke, door contact, one-key button inputs.
    AlarmInput,
    /// 135: lights, bells.
    AlarmOutput,
    /// 200: centre SIP server (platform).
    Platform,
    /// 215
    BusinessGroup,
    /// 216
    VirtualOrg,
    /// Any other type code.
    Other(u16),
}

impl DeviceKind {
    /// The kind for a three-digit type code.
    pub fn from_type_code(code: u16) -> Self {
        match code {
            111 => Self::Dvr,
            117 => Self::AlarmController,
            118 => Self::Nvr,
            131 => Self::Camera,
            132 => Self::Ipc,
            134 => Self::AlarmInput,
            135 => Self::AlarmOutput,
            200 => Self::Platform,
            215 => Self::BusinessGroup,
            216 => Self::VirtualOrg,
            other => Self::Other(other),
        }
    }

    /// The kind named by a device ID, or `None` if the ID is not 20 ASCII digits.
    pub fn of_id(device_id: &str) -> Option<Self> {
        type_code(device_id).map(Self::from_type_code)
    }

    /// The three-digit type code.
    pub fn type_code(self) -> u16 {
        match self {
            Self::Dvr => 111,
            Self::AlarmController => 117,
            Self::Nvr => 118,
            Self::Camera => 131,
            Self::Ipc => 132,
            Self::AlarmInput => 134,
            Self::AlarmOutput => 135,
            Self::Platform => 200,
            Self::BusinessGroup => 215,
            Self::VirtualOrg => 216,
            Self::Other(c) => c,
        }
    }

    /// Camera or IPC: a channel with video.
    pub fn is_camera(self) -> bool {
        matches!(self, Self::Camera | Self::Ipc)
    }
}

/// True for a well-formed device ID: exactly 20 ASCII digits.
pub fn is_valid_device_id(device_id: &str) -> bool {
    device_id.len() == 20 && device_id.bytes().all(|b| b.is_ascii_digit())
}

/// Digits 11–13 of a 20-digit device ID as a number.
pub fn type_code(device_id: &str) -> Option<u16> {
    if !is_valid_device_id(device_id) {
        return None;
    }
    device_id.get(10..13)?.parse().ok()
}
