//! Making untrusted strings (file names, language names from `-c` files) safe for a terminal.

use std::borrow::Cow;

/// Replaces control characters (escape sequences could rewrite the screen) with `\u{..}`
/// escapes; ordinary text comes back borrowed.
pub fn for_terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_control_characters_only() {
        assert_eq!(for_terminal("src/main.rs"), "src/main.rs");
        assert_eq!(for_terminal("a\x1b[31mb\n"), "a\\u{1b}[31mb\\u{a}");
        assert_eq!(for_terminal("héllo"), "héllo");
    }
}
