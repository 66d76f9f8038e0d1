//! RecordInfo: the platform's query for recordings in a time range and the device's list.

use chrono::NaiveDateTime;

use crate::error::EncodeError;
use crate::tree::Element;
use crate::xmlout::Out;

/// Query `RecordInfo` (the body's `DeviceID` is the channel).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecordQuery {
    pub start_time: Option<NaiveDateTime>,
    pub end_time: Option<NaiveDateTime>,
    pub file_path: Option<String>,
    pub address: Option<String>,
    pub secrecy: Option<u8>,
    /// `Type`: `time`, `alarm`, `manual` or `all`.
    pub record_type: Option<String>,
    pub recorder_id: Option<String>,
}

impl RecordQuery {
    pub(crate) fn read(el: &Element) -> Self {
        Self {
            start_time: el.time("StartTime"),
            end_time: el.time("EndTime"),
            file_path: el.string("FilePath"),
            address: el.string("Address"),
            secrecy: el.num("Secrecy"),
            record_type: el.string("Type"),
            recorder_id: el.string("RecorderID"),
        }
    }

    pub(crate) fn write(&self, out: &mut Out) -> Result<(), EncodeError> {
        out.time("StartTime", self.start_time.as_ref())?;
        out.time("EndTime", self.end_time.as_ref())?;
        out.opt("FilePath", self.file_path.as_ref())?;
        out.opt("Address", self.address.as_ref())?;
        out.opt("Secrecy", self.secrecy)?;
        out.opt("Type", self.record_type.as_ref())?;
        out.opt("RecorderID", self.recorder_id.as_ref())
    }
}

/// Response `RecordInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecordList {
    pub name: Option<String>,
    /// Records in the whole answer, over all bodies.
    pub sum_num: u32,
    pub items: Vec<RecordItem>,
}

/// One `RecordList/Item`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecordItem {
    pub device_id: String,
    pub name: Option<String>,
    pub file_path: Option<String>,
    pub address: Option<String>,
    pub start_time: Option<NaiveDateTime>,
    pub end_time: Option<NaiveDateTime>,
    pub secrecy: Option<u8>,
    pub record_type: Option<String>,
    pub recorder_id: Option<String>,
    pub file_size: Option<u64>,
}

impl RecordList {
    pub(crate) fn read(el: &Element) -> Self {
        let items: Vec<RecordItem> = el
            .child("RecordList")
            .map(|l| {
                l.children_named("Item")
                    .map(|i| RecordItem {
                        device_id: i.string("DeviceID").unwrap_or_default(),
                        name: i.string("Name"),
                        file_path: i.string("FilePath"),
                        address: i.string("Address"),
                        start_time: i.time("StartTime"),
                        end_time: i.time("EndTime"),
                        secrecy: i.num("Secrecy"),
                        record_type: i.string("Type"),
                        recorder_id: i.string("RecorderID"),
                        file_size: i.num("FileSize"),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self {
            name: el.string("Name"),
            sum_num: el
                .num("SumNum")
                .unwrap_or_else(|| u32::try_from(items.len()).unwrap_or(u32::MAX)),
            items,
        }
    }

    pub(crate) fn write(&self, out: &mut Out) -> Result<(), EncodeError> {
        out.opt("Name", self.name.as_ref())?;
        out.text("SumNum", self.sum_num)?;
        out.start_with("RecordList", "Num", &self.items.len().to_string())?;
        for i in &self.items {
            out.start("Item")?;
            out.text("DeviceID", &i.device_id)?;
            out.opt("Name", i.name.as_ref())?;
            out.opt("FilePath", i.file_path.as_ref())?;
            out.opt("Address", i.address.as_ref())?;
            out.time("StartTime", i.start_time.as_ref())?;
            out.time("EndTime", i.end_time.as_ref())?;
            out.opt("Secrecy", i.secrecy)?;
            out.opt("Type", i.record_type.as_ref())?;
            out.opt("RecorderID", i.recorder_id.as_ref())?;
            out.opt("FileSize", i.file_size)?;
            out.end("Item")?;
        }
        out.end("RecordList")
    }
}
