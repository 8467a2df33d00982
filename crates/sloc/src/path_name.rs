//! File names as the walker found them: bytes, not necessarily UTF-8, so two names that differ
//! only in bytes that are not UTF-8 stay two names in every output format.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::path::Path;

use base64::Engine as _;
use serde::ser::{Serialize, SerializeMap, Serializer};

/// A path's bytes (on Unix the raw bytes of the name; elsewhere the platform's encoding of it).
/// Orders by those bytes, so sorting by path does not depend on how a name is printed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PathName(Vec<u8>);

impl PathName {
    /// The name of `path`, byte for byte.
    pub fn new(path: &Path) -> PathName {
        PathName(path.as_os_str().as_encoded_bytes().to_vec())
    }

    /// The bytes of the name.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The name as text, if it is UTF-8.
    pub fn to_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// The name for a text format (table, CSV): a byte that is not part of UTF-8 becomes `\xHH`
    /// (two upper-case hex digits) and a backslash `\\`, so no two names print alike and the
    /// name can be read back. Control characters are left to `sanitize::for_terminal`, whose
    /// `\u{..}` escapes stay unambiguous because a literal backslash is doubled here.
    pub fn escaped(&self) -> Cow<'_, str> {
        if let Some(s) = self.to_str().filter(|s| !s.contains('\\')) {
            return Cow::Borrowed(s);
        }
        let mut out = String::with_capacity(self.0.len() + 8);
        for chunk in self.0.utf8_chunks() {
            for c in chunk.valid().chars() {
                if c == '\\' {
                    out.push_str("\\\\");
                } else {
                    out.push(c);
                }
            }
            for b in chunk.invalid() {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\x{b:02X}");
            }
        }
        Cow::Owned(out)
    }
}

/// A UTF-8 name is a JSON string; any other is `{"bytes": "<base64>"}` (standard alphabet, with
/// padding), the form ripgrep's JSON output uses for data that is not UTF-8.
impl Serialize for PathName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.to_str() {
            Some(text) => s.serialize_str(text),
            None => {
                let mut map = s.serialize_map(Some(1))?;
                let b64 = base64::engine::general_purpose::STANDARD.encode(&self.0);
                map.serialize_entry("bytes", &b64)?;
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(bytes: &[u8]) -> PathName {
        PathName(bytes.to_vec())
    }

    #[test]
    fn text_form_escapes_bytes_that_are_not_utf8_and_backslashes() {
        assert!(matches!(
            name(b"src/caf\xC3\xA9.c").escaped(),
            Cow::Borrowed(_)
        ));
        assert_eq!(name(b"a\xFF.c").escaped(), "a\\xFF.c");
        assert_eq!(name(b"a\\xFF.c").escaped(), "a\\\\xFF.c");
        // A truncated sequence: each of its bytes is escaped.
        assert_eq!(name(b"x\xE2\x82").escaped(), "x\\xE2\\x82");
        assert_ne!(name(b"a\xFE").escaped(), name(b"a\xFF").escaped());
    }

    #[test]
    fn json_form_is_a_string_or_base64_bytes() {
        let json = |n: &PathName| serde_json::to_string(n).unwrap();
        assert_eq!(json(&name(b"./a\\b.c")), r#""./a\\b.c""#);
        assert_eq!(json(&name(b"\xFF\xFE")), r#"{"bytes":"//4="}"#);
    }
}
