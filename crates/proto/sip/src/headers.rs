//! The ordered header list: case-insensitive lookup that also understands compact forms.

use std::fmt;

/// One header line as received (compact names are expanded at parse time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// Compact forms (RFC 3261 §7.3.3 and extensions) and the names they stand for.
const COMPACT: [(&str, &str); 15] = [
    ("v", "Via"),
    ("f", "From"),
    ("t", "To"),
    ("i", "Call-ID"),
    ("m", "Contact"),
    ("l", "Content-Length"),
    ("c", "Content-Type"),
    ("k", "Supported"),
    ("s", "Subject"),
    ("e", "Content-Encoding"),
    ("o", "Event"),
    ("u", "Allow-Events"),
    ("r", "Refer-To"),
    ("b", "Referred-By"),
    ("x", "Session-Expires"),
];

/// The full name for a compact form (`"v"` → `"Via"`); other names are returned unchanged.
pub fn canonical_name(name: &str) -> &str {
    COMPACT
        .iter()
        .find(|(short, _)| short.eq_ignore_ascii_case(name))
        .map_or(name, |(_, long)| long)
}

/// True when two header names denote the same header (case-insensitive, compact-aware).
pub fn same_name(a: &str, b: &str) -> bool {
    canonical_name(a).eq_ignore_ascii_case(canonical_name(b))
}

/// Headers in wire order. Lookups ignore case and accept compact forms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    list: Vec<Header>,
}

impl Headers {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a header (kept after any existing ones of the same name).
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.list.push(Header {
            name: name.into(),
            value: value.into(),
        });
    }

    /// Builder form of [`Headers::push`].
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.push(name, value);
        self
    }

    /// Replaces every header of this name with one line holding `value` (placed where the first
    /// one was, or at the end).
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        let value = value.into();
        match self.list.iter().position(|h| same_name(&h.name, &name)) {
            Some(i) => {
                if let Some(h) = self.list.get_mut(i) {
                    h.value = value;
                }
                let mut seen = 0usize;
                self.list.retain(|h| {
                    if same_name(&h.name, &name) {
                        seen += 1;
                        seen == 1
                    } else {
                        true
                    }
                });
            }
            None => self.push(name, value),
        }
    }

    /// Removes every header of this name; returns how many were removed.
    pub fn remove(&mut self, name: &str) -> usize {
        let before = self.list.len();
        self.list.retain(|h| !same_name(&h.name, name));
        before - self.list.len()
    }

    /// The value of the first header of this name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.list
            .iter()
            .find(|h| same_name(&h.name, name))
            .map(|h| h.value.as_str())
    }

    /// The values of every header of this name, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.list
            .iter()
            .filter(move |h| same_name(&h.name, name))
            .map(|h| h.value.as_str())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Header> {
        self.list.iter()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Appends a folded continuation to the last header (used by the parser).
    pub(crate) fn continue_last(&mut self, more: &str) -> bool {
        match self.list.last_mut() {
            Some(h) => {
                if !h.value.is_empty() && !more.is_empty() {
                    h.value.push(' ');
                }
                h.value.push_str(more);
                true
            }
            None => false,
        }
    }
}

impl fmt::Display for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for h in &self.list {
            write!(f, "{}: {}\r\n", h.name, h.value)?;
        }
        Ok(())
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = &'a Header;
    type IntoIter = std::slice::Iter<'a, Header>;
    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}
