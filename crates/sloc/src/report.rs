//! Turning a walk's tally into the rows every output format prints.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::count::Counts;
use crate::language::Languages;
use crate::path_name::PathName;
use crate::walk::Tally;

/// The column rows are sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum SortKey {
    /// By language name, A to Z.
    Language,
    /// By files, most first.
    Files,
    /// By lines, most first.
    Lines,
    /// By code lines, most first (the default).
    #[default]
    Code,
    /// By comment lines, most first.
    Comments,
    /// By blank lines, most first.
    Blanks,
}

/// One file in the JSON `reports` list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileRow {
    /// The path as walked, byte for byte: a JSON string if it is UTF-8, else `{"bytes": base64}`.
    pub path: PathName,
    /// Its lines (`lines`, `code`, `comments`, `blanks` in JSON).
    #[serde(flatten)]
    pub counts: Counts,
}

/// One language's row (the JSON `languages` items).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LanguageRow {
    /// Language name.
    pub name: String,
    /// Files counted.
    pub files: u64,
    /// Their lines.
    #[serde(flatten)]
    pub counts: Counts,
    /// Per-file rows, with `--by-file` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reports: Option<Vec<FileRow>>,
    /// The languages embedded in these files (`<script>` in HTML), whose lines are part of
    /// this row's; absent when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<ChildRow>,
}

/// An embedded language's lines within one language's files (the JSON `children` items).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChildRow {
    /// Language name.
    pub name: String,
    /// Files holding some of it.
    pub files: u64,
    /// Its lines.
    #[serde(flatten)]
    pub counts: Counts,
}

/// The totals row (the JSON `total` object).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TotalRow {
    /// Files counted.
    pub files: u64,
    /// Their lines.
    #[serde(flatten)]
    pub counts: Counts,
}

impl SortKey {
    /// The value a row with `files` files and `counts` is sorted by (largest first).
    fn of(self, files: u64, counts: &Counts) -> u64 {
        match self {
            SortKey::Language => 0,
            SortKey::Files => files,
            SortKey::Lines => counts.lines,
            SortKey::Code => counts.code,
            SortKey::Comments => counts.comments,
            SortKey::Blanks => counts.blanks,
        }
    }
}

/// Everything a format prints; serializes to the documented JSON schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Languages with at least one file, sorted.
    pub languages: Vec<LanguageRow>,
    /// Sum over all languages.
    pub total: TotalRow,
}

impl Summary {
    /// Builds the rows: languages sharing a name (a `-c` entry named like a built-in) are merged,
    /// languages without files are left out, rows are sorted by `sort` (ties by name).
    pub fn new(langs: &Languages, tally: Tally, by_file: bool, sort: SortKey) -> Summary {
        type Children = BTreeMap<String, (u64, Counts)>;
        let mut merged: BTreeMap<String, (u64, Counts, Vec<FileRow>, Children)> = BTreeMap::new();
        for (i, t) in tally.per_language.into_iter().enumerate() {
            if t.files == 0 {
                continue;
            }
            let entry = merged.entry(langs.name(i).to_string()).or_default();
            entry.0 += t.files;
            entry.1 += t.counts;
            for (lang, c) in t.children {
                let child = entry.3.entry(langs.name(lang).to_string()).or_default();
                child.0 += c.files;
                child.1 += c.counts;
            }
            entry.2.extend(t.reports.into_iter().map(|r| FileRow {
                path: PathName::new(&r.path),
                counts: r.counts,
            }));
        }
        let mut total = TotalRow::default();
        let mut languages: Vec<LanguageRow> = merged
            .into_iter()
            .map(|(name, (files, c, mut reports, children))| {
                total.files += files;
                total.counts += c;
                // By the names' bytes, not as printed: deterministic for any name.
                reports.sort_by(|a, b| a.path.cmp(&b.path));
                LanguageRow {
                    name,
                    files,
                    counts: c,
                    reports: by_file.then_some(reports),
                    children: children
                        .into_iter()
                        .map(|(name, (files, counts))| ChildRow {
                            name,
                            files,
                            counts,
                        })
                        .collect(),
                }
            })
            .collect();
        let key = |r: &LanguageRow| sort.of(r.files, &r.counts);
        languages.sort_by(|a, b| key(b).cmp(&key(a)).then_with(|| a.name.cmp(&b.name)));
        let child_key = |r: &ChildRow| sort.of(r.files, &r.counts);
        for l in &mut languages {
            l.children.sort_by(|a, b| {
                child_key(b)
                    .cmp(&child_key(a))
                    .then_with(|| a.name.cmp(&b.name))
            });
        }
        Summary { languages, total }
    }
}
