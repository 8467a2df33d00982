//! Files larger than a chunk are streamed: their counts are those of whole-file counting, and
//! memory stays bounded whatever the file's size.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::{Command, Stdio};

use sloc::count::STREAM_CHUNK;
use sloc::{count, Counts, Languages, LineKind};

use crate::util::{lang, nums, Dir};

/// C lines, each with what it is, read off the line by eye (not by sloc): comments that open
/// and close on other lines, markers inside strings, a string continued by `\`, CRLF.
const TEMPLATE: &[(&str, LineKind)] = &[
    ("/* a block comment", LineKind::Comment),
    (" * that goes on \"with a quote", LineKind::Comment),
    (" */", LineKind::Comment),
    ("int x = 1; // trailing", LineKind::Code),
    ("// a line comment /*", LineKind::Comment),
    ("", LineKind::Blank),
    ("char *s = \"/* not a comment */\";", LineKind::Code),
    ("const char *t = \"a\\", LineKind::Code),
    ("  // still the string\";", LineKind::Code),
    ("/* one */ int y; /* two", LineKind::Code),
    ("   still two */", LineKind::Comment),
    ("int z;\r", LineKind::Code),
    ("   \t", LineKind::Blank),
];

/// Writes about `size` bytes of C: blocks of long lines of plain code (cheap to count, so the
/// file can be large and the test quick) and [`TEMPLATE`], each line indented by a varying
/// number of spaces (so chunk boundaries fall everywhere in the lines), with a block comment
/// longer than a chunk in the middle and a code line longer than a chunk at the end; returns
/// the counts those lines have by the table.
fn generate(path: &std::path::Path, size: u64) -> Counts {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path).unwrap());
    let mut want = Counts::default();
    let long = format!("int a = {}1;", "x + ".repeat(1000));
    let mut written = 0;
    let mut middle = false;
    for k in 0.. {
        if written >= size {
            break;
        }
        for _ in 0..64 {
            writeln!(out, "{:indent$}{long}", "", indent = k % 5).unwrap();
            want.add(LineKind::Code);
            written += (long.len() + k % 5 + 1) as u64;
        }
        for (line, kind) in TEMPLATE {
            let indent = if line.is_empty() { 0 } else { k % 7 };
            writeln!(out, "{:indent$}{line}", "").unwrap();
            want.add(*kind);
            written += (line.len() + indent + 1) as u64;
        }
        if !middle && written >= size / 2 {
            middle = true;
            writeln!(out, "/* a comment of many lines").unwrap();
            want.add(LineKind::Comment);
            for _ in 0..3 * STREAM_CHUNK / 40 {
                writeln!(out, "  comment text \"not a string, /* C does not nest").unwrap();
                want.add(LineKind::Comment);
            }
            writeln!(out, "*/").unwrap();
            want.add(LineKind::Comment);
        }
    }
    write!(out, "int long_line[] = {{").unwrap();
    for _ in 0..2 * STREAM_CHUNK / 8 {
        write!(out, "0, /**/ ").unwrap();
    }
    write!(out, "}};").unwrap(); // No final newline.
    want.add(LineKind::Code);
    out.flush().unwrap();
    want
}

/// Runs the `sloc` binary with `args` and returns its JSON report and its peak resident
/// memory in bytes (`ru_maxrss` of the child).
///
/// A small `python3` process starts it and reports its rusage: the kernel's peak for a child
/// starts at what its parent held when it forked (at its parent's peak, under vfork), and this
/// test binary, running other tests at the same time (the differential tests parse corpora),
/// can hold more than the bound.
fn sloc_with_peak(dir: &Dir, args: &[&str]) -> (serde_json::Value, u64) {
    const REAPER: &str = "import resource, subprocess, sys\n\
        rc = subprocess.run(sys.argv[2:]).returncode\n\
        open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n\
        sys.exit(rc)\n";
    let peak_file = dir.path().join("peak-rss-kib");
    let out = Command::new("python3")
        .args(["-c", REAPER])
        .arg(&peak_file)
        .arg(assert_cmd::cargo::cargo_bin("sloc"))
        .current_dir(dir.path())
        .args(["--format", "json"])
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .expect("python3 runs (the suite needs it: apt-get install python3)");
    assert!(out.status.success(), "sloc {args:?} failed: {}", out.status);
    let kib: u64 = std::fs::read_to_string(&peak_file)
        .expect("the reaper wrote the peak")
        .parse()
        .expect("a number of KiB");
    (serde_json::from_slice(&out.stdout).unwrap(), kib * 1024)
}

