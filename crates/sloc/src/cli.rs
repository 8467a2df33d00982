//! Command-line arguments and their validation into a [`Config`].

use std::path::PathBuf;

use clap::Parser;
pub use cli_support::Generate;

use crate::error::SlocError;
use crate::language::Languages;
use crate::output::Format;
use crate::report::SortKey;
use crate::walk::{self, WalkOptions};

/// Counts code, comment and blank lines per language, fast.
#[derive(Debug, Parser)]
#[command(name = "sloc", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    /// Files or directories to count (default: the current directory).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Directory to count, as in the original tool (repeatable; adds to PATH...).
    #[arg(short = 'd', long = "root-source-dir", value_name = "DIR")]
    pub root_source_dir: Vec<PathBuf>,
    /// JSON syntax file merged over the built-in languages by extension (repeatable).
    #[arg(short = 'c', long = "comment-file", value_name = "FILE")]
    pub comment_file: Vec<PathBuf>,
    /// Output format.
    #[arg(short = 'f', long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Also report every file (table, json, csv).
    #[arg(long)]
    pub by_file: bool,
    /// Do not show embedded languages (an HTML script, a Markdown code block) as children; their
    /// lines stay in their files' language either way.
    #[arg(short = 'C', long)]
    pub compact: bool,
    /// Column to sort languages by (numbers: largest first).
    #[arg(short = 's', long, value_enum, default_value_t = SortKey::Code)]
    pub sort: SortKey,
    /// Count files that .gitignore, .ignore and git excludes would skip.
    #[arg(long)]
    pub no_ignore: bool,
    /// Count hidden files and directories too.
    #[arg(long)]
    pub hidden: bool,
    /// Skip paths matching this gitignore-style glob (repeatable).
    #[arg(short = 'e', long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Count only this language (repeatable, or comma-separated: `-t Rust,C`); names as
    /// --languages lists them, in any case.
    #[arg(short = 't', long = "type", value_name = "LANG", value_delimiter = ',')]
    pub types: Vec<String>,
    /// Do not count this language (repeatable, or comma-separated); wins over --type.
    #[arg(long = "exclude-type", value_name = "LANG", value_delimiter = ',')]
    pub exclude_types: Vec<String>,
    /// Follow symbolic links (a file reached twice is still counted once).
    #[arg(short = 'L', long)]
    pub follow: bool,
    /// Walker threads (default: one per CPU).
    #[arg(
        short = 'j',
        long,
        value_name = "N",
        default_value_t = 0,
        hide_default_value = true
    )]
    pub threads: usize,
    /// List the known languages with their extensions, file names and interpreters, then exit.
    #[arg(long)]
    pub languages: bool,
    /// Print a man page or a shell completion script, then exit.
    #[arg(long, value_enum, value_name = "KIND")]
    pub generate: Option<Generate>,
}

const AFTER_HELP: &str = "Exit status: 0 ok, 1 counted but some files could not be read \
(warnings on stderr), 2 error.\nSyntax file format: syntaxes/README.md.";

/// What to do, validated: every usage and input error surfaces here, before any walking.
#[derive(Debug)]
pub struct Config {
    /// Built-ins plus `-c` files.
    pub languages: Languages,
    /// The walk.
    pub walk: WalkOptions,
    /// Output format.
    pub format: Format,
    /// Sort column.
    pub sort: SortKey,
    /// Leave out the embedded languages' rows.
    pub compact: bool,
    /// Only list the languages.
    pub list_languages: bool,
    /// Only print a man page or completions.
    pub generate: Option<Generate>,
}

/// A usage error: a flag combination that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `--by-file` asked of a format that has no per-file form.
    #[error("--by-file does not work with --format legacy: use --format table, json or csv")]
    ByFileLegacy,
    /// Bad input.
    #[error(transparent)]
    Sloc(#[from] SlocError),
}

impl Config {
    /// Validates the arguments, loads the syntax files and checks the paths.
    pub fn from_cli(cli: Cli) -> Result<Config, ConfigError> {
        if cli.by_file && cli.format == Format::Legacy {
            return Err(ConfigError::ByFileLegacy);
        }
        let languages = Languages::with_files(&cli.comment_file)?;
        // Checked now, so that a misspelt name is an error before any walking.
        languages.selection(&cli.types, &cli.exclude_types)?;
        let mut paths = cli.paths;
        paths.extend(cli.root_source_dir);
        if paths.is_empty() {
            paths.push(PathBuf::from("."));
        }
        let walk = WalkOptions {
            paths,
            no_ignore: cli.no_ignore,
            hidden: cli.hidden,
            excludes: cli.exclude,
            follow: cli.follow,
            by_file: cli.by_file,
            threads: cli.threads,
            types: cli.types,
            exclude_types: cli.exclude_types,
        };
        if !cli.languages && cli.generate.is_none() {
            walk::validate(&walk)?;
        }
        Ok(Config {
            languages,
            walk,
            format: cli.format,
            sort: cli.sort,
            compact: cli.compact,
            list_languages: cli.languages,
            generate: cli.generate,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn generates_every_kind_from_this_definition() {
        for what in Generate::ALL {
            let text = String::from_utf8(what.render(Cli::command())).unwrap();
            assert!(
                text.replace("\\-", "-").contains("comment-file"),
                "{what:?}"
            );
        }
    }

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }
}
