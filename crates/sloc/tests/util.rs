//! A small harness: a temp directory per test and the built `sloc` binary run inside it.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// A scratch directory that disappears with the test.
pub struct Dir {
    tmp: tempfile::TempDir,
}

impl Dir {
    /// A fresh, empty directory.
    pub fn new() -> Dir {
        Dir {
            tmp: tempfile::tempdir().unwrap(),
        }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Writes `rel` (creating parent directories) and returns its full path.
    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.tmp.path().join(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(&p, bytes).unwrap();
        p
    }

    /// `sloc` with this directory as its working directory.
    pub fn sloc(&self) -> Command {
        let mut cmd = Command::cargo_bin("sloc").unwrap();
        cmd.current_dir(self.tmp.path());
        cmd
    }

    /// Runs `sloc --format json ARGS`, asserts success, and returns the parsed JSON.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self
            .sloc()
            .args(["--format", "json"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "sloc {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// The languages of `sloc --format json ARGS`, in report order.
    pub fn language_names(&self, args: &[&str]) -> Vec<String> {
        self.json(args)["languages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["name"].as_str().unwrap().to_string())
            .collect()
    }
}

/// The row of language `name` in a JSON report, if any.
pub fn lang<'a>(report: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    report["languages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == name)
}

/// `[files, lines, code, comments, blanks]` of a JSON row.
pub fn nums(row: &serde_json::Value) -> [u64; 5] {
    ["files", "lines", "code", "comments", "blanks"].map(|k| row[k].as_u64().unwrap())
}

/// The built-in languages, built once per test binary.
pub fn langs() -> &'static sloc::Languages {
    static LANGS: std::sync::OnceLock<sloc::Languages> = std::sync::OnceLock::new();
    LANGS.get_or_init(sloc::Languages::builtin)
}

/// The index of the built-in language named `name`.
pub fn index_of(name: &str) -> usize {
    let langs = langs();
    (0..langs.len())
        .find(|&i| langs.name(i) == name)
        .unwrap_or_else(|| panic!("no language {name}"))
}
