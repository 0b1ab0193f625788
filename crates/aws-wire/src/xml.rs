//! A small, strict XML reader for the query-protocol responses of STS and IAM.
//!
//! It builds an element tree (names without namespace prefixes, text with the five
//! predefined entities and numeric references decoded, CDATA kept). Declarations,
//! comments and processing instructions are skipped; DTDs are refused (no entity
//! expansion attacks). Depth and size are bounded.

use thiserror::Error;

/// An XML document that could not be read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("malformed XML at byte {pos}: {reason}")]
pub struct XmlError {
    /// Byte offset of the problem.
    pub pos: usize,
    /// What was wrong.
    pub reason: &'static str,
}

/// One element.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// Local name (namespace prefix removed).
    pub name: String,
    /// Child elements in document order.
    pub children: Vec<Element>,
    /// Concatenated text content directly inside this element.
    pub text: String,
}

const MAX_DEPTH: usize = 64;
const MAX_LEN: usize = 16 * 1024 * 1024;

impl Element {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// All children named `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Follows a path of child names.
    pub fn path(&self, names: &[&str]) -> Option<&Element> {
        names.iter().try_fold(self, |e, n| e.child(n))
    }

    /// The text at a path of child names.
    pub fn text_at(&self, names: &[&str]) -> Option<&str> {
        self.path(names).map(|e| e.text.as_str())
    }

    /// The first descendant (depth-first, self included) named `name`.
    pub fn find(&self, name: &str) -> Option<&Element> {
        if self.name == name {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(name))
    }
}