#[test]
fn a_file_of_hundreds_of_megabytes_is_counted_in_bounded_memory() {
    let dir = Dir::new();
    let path = dir.path().join("big.c");
    let want = generate(&path, 320 << 20);
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size > 300 << 20, "generated only {size} bytes");
    let (report, peak) = sloc_with_peak(&dir, &["big.c"]);
    let row = lang(&report, "C").expect("big.c counted as C");
    assert_eq!(
        nums(row),
        [1, want.lines, want.code, want.comments, want.blanks],
        "counts of the {size}-byte file"
    );
    assert!(
        peak < 64 << 20,
        "peak RSS {} MB for a {} MB file; the bound is 64 MB",
        peak >> 20,
        size >> 20
    );
}

/// Streamed files of the kinds that take the other paths: a here-document (read again from
/// the start for its terminator), doc strings after an open bracket (the look back across a
/// chunk), UTF-16 (decoded as it is read). Each counts as the library counts it whole.
#[test]
fn streamed_files_count_as_whole_ones() {
    let dir = Dir::new();
    let langs = Languages::builtin();
    let by_name = |name: &str| {
        let i = (0..langs.len()).find(|&i| langs.name(i) == name).unwrap();
        langs.get(i)
    };
    let repeat = |unit: &str| unit.repeat(2 * STREAM_CHUNK / unit.len() + 3);
    let shell = format!(
        "cat <<EOF\n{}EOF\n{}cat <<'END'\n# inside\nEND\n",
        repeat("# not a comment: a here-document's body\n"),
        repeat("x=1 # code\n# comment\n\n"),
    );
    let python = repeat(
        "call(\n    \"\"\"an argument, not a doc string\"\"\")\n\"\"\"a doc string\"\"\"\n# c\n\n",
    );
    let c_text = repeat("/* comment */\nint x; // code\n\n");
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(c_text.encode_utf16().flat_map(u16::to_le_bytes));
    for (file, lang_name, bytes, text) in [
        ("a.sh", "Shell", shell.as_bytes().to_vec(), shell.as_bytes()),
        (
            "a.py",
            "Python",
            python.as_bytes().to_vec(),
            python.as_bytes(),
        ),
        ("a.c", "C", utf16, c_text.as_bytes()),
    ] {
        assert!(bytes.len() > STREAM_CHUNK);
        dir.write(file, &bytes);
        let want = count(by_name(lang_name), text);
        let report = dir.json(&[file]);
        let row = lang(&report, lang_name).unwrap_or_else(|| panic!("{file} not counted"));
        assert_eq!(
            nums(row),
            [1, want.lines, want.code, want.comments, want.blanks],
            "{file}"
        );
    }
}

/// `count_stream` over `text` in reads of `chunk` bytes.
fn streamed(lang: &sloc::Language, text: &[u8], chunk: usize) -> Counts {
    let mut buf = Vec::new();
    let reopen = || Ok(text);
    sloc::count::count_stream(lang, &mut buf, 0, text, reopen, chunk).unwrap()
}

