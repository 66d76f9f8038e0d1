//! Lenient XML → element tree, read with quick-xml: element names kept as sent and matched
//! without regard to ASCII case, text trimmed, entity and character references resolved, end
//! tags not checked against start tags, a missing end of document tolerated. Also the small
//! field readers (text, numbers, times) the payload modules share.

use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime};
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use crate::error::DecodeError;

/// Deepest element nesting accepted.
pub const MAX_DEPTH: usize = 32;
/// Most elements accepted in one body.
pub const MAX_ELEMENTS: usize = 200_000;

/// One element: name as sent, attributes, concatenated text, children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
    /// Byte offset of the start tag in the UTF-8 text of the body.
    pub position: usize,
}

impl Element {
    /// True if the name matches without regard to ASCII case (any namespace prefix ignored).
    pub fn is(&self, name: &str) -> bool {
        let local = self.name.rsplit(':').next().unwrap_or(&self.name);
        local.eq_ignore_ascii_case(name)
    }

    /// First child with this name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(name))
    }

    /// All children with this name.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.is(name))
    }

    /// Attribute value, name matched without regard to case.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }

    /// Trimmed text of the element itself.
    pub fn value(&self) -> &str {
        self.text.trim()
    }

    /// Trimmed, non-empty text of the first child with this name.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name)
            .map(Element::value)
            .filter(|s| !s.is_empty())
    }

    /// Owned text of a child.
    pub fn string(&self, name: &str) -> Option<String> {
        self.text_of(name).map(str::to_owned)
    }

    /// A child parsed as a number; an unreadable value counts as absent (devices send junk in
    /// optional fields, which must not cost the alarm).
    pub fn num<T: FromStr>(&self, name: &str) -> Option<T> {
        self.text_of(name).and_then(|s| s.parse().ok())
    }

    /// A child parsed as a finite float.
    pub fn float(&self, name: &str) -> Option<f64> {
        self.num::<f64>(name).filter(|f| f.is_finite())
    }

    /// A child parsed as a local time (see [`parse_time`]).
    pub fn time(&self, name: &str) -> Option<NaiveDateTime> {
        self.text_of(name).and_then(parse_time)
    }
}

/// Reads a local time as devices send it: `2017-07-19T10:19:14`, optionally with fractional
/// seconds, a space instead of `T`, or a trailing `Z`/offset (dropped: the time is kept as the
/// wall-clock time the device wrote).
pub fn parse_time(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t);
        }
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.naive_local())
}

/// Writes a local time the way MANSCDP expects (`%Y-%m-%dT%H:%M:%S`, milliseconds only if
/// present).
pub fn format_time(t: &NaiveDateTime) -> String {
    if t.and_utc().timestamp_subsec_nanos() == 0 {
        t.format("%Y-%m-%dT%H:%M:%S").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string()
    }
}

fn open(start: &BytesStart<'_>, position: usize) -> Element {
    let name = String::from_utf8_lossy(start.name().as_ref().as_bytes()).into_owned();
    let mut attrs = Vec::new();
    let mut it = start.attributes();
    it.with_checks(false);
    for attr in it.flatten() {
        let key = attr.key.as_ref().to_owned();
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map(|v| v.into_owned())
            .unwrap_or_else(|_| attr.value.clone().into_owned());
        attrs.push((key, value));
    }
    Element {
        name,
        attrs,
        position,
        ..Element::default()
    }
}

fn resolve_ref(name: &str) -> Option<char> {
    Some(match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        "apos" => '\'',
        _ => {
            let num = name.strip_prefix('#')?;
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse().ok()?,
            };
            char::from_u32(code).filter(|c| *c != '\0')?
        }
    })
}

/// Parses `text` (which starts at the root element) into its root element. `base` is added to
/// positions so they refer to the whole body.
pub fn parse(text: &str, base: usize) -> Result<Element, DecodeError> {
    let mut reader = Reader::from_str(text);
    {
        let cfg = reader.config_mut();
        cfg.check_end_names = false;
        cfg.allow_unmatched_ends = true;
        cfg.allow_dangling_amp = true;
        cfg.check_comments = false;
    }
    let mut stack: Vec<Element> = Vec::new();
    let mut count = 0usize;
    loop {
        let position = base + usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = reader.read_event().map_err(|e| DecodeError::Xml {
            position: base + usize::try_from(reader.error_position()).unwrap_or(usize::MAX),
            message: e.to_string(),
        })?;
        match event {
            Event::Start(start) => {
                count += 1;
                if stack.len() >= MAX_DEPTH || count > MAX_ELEMENTS {
                    return Err(DecodeError::TooComplex { position });
                }
                stack.push(open(&start, position));
            }
            Event::Empty(start) => {
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(DecodeError::TooComplex { position });
                }
                let el = open(&start, position);
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return Ok(el),
                }
            }
            Event::End(_) => {
                if let Some(el) = stack.pop() {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(el),
                        None => return Ok(el),
                    }
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(top) = stack.last_mut() {
                    match resolve_ref(&r) {
                        Some(c) => top.text.push(c),
                        None => {
                            top.text.push('&');
                            top.text.push_str(&r);
                            top.text.push(';');
                        }
                    }
                }
            }
            Event::Eof => {
                // A body cut short after its last complete element: close what is open.
                let mut root = None;
                while let Some(el) = stack.pop() {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(el),
                        None => root = Some(el),
                    }
                }
                return root.ok_or(DecodeError::NoRoot);
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
}