struct Reader<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn err(&self, reason: &'static str) -> XmlError {
        XmlError {
            pos: self.pos,
            reason,
        }
    }

    fn starts_with(&self, p: &[u8]) -> bool {
        self.s[self.pos..].starts_with(p)
    }

    fn skip_until(&mut self, end: &[u8]) -> Result<(), XmlError> {
        match find(&self.s[self.pos..], end) {
            Some(i) => {
                self.pos += i + end.len();
                Ok(())
            }
            None => Err(self.err("unterminated construct")),
        }
    }

    fn skip_ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    /// Skips prolog/misc items: declaration, comments, PIs, whitespace.
    fn skip_misc(&mut self) -> Result<(), XmlError> {
        loop {
            self.skip_ws();
            if self.starts_with(b"<?") {
                self.skip_until(b"?>")?;
            } else if self.starts_with(b"<!--") {
                self.skip_until(b"-->")?;
            } else if self.starts_with(b"<!") && !self.starts_with(b"<![CDATA[") {
                return Err(self.err("DTDs are not accepted"));
            } else {
                return Ok(());
            }
        }
    }

    fn name(&mut self) -> Result<String, XmlError> {
        let start = self.pos;
        while self.pos < self.s.len() {
            let c = self.s[self.pos];
            if c.is_ascii_whitespace() || c == b'>' || c == b'/' || c == b'=' {
                break;
            }
            if c == b'<' || c == b'"' || c == b'\'' {
                return Err(self.err("invalid character in name"));
            }
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.err("empty name"));
        }
        let raw = std::str::from_utf8(&self.s[start..self.pos])
            .map_err(|_| self.err("name is not UTF-8"))?;
        Ok(raw.rsplit(':').next().unwrap_or(raw).to_string())
    }

    fn element(&mut self, depth: usize) -> Result<Element, XmlError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        if !self.starts_with(b"<") {
            return Err(self.err("expected '<'"));
        }
        self.pos += 1;
        let raw_start = self.pos;
        let name = self.name()?;
        let raw_name = self.s[raw_start..self.pos].to_vec();
        // Attributes: validated for shape, values ignored.
        loop {
            self.skip_ws();
            if self.pos >= self.s.len() {
                return Err(self.err("unterminated start tag"));
            }
            if self.starts_with(b"/>") {
                self.pos += 2;
                return Ok(Element {
                    name,
                    ..Default::default()
                });
            }
            if self.starts_with(b">") {
                self.pos += 1;
                break;
            }
            self.name()?;
            self.skip_ws();
            if !self.starts_with(b"=") {
                return Err(self.err("expected '=' in attribute"));
            }
            self.pos += 1;
            self.skip_ws();
            let q = *self
                .s
                .get(self.pos)
                .ok_or_else(|| self.err("unterminated attribute"))?;
            if q != b'"' && q != b'\'' {
                return Err(self.err("attribute value must be quoted"));
            }
            self.pos += 1;
            match self.s[self.pos..].iter().position(|&c| c == q) {
                Some(i) => {
                    if self.s[self.pos..self.pos + i].contains(&b'<') {
                        return Err(self.err("'<' in attribute value"));
                    }
                    self.pos += i + 1;
                }
                None => return Err(self.err("unterminated attribute")),
            }
        }
        let mut el = Element {
            name,
            ..Default::default()
        };
        loop {
            if self.pos >= self.s.len() {
                return Err(self.err("unterminated element"));
            }
            if self.starts_with(b"</") {
                self.pos += 2;
                let start = self.pos;
                self.name()?;
                if self.s[start..self.pos] != raw_name[..] {
                    return Err(self.err("mismatched end tag"));
                }
                self.skip_ws();
                if !self.starts_with(b">") {
                    return Err(self.err("expected '>' after end tag"));
                }
                self.pos += 1;
                return Ok(el);
            } else if self.starts_with(b"<![CDATA[") {
                self.pos += 9;
                let i = find(&self.s[self.pos..], b"]]>")
                    .ok_or_else(|| self.err("unterminated CDATA"))?;
                let t = std::str::from_utf8(&self.s[self.pos..self.pos + i])
                    .map_err(|_| self.err("text is not UTF-8"))?;
                el.text.push_str(t);
                self.pos += i + 3;
            } else if self.starts_with(b"<!--") {
                self.skip_until(b"-->")?;
            } else if self.starts_with(b"<?") {
                self.skip_until(b"?>")?;
            } else if self.starts_with(b"<!") {
                return Err(self.err("DTDs are not accepted"));
            } else if self.starts_with(b"<") {
                el.children.push(self.element(depth + 1)?);
            } else {
                let start = self.pos;
                while self.pos < self.s.len() && self.s[self.pos] != b'<' {
                    self.pos += 1;
                }
                let raw = std::str::from_utf8(&self.s[start..self.pos])
                    .map_err(|_| self.err("text is not UTF-8"))?;
                unescape_into(raw, &mut el.text)
                    .map_err(|reason| XmlError { pos: start, reason })?;
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn unescape_into(raw: &str, out: &mut String) -> Result<(), &'static str> {
    let mut rest = raw;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        let end = rest.find(';').ok_or("unterminated entity")?;
        let ent = &rest[..end];
        let c = match ent {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ if ent.starts_with("#x") || ent.starts_with("#X") => char::from_u32(
                u32::from_str_radix(&ent[2..], 16).map_err(|_| "bad character reference")?,
            )
            .ok_or("bad character reference")?,
            _ if ent.starts_with('#') => char::from_u32(
                ent[1..]
                    .parse::<u32>()
                    .map_err(|_| "bad character reference")?,
            )
            .ok_or("bad character reference")?,
            _ => return Err("unknown entity"),
        };
        out.push(c);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Ok(())
}

/// Parses a whole document and returns its root element.
pub fn parse(input: &[u8]) -> Result<Element, XmlError> {
    if input.len() > MAX_LEN {
        return Err(XmlError {
            pos: 0,
            reason: "document too large",
        });
    }
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let mut r = Reader { s: input, pos: 0 };
    r.skip_misc()?;
    let root = r.element(0)?;
    r.skip_misc()?;
    if r.pos != r.s.len() {
        return Err(r.err("content after the root element"));
    }
    Ok(root)
}

/// Escapes text for inclusion in XML content.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sts_response() {
        let doc = br#"<?xml version="1.0" encoding="UTF-8"?>
<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <Credentials>
      <AccessKeyId>LSIA123</AccessKeyId>
      <SecretAccessKey>a&amp;b&#x41;&#66;</SecretAccessKey>
      <SessionToken><![CDATA[tok<en>]]></SessionToken>
      <Expiration>2024-01-01T00:00:00Z</Expiration>
    </Credentials>
    <AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/r/s</Arn></AssumedRoleUser>
    <Empty/>
  </AssumeRoleResult>
  <!-- comment -->
</AssumeRoleResponse>"#;
        let root = parse(doc).unwrap();
        assert_eq!(root.name, "AssumeRoleResponse");
        let c = root.find("Credentials").unwrap();
        assert_eq!(c.text_at(&["AccessKeyId"]), Some("LSIA123"));
        assert_eq!(c.text_at(&["SecretAccessKey"]), Some("a&bAB"));
        assert_eq!(c.text_at(&["SessionToken"]), Some("tok<en>"));
        assert_eq!(
            root.find("Arn").unwrap().text,
            "arn:aws:sts::1:assumed-role/r/s"
        );
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            &b""[..],
            b"<a>",
            b"<a></b>",
            b"<a><b></a></b>",
            b"<a>&unknown;</a>",
            b"<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>",
            b"<a></a><b></b>",
            b"<a x=1></a>",
            b"<a>&#xFFFFFFFF;</a>",
            b"<a><![CDATA[x</a>",
            b"<>",
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(parse(deep.as_bytes()).is_err());
    }

    #[test]
    fn escape_round_trip() {
        let s = "<a & 'b' \"c\">";
        let doc = format!("<x>{}</x>", escape(s));
        assert_eq!(parse(doc.as_bytes()).unwrap().text, s);
    }
}
