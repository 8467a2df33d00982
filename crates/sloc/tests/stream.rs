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