/// The constructs whose rules look along a line, each spanning less and more than `REACH`
/// bytes, on lines held whole and on lines read in pieces (padded past `long_line` after or
/// before the construct): the
/// counts of whole-file counting, and below `REACH` the rules as documented.
#[test]
fn rules_that_look_along_a_line_count_the_same_in_pieces() {
    use sloc::count::{long_line, REACH};
    let langs = Languages::builtin();
    let by_name = |name: &str| {
        let i = (0..langs.len()).find(|&i| langs.name(i) == name).unwrap();
        langs.get(i)
    };
    /// A language and a text with its construct `n` bytes long.
    type Case = (&'static str, fn(usize) -> String);
    let cases: &[Case] = &[
        // Not a regex, the backtick would open a template literal that swallows the comment.
        ("JavaScript", |n| {
            format!("let r = /`{}/;\n// c\n", "a".repeat(n))
        }),
        ("JavaScript", |n| {
            format!("x = ({}/\"a\"/);\n// c\n", " ".repeat(n))
        }),
        ("C++", |n| {
            format!("int x = 1{}'000;\n/* c */\n", "1".repeat(n))
        }),
        ("Batch", |n| format!("REM{}\nREM x\n", " ".repeat(n))),
        ("YAML", |n| {
            format!("key: |{}# c\n  #include\nb: 1\n", " ".repeat(n))
        }),
        ("YAML", |n| format!("{}key: |\n  #x\n", "k ".repeat(n / 2))),
        ("Perl", |n| {
            format!("my $x = q{{{}\n}};\n# c\n", "a".repeat(n))
        }),
        ("Perl", |n| format!("s/\"/{}/g;\n# c\n", "a".repeat(n))),
        ("Shell", |n| {
            let w = "E".repeat(n);
            format!("cat <<{w}\n# body\n{w}\n# c\n")
        }),
        ("Shell", |n| {
            format!("cat <<-EOF\n# body\n{}EOF\n# c\n", "\t".repeat(n))
        }),
        ("Python", |n| {
            format!("f({},\n\"\"\"an argument\"\"\")\n", "a".repeat(n))
        }),
        ("Python", |n| {
            format!("{}\n\"\"\"doc\"\"\"\nx = 1\n", " ".repeat(n))
        }),
        ("Perl", |n| format!("=pod{}\ndoc\n=cut\n", " ".repeat(n))),
    ];
    let pad = " x".repeat(long_line(4096) / 2);
    for (name, make) in cases {
        let lang = by_name(name);
        for n in [100, REACH - 100, REACH + 100, 2 * REACH] {
            let text = make(n);
            // The same with the construct's line (the first) long enough to be read in pieces.
            let (first, rest) = text.split_once('\n').unwrap();
            let long = format!("{first}{pad}\n{rest}");
            // And with it after a long start, so that it falls in a later piece.
            let late = format!("{pad};{first}\n{rest}");
            for text in [&text, &long, &late] {
                let whole = count(lang, text.as_bytes());
                // Reads of one byte on the long lines are the proptest's (on shorter ones).
                let chunks: &[usize] = if text.len() > long.len() / 2 {
                    &[61, 4096]
                } else {
                    &[1, 61, 4096]
                };
                for &chunk in chunks {
                    assert_eq!(
                        streamed(lang, text.as_bytes(), chunk),
                        whole,
                        "{name}, n = {n}, chunk {chunk}, first line {} bytes",
                        text.find('\n').unwrap()
                    );
                }
            }
        }
    }
    // Within `REACH` the rules hold: a regex with a backtick opens no template literal, a digit separator
    // none, a bare `REM` line is a comment, a block scalar's `#include` is content.
    let near = REACH - 100;
    let kinds = |name: &str, text: String| {
        let c = count(by_name(name), text.as_bytes());
        [c.code, c.comments, c.blanks]
    };
    assert_eq!(kinds("JavaScript", cases[0].1(near)), [1, 1, 0]);
    assert_eq!(kinds("C++", cases[2].1(near)), [1, 1, 0]);
    assert_eq!(kinds("Batch", cases[3].1(near)), [0, 2, 0]);
    assert_eq!(kinds("YAML", cases[4].1(near)), [3, 0, 0]);
    // A Python argument after a line longer than `REACH` that ends in `,` is no doc string.
    let python = cases.iter().find(|c| c.0 == "Python").unwrap();
    assert_eq!(kinds("Python", python.1(2 * REACH)), [2, 0, 0]);
}

/// One line of hundreds of megabytes (minified code; a comment) is read in pieces: peak RSS
/// stays under 64 MB, and the counts are those `count` gives a shorter version of the file.
#[test]
fn a_single_line_of_hundreds_of_megabytes_is_counted_in_bounded_memory() {
    use sloc::count::long_line;
    let langs = Languages::builtin();
    let c = (0..langs.len()).find(|&i| langs.name(i) == "C").unwrap();
    let c = langs.get(c);
    let dir = Dir::new();
    let cases = [
        ("code.c", "int a[] = {", "x + 1, /* c */ \"s // \", ", "};"),
        ("comment.c", "/* ", "text \"not a string // ", " */"),
    ];
    for (file, open, unit, close) in cases {
        let text = |units: usize| {
            let mut t = format!("int before;\n\n{open}").into_bytes();
            let line = unit.repeat(units);
            t.extend(line.as_bytes());
            t.extend(
                format!(
                    "{close}
// after
"
                )
                .as_bytes(),
            );
            t
        };
        let want = count(c, &text(3 * long_line(STREAM_CHUNK) / unit.len()));
        let path = dir.path().join(file);
        let mut out = BufWriter::with_capacity(1 << 20, File::create(&path).unwrap());
        out.write_all(format!("int before;\n\n{open}").as_bytes())
            .unwrap();
        let block = unit.repeat((1 << 20) / unit.len());
        for _ in 0..300 {
            out.write_all(block.as_bytes()).unwrap();
        }
        out.write_all(format!("{close}\n// after\n").as_bytes())
            .unwrap();
        out.flush().unwrap();
        drop(out);
        let size = std::fs::metadata(&path).unwrap().len();
        let (report, peak) = sloc_with_peak(&dir, &[file]);
        let row = lang(&report, "C").expect("counted as C");
        assert_eq!(
            nums(row),
            [1, want.lines, want.code, want.comments, want.blanks],
            "{file}"
        );
        assert!(
            peak < 64 << 20,
            "peak RSS {} MB for {file}, one line of {} MB; the bound is 64 MB",
            peak >> 20,
            size >> 20
        );
        println!(
            "{file}: one line of {} MB, peak RSS {} MB",
            size >> 20,
            peak >> 20
        );
        std::fs::remove_file(&path).unwrap();
    }
}

/// Interpolations nested deeper than `MAX_FRAMES` (a 15 MB line of nothing but `` `${ ``) take
/// no memory per level: peak RSS stays under 64 MB (a frame per level took 16 bytes, 80 MB
/// here); below that depth they nest as before, whole and in pieces alike.
#[test]
fn interpolations_nested_without_end_take_bounded_memory() {
    use sloc::count::MAX_FRAMES;
    let langs = Languages::builtin();
    let js = (0..langs.len())
        .find(|&i| langs.name(i) == "JavaScript")
        .unwrap();
    let js = langs.get(js);
    // Nested to the limit and closed again: the comment after is a comment.
    let closed = format!(
        "x = {}{};\n// c\n",
        "`${".repeat(MAX_FRAMES),
        "}`".repeat(MAX_FRAMES)
    );
    let want = Counts {
        lines: 2,
        code: 1,
        comments: 1,
        blanks: 0,
    };
    assert_eq!(count(js, closed.as_bytes()), want);
    assert_eq!(streamed(js, closed.as_bytes(), 7), want);
    let dir = Dir::new();
    let path = dir.path().join("deep.js");
    let mut out = BufWriter::with_capacity(1 << 20, File::create(&path).unwrap());
    out.write_all(b"x = ").unwrap();
    let block = "`${".repeat((1 << 20) / 3);
    for _ in 0..15 {
        out.write_all(block.as_bytes()).unwrap();
    }
    out.flush().unwrap();
    drop(out);
    let (report, peak) = sloc_with_peak(&dir, &["deep.js"]);
    let row = lang(&report, "JavaScript").expect("counted as JavaScript");
    assert_eq!(nums(row), [1, 1, 1, 0, 0]);
    assert!(peak < 64 << 20, "peak RSS {} MB", peak >> 20);
}

/// A here-document over 2 million distinct words, each alone on its line (each could end a
/// here-document): the index of terminators has a budget, so peak RSS stays under 64 MB
/// (the whole index took 170 MB here, and a 190 MB such file 1.7 GB), and the counts are
/// those of the whole file: the marker still finds its terminator past the index's cut, and
/// a second marker whose word never ends a line stays an operator.
#[test]
fn a_heredoc_index_past_its_budget_takes_bounded_memory() {
    let dir = Dir::new();
    let path = dir.path().join("gen.sh");
    let mut out = BufWriter::with_capacity(1 << 20, File::create(&path).unwrap());
    out.write_all(b"cat <<EOF\n").unwrap();
    let words = 2_000_000;
    for i in 0..words {
        writeln!(out, "w{i}").unwrap();
    }
    out.write_all(b"EOF\n# a comment\necho $((1 <<NOPE))\n# another\n")
        .unwrap();
    out.flush().unwrap();
    drop(out);
    let (report, peak) = sloc_with_peak(&dir, &["gen.sh"]);
    let row = lang(&report, "Shell").expect("counted as Shell");
    let lines = words + 5;
    assert_eq!(nums(row), [1, lines, lines - 2, 2, 0]);
    assert!(peak < 64 << 20, "peak RSS {} MB", peak >> 20);
}
