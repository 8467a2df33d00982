//! Embedded languages (`<script>`, `<style>`, Vue's `<template>`): an element's content counts
//! exactly as the same text would as a file of its language, streamed counting agrees with
//! whole-file counting, and the outputs show children without counting their lines twice.

use proptest::prelude::*;
use sloc::embed::{count_any, count_any_stream, FileCounts};
use sloc::{count, Counts};

use crate::util::{index_of, lang, langs, nums, Dir};

/// The child `name`'s counts in `got` (none: zero).
fn child(got: &FileCounts, name: &str) -> Counts {
    got.children
        .iter()
        .find(|(l, _)| langs().name(*l) == name)
        .map_or_else(Counts::default, |(_, c)| *c)
}

/// Text rich in JavaScript's and CSS's markers, with no `<` (so no end tag).
fn content() -> impl Strategy<Value = Vec<u8>> {
    let atoms = prop::sample::select(vec![
        &b"/*"[..],
        b"*/",
        b"//",
        b"\"",
        b"'",
        b"`",
        b"${",
        b"}",
        b"\\",
        b"/",
        b"=",
        b"(",
        b"x",
        b" ",
        b"\t",
        b"\n",
        b"\n",
        b"\r\n",
        b"-->",
        b"\xFF",
    ]);
    prop::collection::vec(atoms, 0..120).prop_map(|v| v.concat())
}

/// Bytes rich in tags, attributes and comments of both languages, for the streaming test.
fn page() -> impl Strategy<Value = Vec<u8>> {
    let atoms = prop::sample::select(vec![
        &b"<script>"[..],
        b"<script lang=\"ts\">",
        b"<SCRIPT\n type='module'\n>",
        b"</script>",
        b"</scr",
        b"ipt>",
        b"<style>",
        b"</style>",
        b"<template>",
        b"<template v-if=\"a > b\">",
        b"</template>",
        b"<i18n lang=yaml>",
        b"</i18n>",
        b"<script src=\"a.js\"/>",
        b"<script type=\"x-unknown\">",
        b"```",
        b"```rust",
        b"~~~py",
        b"   ````",
        b"    ```",
        b"<!--",
        b"-->",
        b"/*",
        b"*/",
        b"//",
        b"#",
        b"\"",
        b"'",
        b"`",
        b"x",
        b" ",
        b"\n",
        b"\n",
        b"\r\n",
        b"\xEF\xBB\xBF",
    ]);
    prop::collection::vec(atoms, 0..150).prop_map(|v| v.concat())
}

/// Markdown's fenced code blocks: a block's content, any text of its language's markers,
/// counts exactly as that text does as a file of the language its info string names.
fn fenced() -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
    (
        content(),
        prop::sample::select(vec![&b"```"[..], b"~~~", b"````"]),
    )
        .prop_map(|(c, f)| {
            // Content lines that look like a closing fence would end the block early.
            let c: Vec<u8> = c.into_iter().filter(|&b| b != b'`' && b != b'~').collect();
            (c, f.to_vec())
        })
}

