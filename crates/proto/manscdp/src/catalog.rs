//! Catalog: the device's channel list (Response or Notify `Catalog`), each item with its
//! [`DeviceKind`] from the ID's type code.

use crate::device_id::DeviceKind;
use crate::error::EncodeError;
use crate::tree::Element;
use crate::xmlout::Out;

/// `Status` of a catalog item: `ON`/`online` or `OFF`/`offline`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OnOff {
    On,
    Off,
}

impl OnOff {
    /// Reads `ON`, `OFF`, `online`, `offline` (any case); anything else is `None`.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("on") || s.eq_ignore_ascii_case("online") {
            Some(Self::On)
        } else if s.eq_ignore_ascii_case("off") || s.eq_ignore_ascii_case("offline") {
            Some(Self::Off)
        } else {
            None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::On => "ON",
            Self::Off => "OFF",
        }
    }
}

/// A catalog body: `SumNum` (items in the whole catalog) and this body's items.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Catalog {
    /// Items in the whole catalog, over all bodies it was split into.
    pub sum_num: u32,
    /// `DeviceList Num`: items in this body as declared (the decoder does not trust it).
    pub num: Option<u32>,
    pub items: Vec<CatalogItem>,
}

/// One channel, device or organisation node of a catalog.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CatalogItem {
    pub device_id: String,
    pub name: Option<String>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub owner: Option<String>,
    pub civil_code: Option<String>,
    pub address: Option<String>,
    /// 1 if the item has children.
    pub parental: Option<u8>,
    pub parent_id: Option<String>,
    pub safety_way: Option<u8>,
    pub register_way: Option<u8>,
    pub secrecy: Option<u8>,
    pub ip_address: Option<String>,
    pub port: Option<u16>,
    pub status: Option<OnOff>,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
}

impl CatalogItem {
    /// An item with only its ID.
    pub fn new(device_id: impl Into<String>) -> Self {
        Self {
            device_id: device_id.into(),
            ..Self::default()
        }
    }

    /// What the item is, by the type code of its ID (`Other(0)` if the ID is malformed).
    pub fn kind(&self) -> DeviceKind {
        DeviceKind::of_id(&self.device_id).unwrap_or(DeviceKind::Other(0))
    }

    pub(crate) fn read(el: &Element) -> Self {
        Self {
            device_id: el.string("DeviceID").unwrap_or_default(),
            name: el.string("Name"),
            manufacturer: el.string("Manufacturer"),
            model: el.string("Model"),
            owner: el.string("Owner"),
            civil_code: el.string("CivilCode"),
            address: el.string("Address"),
            parental: el.num("Parental"),
            parent_id: el.string("ParentID"),
            safety_way: el.num("SafetyWay"),
            register_way: el.num("RegisterWay"),
            secrecy: el.num("Secrecy"),
            ip_address: el.string("IPAddress"),
            port: el.num("Port"),
            status: el.text_of("Status").and_then(OnOff::parse),
            longitude: el.float("Longitude"),
            latitude: el.float("Latitude"),
        }
    }

    pub(crate) fn write(&self, out: &mut Out) -> Result<(), EncodeError> {
        out.start("Item")?;
        out.text("DeviceID", &self.device_id)?;
        out.opt("Name", self.name.as_ref())?;
        out.opt("Manufacturer", self.manufacturer.as_ref())?;
        out.opt("Model", self.model.as_ref())?;
        out.opt("Owner", self.owner.as_ref())?;
        out.opt("CivilCode", self.civil_code.as_ref())?;
        out.opt("Address", self.address.as_ref())?;
        out.opt("Parental", self.parental)?;
        out.opt("ParentID", self.parent_id.as_ref())?;
        out.opt("SafetyWay", self.safety_way)?;
        out.opt("RegisterWay", self.register_way)?;
        out.opt("Secrecy", self.secrecy)?;
        out.opt("IPAddress", self.ip_address.as_ref())?;
        out.opt("Port", self.port)?;
        out.opt("Status", self.status.map(OnOff::as_str))?;
        out.opt("Longitude", self.longitude)?;
        out.opt("Latitude", self.latitude)?;
        out.end("Item")
    }
}

impl Catalog {
    pub(crate) fn read(el: &Element) -> Self {
        let list = el.child("DeviceList");
        let items: Vec<CatalogItem> = list
            .map(|l| l.children_named("Item").map(CatalogItem::read).collect())
            .unwrap_or_default();
        Self {
            sum_num: el
                .num("SumNum")
                .unwrap_or_else(|| u32::try_from(items.len()).unwrap_or(u32::MAX)),
            num: list
                .and_then(|l| l.attr("Num"))
                .and_then(|n| n.parse().ok()),
            items,
        }
    }

    pub(crate) fn write(&self, out: &mut Out) -> Result<(), EncodeError> {
        out.text("SumNum", self.sum_num)?;
        let num = u32::try_from(self.items.len()).map_err(|_| EncodeError::Field("DeviceList"))?;
        out.start_with("DeviceList", "Num", &num.to_string())?;
        for item in &self.items {
            item.write(out)?;
        }
        out.end("DeviceList")
    }
}

/// Device → platform: the Response `Catalog` bodies for a whole catalog, each at most `budget`
/// bytes (a UDP MESSAGE must stay ≤ 1300 bytes in all, so pass 1300 minus the SIP headers).
/// Every body carries `SumNum` = all items and `DeviceList Num` = its own items; items keep
/// their order. An empty catalog gives one body with no items. Fails if one item alone does not
/// fit.
pub fn encode_catalog(
    sn: u32,
    device_id: &str,
    items: &[CatalogItem],
    charset: crate::Charset,
    budget: usize,
) -> Result<Vec<Vec<u8>>, EncodeError> {
    let sum_num = u32::try_from(items.len()).map_err(|_| EncodeError::Field("SumNum"))?;
    let encode = |chunk: &[CatalogItem]| {
        crate::Body::new(
            sn,
            device_id,
            crate::Payload::Catalog(Catalog {
                sum_num,
                num: None,
                items: chunk.to_vec(),
            }),
        )
        .encode(charset)
    };
    if items.is_empty() {
        return Ok(vec![encode(&[])?]);
    }
    let mut bodies = Vec::new();
    let mut start = 0;
    while start < items.len() {
        let mut end = start + 1;
        let mut best = encode(items.get(start..end).unwrap_or_default())?;
        if best.len() > budget {
            return Err(EncodeError::TooLarge {
                needed: best.len(),
                budget,
            });
        }
        while end < items.len() {
            let next = encode(items.get(start..end + 1).unwrap_or_default())?;
            if next.len() > budget {
                break;
            }
            best = next;
            end += 1;
        }
        bodies.push(best);
        start = end;
    }
    Ok(bodies)
}
