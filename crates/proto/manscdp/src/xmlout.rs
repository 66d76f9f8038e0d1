//! Writing bodies with quick-xml: the declaration, one element per line, text escaped by
//! quick-xml, optional fields skipped when absent; then the charset conversion.

use std::fmt::Display;

use chrono::NaiveDateTime;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use crate::charset::{Charset, encode_text};
use crate::error::EncodeError;
use crate::tree::format_time;

/// An XML document being written (UTF-8 in memory until [`Out::finish`]).
pub struct Out {
    w: Writer<Vec<u8>>,
    charset: Charset,
}

impl Out {
    /// Starts a document with `<?xml version="1.0" encoding="…"?>`.
    pub fn new(charset: Charset) -> Result<Self, EncodeError> {
        let mut w = Writer::new_with_indent(Vec::new(), b' ', 0);
        w.write_event(Event::Decl(BytesDecl::new(
            "1.0",
            Some(charset.declaration_label()),
            None,
        )))?;
        Ok(Self { w, charset })
    }

    /// `<name>`.
    pub fn start(&mut self, name: &str) -> Result<(), EncodeError> {
        self.w.write_event(Event::Start(BytesStart::new(name)))?;
        Ok(())
    }

    /// `<name key="value">`.
    pub fn start_with(&mut self, name: &str, key: &str, value: &str) -> Result<(), EncodeError> {
        let mut s = BytesStart::new(name);
        s.push_attribute((key, value));
        self.w.write_event(Event::Start(s))?;
        Ok(())
    }

    /// `</name>`.
    pub fn end(&mut self, name: &str) -> Result<(), EncodeError> {
        self.w.write_event(Event::End(BytesEnd::new(name)))?;
        Ok(())
    }

    /// `<name>text</name>`, text escaped.
    pub fn text(&mut self, name: &str, text: impl Display) -> Result<(), EncodeError> {
        let text = text.to_string();
        self.w
            .create_element(name)
            .write_text_content(BytesText::new(&text))?;
        Ok(())
    }

    /// `<name>text</name>` if present.
    pub fn opt(&mut self, name: &str, text: Option<impl Display>) -> Result<(), EncodeError> {
        match text {
            Some(t) => self.text(name, t),
            None => Ok(()),
        }
    }

    /// A local time, if present.
    pub fn time(&mut self, name: &str, t: Option<&NaiveDateTime>) -> Result<(), EncodeError> {
        self.opt(name, t.map(format_time))
    }

    /// The document in the chosen charset.
    pub fn finish(self) -> Vec<u8> {
        let utf8 = self.w.into_inner();
        match self.charset {
            Charset::Utf8 => utf8,
            Charset::Gb18030 => encode_text(&String::from_utf8_lossy(&utf8), self.charset),
        }
    }
}
