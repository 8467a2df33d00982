//! Invariants over arbitrary input: no panic, and every line is exactly one of code, comment
//! or blank.

use proptest::prelude::*;
use sloc::{count, Languages};

/// Bytes rich in the markers that drive the state machine, so the odd paths get exercised.
fn source_like() -> impl Strategy<Value = Vec<u8>> {
    let atoms = prop::sample::select(vec![
        &b"/*"[..],
        b"*/",
        b"//",
        b"#",
        b"--",
        b"\"",
        b"'",
        b"\"\"\"",
        b"'''",
        b"\\",
        b"`",
        b"r#\"",
        b"\"#",
        b"R\"(",
        b")\"",
        b"{-",
        b"-}",
        b"--[[",
        b"]]",
        b"=pod",
        b"=cut",
        b"=begin",
        b"=end",
        b"<!--",
        b"-->",
        b"(*",
        b"*)",
        b"R\"x(",
        b")x\"",
        b"<<EOF",
        b"<<<",
        b"<<-'EOF'",
        b"EOF",
        b"$#",
        b"[==[",
        b"]==]",
        b"##\"",
        b"\"##",
        b"\n",
        b"\r\n",
        b" ",
        b"\t",
        b"x",
        b"\xEF\xBB\xBF",
        b"\xFF",
        b"\0",
    ]);
    prop::collection::vec(atoms, 0..200).prop_map(|v| v.concat())
}

fn newline_count(bytes: &[u8]) -> u64 {
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let n = b.iter().filter(|&&c| c == b'\n').count() as u64;
    n + u64::from(!b.is_empty() && !b.ends_with(b"\n"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn lines_add_up_for_every_language(bytes in source_like()) {
        let langs = Languages::builtin();
        for i in 0..langs.len() {
            let c = count(langs.get(i), &bytes);
            prop_assert_eq!(c.lines, c.code + c.comments + c.blanks);
            prop_assert_eq!(c.lines, newline_count(&bytes));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let langs = Languages::builtin();
        for i in 0..langs.len() {
            let c = count(langs.get(i), &bytes);
            prop_assert_eq!(c.lines, c.code + c.comments + c.blanks);
        }
    }
}
