//! The output formats: a table for people, JSON and CSV for scripts, the blog post's lines.

use std::io::{self, Write};

use comfy_table::{presets, CellAlignment, Table, TableComponent};

use crate::count::Counts;
use crate::report::Summary;
use crate::sanitize::for_terminal;

/// An output format (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// An aligned table with a Total row.
    #[default]
    Table,
    /// `{"languages":[…],"total":{…}}`, documented in the README.
    Json,
    /// A header line, a line per language and a Total line; with `--by-file`, a line per file.
    Csv,
    /// The original tool's `File-type: Go  Line-count: 473968` lines (code lines).
    Legacy,
}

/// Writes `summary` in `format`.
pub fn write(out: &mut dyn Write, summary: &Summary, format: Format) -> io::Result<()> {
    match format {
        Format::Table => write_table(out, summary),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, summary)?;
            writeln!(out)
        }
        Format::Csv => write_csv(out, summary),
        Format::Legacy => write_legacy(out, summary),
    }
}

fn write_table(out: &mut dyn Write, s: &Summary) -> io::Result<()> {
    let mut table = Table::new();
    table.load_preset(presets::UTF8_HORIZONTAL_ONLY);
    table.remove_style(TableComponent::HorizontalLines);
    table.remove_style(TableComponent::MiddleIntersections);
    table.remove_style(TableComponent::LeftBorderIntersections);
    table.remove_style(TableComponent::RightBorderIntersections);
    table.set_header(["Language", "Files", "Lines", "Code", "Comments", "Blanks"]);
    for lang in &s.languages {
        table.add_row(row(
            for_terminal(&lang.name).into_owned(),
            Some(lang.files),
            &lang.counts,
        ));
        // Embedded languages under their file language, as tokei shows them: part of its
        // lines, not added again to the total.
        for c in &lang.children {
            let name = format!(" |- {}", for_terminal(&c.name));
            table.add_row(row(name, Some(c.files), &c.counts));
        }
        for f in lang.reports.iter().flatten() {
            let path = format!("  {}", for_terminal(&f.path.escaped()));
            table.add_row(row(path, None, &f.counts));
        }
    }
    let t = &s.total;
    table.add_row(row("Total".to_string(), Some(t.files), &t.counts));
    for i in 1..6 {
        if let Some(col) = table.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    // One rule under the header and one above Total, as tokei prints: comfy-table draws a rule
    // between every row or none, so the one above Total is added to the rendered lines.
    let rendered = table.to_string();
    let lines: Vec<&str> = rendered.lines().collect();
    let rule = lines.first().copied().unwrap_or_default();
    for (i, line) in lines.iter().enumerate() {
        if i + 2 == lines.len() {
            writeln!(out, "{rule}")?;
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// A table row: its label, its files (none for a file's row) and its lines.
fn row(label: String, files: Option<u64>, c: &Counts) -> [String; 6] {
    let n = |v: u64| v.to_string();
    [
        label,
        files.map(n).unwrap_or_default(),
        n(c.lines),
        n(c.code),
        n(c.comments),
        n(c.blanks),
    ]
}

/// RFC 4180 quoting: only fields with a comma, quote or line break are quoted.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn write_csv(out: &mut dyn Write, s: &Summary) -> io::Result<()> {
    let by_file = s.languages.iter().any(|l| l.reports.is_some());
    if by_file {
        writeln!(out, "language,path,lines,code,comments,blanks")?;
        for lang in &s.languages {
            for f in lang.reports.iter().flatten() {
                writeln!(
                    out,
                    "{},{},{},{},{},{}",
                    csv_field(&lang.name),
                    csv_field(&f.path.escaped()),
                    f.counts.lines,
                    f.counts.code,
                    f.counts.comments,
                    f.counts.blanks
                )?;
            }
        }
        return Ok(());
    }
    writeln!(out, "language,files,lines,code,comments,blanks")?;
    for l in &s.languages {
        let name = csv_field(&l.name);
        let (f, li, c, cm, b) = (
            l.files,
            l.counts.lines,
            l.counts.code,
            l.counts.comments,
            l.counts.blanks,
        );
        writeln!(out, "{name},{f},{li},{c},{cm},{b}")?;
    }
    let t = &s.total;
    let (f, li, c, cm, b) = (
        t.files,
        t.counts.lines,
        t.counts.code,
        t.counts.comments,
        t.counts.blanks,
    );
    writeln!(out, "Total,{f},{li},{c},{cm},{b}")
}

fn write_legacy(out: &mut dyn Write, s: &Summary) -> io::Result<()> {
    for l in &s.languages {
        let name = for_terminal(&l.name);
        writeln!(out, "File-type: {name}  Line-count: {}", l.counts.code)?;
    }
    Ok(())
}
