//! Making untrusted text (file names, thread names, server messages, gdb output) safe for a
//! terminal: a control character could move the cursor, recolour or retitle the screen.
use std::borrow::Cow;

/// Escapes every control character (newlines and tabs too) as `\u{..}`: for one-line fields
/// such as a path or a name. Ordinary text comes back borrowed.
pub fn for_terminal(s: &str) -> Cow<'_, str> {
    escape_controls(s, |_| false)
}

/// Like [`for_terminal`] but keeps newlines and tabs: for multi-line messages (an error that
/// quotes a server's or gdb's answer).
pub fn for_terminal_text(s: &str) -> Cow<'_, str> {
    escape_controls(s, |c| c == '\n' || c == '\t')
}

fn escape_controls(s: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    let bad = |c: char| c.is_control() && !keep(c);
    if !s.chars().any(bad) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if bad(c) {
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
    fn one_line_fields_escape_every_control() {
        assert!(matches!(for_terminal("src/main.rs"), Cow::Borrowed(_)));
        assert_eq!(for_terminal("a\x1b[31mb\n"), "a\\u{1b}[31mb\\u{a}");
        assert_eq!(for_terminal("héllo\u{9b}x"), "héllo\\u{9b}x");
    }

    #[test]
    fn text_keeps_newlines_and_tabs() {
        assert_eq!(for_terminal_text("a\tb\nc\x07"), "a\tb\nc\\u{7}");
        assert_eq!(for_terminal_text("\r"), "\\u{d}");
    }
}