fn streamed(lang: usize, text: &[u8], chunk: usize, head: usize) -> FileCounts {
    let head = head.min(text.len());
    let mut buf = text[..head].to_vec();
    let reopen = || Ok(text);
    count_any_stream(langs(), lang, &mut buf, head, &text[head..], reopen, chunk).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_scripts_content_counts_as_a_javascript_file(
        js in content(),
        css in content(),
        crlf in any::<bool>(),
    ) {
        let end = |t: &[u8]| if t.is_empty() || t.ends_with(b"\n") { Vec::new() } else { b"\n".to_vec() };
        let mut page = b"<!DOCTYPE html>\n<script>\n".to_vec();
        page.extend_from_slice(&js);
        page.extend(end(&js));
        page.extend_from_slice(b"</script>\n<p>text</p>\n<style type=\"text/css\">\n");
        page.extend_from_slice(&css);
        page.extend(end(&css));
        page.extend_from_slice(b"</style>\n");
        if crlf {
            page = page.iter().flat_map(|&b| if b == b'\n' { vec![b'\r', b'\n'] } else { vec![b] }).collect();
        }
        let fix = |t: &[u8]| if crlf { t.iter().flat_map(|&b| if b == b'\n' { vec![b'\r', b'\n'] } else { vec![b] }).collect() } else { t.to_vec() };
        let got = count_any(langs(), index_of("HTML"), &page);
        prop_assert_eq!(child(&got, "JavaScript"), count(langs().get(index_of("JavaScript")), &fix(&js)));
        prop_assert_eq!(child(&got, "CSS"), count(langs().get(index_of("CSS")), &fix(&css)));
        // The five tag and text lines are the parent's code; nothing is counted twice.
        let inner = child(&got, "JavaScript").lines + child(&got, "CSS").lines;
        prop_assert_eq!(got.counts.lines, inner + 6);
        prop_assert_eq!(got.counts.code, child(&got, "JavaScript").code + child(&got, "CSS").code + 6);
    }

    #[test]
    fn a_fenced_blocks_content_counts_as_a_file_of_its_language((js, fence) in fenced()) {
        let mut md = b"# Title\n\ntext\n".to_vec();
        md.extend_from_slice(&fence);
        md.extend_from_slice(b"javascript title=\"a.js\"\n");
        md.extend_from_slice(&js);
        if !js.is_empty() && !js.ends_with(b"\n") {
            md.push(b'\n');
        }
        md.extend_from_slice(&fence);
        md.extend_from_slice(b"\nmore text\n");
        let got = count_any(langs(), index_of("Markdown"), &md);
        prop_assert_eq!(child(&got, "JavaScript"), count(langs().get(index_of("JavaScript")), &js));
        prop_assert_eq!(got.counts.lines, child(&got, "JavaScript").lines + 6);
    }

    #[test]
    fn any_bytes_in_a_page_count_without_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..1024),
        lang in prop::sample::select(vec!["HTML", "Vue", "Svelte", "Astro", "Markdown", "MDX"]),
    ) {
        let got = count_any(langs(), index_of(lang), &bytes);
        let c = got.counts;
        prop_assert_eq!(c.lines, c.code + c.comments + c.blanks);
        for (_, k) in &got.children {
            prop_assert_eq!(k.lines, k.code + k.comments + k.blanks);
        }
    }

    #[test]
    fn streamed_pages_count_as_whole_ones(
        text in page(),
        lang in prop::sample::select(vec!["HTML", "Vue", "Svelte", "Markdown"]),
        chunk in 1usize..=48,
        head in 0usize..=64,
    ) {
        let i = index_of(lang);
        let whole = count_any(langs(), i, &text);
        prop_assert_eq!(whole.counts.lines, whole.counts.code + whole.counts.comments + whole.counts.blanks);
        let kids: u64 = whole.children.iter().map(|(_, c)| c.lines).sum();
        prop_assert!(kids <= whole.counts.lines);
        prop_assert_eq!(streamed(i, &text, chunk, head), whole, "{} chunk {} head {}", lang, chunk, head);
    }
}

#[test]
fn lines_longer_than_the_streaming_reach_count_as_whole_ones() {
    let chunk = 64;
    let long = sloc::count::long_line(chunk) + 1000;
    let code = "f(1); ".repeat(long / 6);
    let comment = format!("// {}", "x".repeat(long));
    let cases: Vec<(&str, String)> = vec![
        (
            "HTML",
            format!("<p>a</p>\n<script>\n{code}\n{comment}\n</script>\n<p>{code}</p>\n"),
        ),
        (
            "Vue",
            format!("<template>\n<p>{code}</p>\n</template>\n<script>\n{comment}\n</script>\n"),
        ),
        (
            "Markdown",
            format!("text\n```js\n{comment}\n{code}\n```\n{code}\n"),
        ),
        (
            "HTML",
            format!("<script type=\"x-opaque\">\n{comment}\n</script>\n"),
        ),
    ];
    for (lang, text) in cases {
        let i = index_of(lang);
        let whole = count_any(langs(), i, text.as_bytes());
        assert!(
            !whole.children.is_empty() || text.contains("opaque"),
            "{lang}"
        );
        assert_eq!(streamed(i, text.as_bytes(), chunk, 0), whole, "{lang}");
    }
}

/// The numbers on a table row.
fn row_numbers(line: &str) -> Vec<u64> {
    line.split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect()
}

