//! Text functions shared by the parsers: token checks, quote-aware splitting, unquoting.

/// RFC 3261 `token` characters.
pub(crate) fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

/// True when `s` is a non-empty RFC 3261 token.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_char)
}

/// Splits `s` at `sep` characters that are outside double quotes and angle brackets.
pub(crate) fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    split(s, sep, true)
}

/// Splits `s` at `sep` characters outside double quotes; `<` and `>` are plain characters
/// (digest parameters, where an unquoted `<` must not swallow the parameters after it).
pub(crate) fn split_outside_quotes_only(s: &str, sep: char) -> Vec<&str> {
    split(s, sep, false)
}

fn split(s: &str, sep: char, angles: bool) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut in_quotes = false;
    let mut escaped = false;
    let mut angle = false;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            '<' if angles && !in_quotes => angle = true,
            '>' if angles && !in_quotes => angle = false,
            c if c == sep && !in_quotes && !angle => {
                parts.push(s.get(start..i).unwrap_or(""));
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(s.get(start..).unwrap_or(""));
    parts
}

/// Removes surrounding double quotes and `\` escapes; returns `s` trimmed when it is not quoted.
pub(crate) fn unquote(s: &str) -> String {
    let t = s.trim();
    match t.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) if t.len() >= 2 => {
            let mut out = String::with_capacity(inner.len());
            let mut escaped = false;
            for c in inner.chars() {
                if escaped {
                    out.push(c);
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else {
                    out.push(c);
                }
            }
            out
        }
        _ => t.to_string(),
    }
}

/// Writes `s` as a quoted string, escaping `"` and `\`.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}