/// The child `name` of a JSON language row.
fn json_child<'a>(row: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    row["children"]
        .as_array()
        .and_then(|kids| kids.iter().find(|k| k["name"] == name))
        .unwrap_or_else(|| panic!("no child {name} in {row}"))
}

#[test]
fn json_and_table_show_children_inside_their_languages_lines() {
    let d = Dir::new();
    d.write(
        "App.vue",
        "<template>\n  <p>{{ a }}</p>\n</template>\n\n<script setup lang=\"ts\">\n// c\nconst a = 1\n</script>\n",
    );
    d.write("page.html", "<p>x</p>\n<script>\nf()\n</script>\n");
    d.write("main.ts", "const b = 2\n");
    let json = d.json(&[]);
    let vue = lang(&json, "Vue").unwrap();
    assert_eq!(nums(vue), [1, 8, 6, 1, 1]);
    assert_eq!(nums(json_child(vue, "HTML")), [1, 1, 1, 0, 0]);
    assert_eq!(nums(json_child(vue, "TypeScript")), [1, 2, 1, 1, 0]);
    // An embedded TypeScript line is no TypeScript file's line, and is not counted twice.
    let ts = lang(&json, "TypeScript").unwrap();
    assert_eq!(nums(ts), [1, 1, 1, 0, 0]);
    assert!(ts.get("children").is_none());
    assert_eq!(
        nums(json_child(lang(&json, "HTML").unwrap(), "JavaScript")),
        [1, 1, 1, 0, 0]
    );
    assert_eq!(nums(&json["total"]), [3, 13, 11, 1, 1]);

    let out = d.sloc().assert().success();
    let table = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let ts_row = table
        .lines()
        .find(|l| l.trim_start().starts_with("|- TypeScript"))
        .unwrap_or_else(|| panic!("no child row in\n{table}"));
    assert_eq!(row_numbers(ts_row), [1, 2, 1, 1, 0]);
    let total = table
        .lines()
        .find(|l| l.trim_start().starts_with("Total"))
        .unwrap();
    assert_eq!(row_numbers(total), [3, 13, 11, 1, 1]);

    // --compact: the same rows and totals, no children.
    let compact = d.json(&["--compact"]);
    assert!(compact["languages"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l.get("children").is_none()));
    assert_eq!(nums(lang(&compact, "Vue").unwrap()), [1, 8, 6, 1, 1]);
    assert_eq!(nums(&compact["total"]), nums(&json["total"]));
    let out = d.sloc().arg("-C").assert().success();
    assert!(!String::from_utf8_lossy(&out.get_output().stdout).contains("|-"));
}

#[test]
fn a_syntax_file_can_embed_languages_and_names_a_missing_one() {
    let d = Dir::new();
    d.write(
        "tpl.json",
        r#"{"page": {"output_as": "Page", "start": "<%#", "end": "%>",
            "embedded": [{"tag": "code", "language": "Python", "attributes": ["lang"],
                          "languages": {"rust": "Rust"}}]}}"#,
    );
    d.write(
        "a.page",
        "<%# a comment %>\n<code>\n# py comment\nx = 1\n</code>\n<code lang=rust>\n// rs\n</code>\n",
    );
    let json = d.json(&["-c", "tpl.json"]);
    let page = lang(&json, "Page").unwrap();
    assert_eq!(nums(page), [1, 8, 5, 3, 0]);
    assert_eq!(nums(json_child(page, "Python")), [1, 2, 1, 1, 0]);
    assert_eq!(nums(json_child(page, "Rust")), [1, 1, 0, 1, 0]);

    for (file, entry, said) in [
        (
            "bad.json",
            r#"{"page": {"output_as": "Page", "embedded": [{"tag": "code", "language": "Klingon"}]}}"#,
            "\"Klingon\"",
        ),
        (
            "tag.json",
            r#"{"page": {"output_as": "Page", "embedded": [{"tag": "<code>", "language": "Rust"}]}}"#,
            "<code>",
        ),
    ] {
        d.write(file, entry);
        let out = d.sloc().args(["-c", file]).assert().failure().code(2);
        let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(
            err.contains(file) && err.contains("embedded") && err.contains(said),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}
