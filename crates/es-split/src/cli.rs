//! The command line (clap derive) and its conversion into a validated [`Config`].
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
pub use cli_support::Generate;

use crate::client::{split_userinfo, Auth, Tls};
use crate::error::{Error, Result};
use crate::plan::{Config, MidSpec, Mode, StrategyChoice};
use crate::query::MissingTo;

/// Where documents without the field go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MissingArg {
    First,
    Second,
}

/// How to fill the targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    /// `_clone` where the server has it, else `_reindex`.
    Auto,
    /// `_clone` + `_delete_by_query` (no re-indexing).
    Clone,
    /// Create the targets and `_reindex` each half (needs `_source`).
    Reindex,
}

/// Split an Elasticsearch/OpenSearch index in two on a date midpoint: documents with
/// FIELD < MID go to the first half, FIELD >= MID to the second. Online, verified, resumable.
#[derive(Debug, Parser)]
#[command(
    name = "es-split",
    version,
    about,
    after_help = "Exit codes: 0 ok, 1 verification mismatch, 2 error, 130 interrupted.\nSecrets come from ES_PASSWORD / ES_API_KEY or --password-file / --api-key-file and are never printed."
)]
pub struct Cli {
    /// Cluster URL.
    #[arg(long, env = "ES_URL", default_value = "http://localhost:9200")]
    pub url: String,
    /// The index to split (one concrete index, not an alias).
    #[arg(long, env = "ES_INDEX", required_unless_present_any = ["generate", "status"])]
    pub index: Option<String>,
    /// The date or date_nanos field to split on.
    #[arg(long, required_unless_present_any = ["rollback", "resume", "generate", "status"])]
    pub field: Option<String>,
    /// The split point, in any format the field's mapping accepts (date math too), or
    /// `auto` for the median. Resolved once to an absolute instant, printed in UTC.
    #[arg(long, required_unless_present_any = ["rollback", "resume", "generate", "status"])]
    pub mid: Option<String>,
    /// Name of the first half [default: INDEX-firsthalf].
    #[arg(long)]
    pub first: Option<String>,
    /// Name of the second half [default: INDEX-secondhalf].
    #[arg(long)]
    pub second: Option<String>,
    /// Which half keeps documents without the field (required if there are any).
    #[arg(long, value_enum)]
    pub missing: Option<MissingArg>,
    /// Run every pre-flight check and print the plan; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation (the prompt is only shown on a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Point this alias at both halves after success.
    #[arg(long)]
    pub alias: Option<String>,
    /// Delete the source after verification succeeded (needs --yes or a confirmation).
    #[arg(long)]
    pub delete_source: bool,
    /// Continue an interrupted split from the state its journal on the cluster records.
    #[arg(long, conflicts_with_all = ["rollback", "dry_run", "status"])]
    pub resume: bool,
    /// Delete the halves an unfinished split created and restore the source's write block.
    #[arg(long, conflicts_with_all = ["dry_run", "alias", "delete_source", "status"])]
    pub rollback: bool,
    /// Show where a split stands (phase, lease holder, task progress); without --index,
    /// list the local state files.
    #[arg(long, conflicts_with_all = ["dry_run", "alias", "delete_source"])]
    pub status: bool,
    /// With --status: remove the local state files of --url's cluster whose split is
    /// finished, rolled back or unknown there.
    #[arg(long, requires = "status")]
    pub clean: bool,
    /// Take over a split whose lease is stale (no heartbeat within --lease-ttl).
    #[arg(long)]
    pub take_over: bool,
    /// Split even when one half would be empty.
    #[arg(long)]
    pub allow_empty_half: bool,
    /// Let the halves inherit the source's lifecycle policy (ILM/ISM) and rollover alias.
    #[arg(long)]
    pub keep_lifecycle: bool,
    /// Let the halves inherit the source's default/final ingest pipelines (never run on
    /// the copied documents).
    #[arg(long)]
    pub keep_pipelines: bool,
    /// The index that holds es-split's journals (one document per source index).
    #[arg(long, default_value = crate::store::DEFAULT_INDEX, value_name = "NAME")]
    pub journal_index: String,
    /// Seconds without a heartbeat after which a split's lease counts as stale.
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    pub lease_ttl: u64,
    /// User for basic authentication (password from ES_PASSWORD or --password-file).
    #[arg(long, env = "ES_USER")]
    pub user: Option<String>,
    /// File holding the password (first line), instead of ES_PASSWORD.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// File holding the API key (first line), instead of ES_API_KEY.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["user", "api_key"])]
    pub api_key_file: Option<PathBuf>,
    /// API key (the `encoded` value), sent as `Authorization: ApiKey …`.
    #[arg(
        long,
        env = "ES_API_KEY",
        hide_env_values = true,
        conflicts_with = "user"
    )]
    pub api_key: Option<String>,
    /// PEM file with the CA that signed the cluster's certificate.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Accept any TLS certificate (test clusters only).
    #[arg(long)]
    pub insecure: bool,
    /// Print one JSON report on stdout at the end.
    #[arg(long)]
    pub json: bool,
    /// Timeout of one ordinary request, in seconds (force merge and synchronous deletes wait
    /// as long as they need).
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    pub timeout: u64,
    /// Retries on 429/502/503/504 and dropped connections (exponential backoff).
    #[arg(long, default_value_t = 6)]
    pub retries: u32,
    /// First pause before a retry, in seconds; doubles on every attempt (capped at 8 s).
    #[arg(long, default_value_t = 0.25, value_name = "SECS")]
    pub retry_delay: f64,
    /// How to fill the targets.
    #[arg(long, value_enum, default_value_t = MethodArg::Auto)]
    pub method: MethodArg,
    /// Batch size of delete-by-query / reindex.
    #[arg(long, default_value_t = 5000)]
    pub scroll_size: u32,
    /// `slices` of delete-by-query / reindex (`auto` = one per shard).
    #[arg(long, default_value = "auto")]
    pub slices: String,
    /// Seconds between task polls.
    #[arg(long, default_value_t = 1.0, value_name = "SECS")]
    pub poll_interval: f64,
    /// Directory for the state file that makes --resume/--rollback possible.
    #[arg(long, env = "ES_SPLIT_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Skip the pre-flight check that the data nodes have free disk for the diverging halves.
    #[arg(long)]
    pub no_disk_check: bool,
    /// Log every request (method, path, status, time) to stderr; never credentials.
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// Print only errors and the result.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Print a man page or shell completions to stdout and exit.
    #[arg(long, value_enum, value_name = "WHAT")]
    pub generate: Option<Generate>,
    /// Whether `--api-key` was typed on the command line (visible in `ps`), not taken from
    /// the environment.
    #[arg(skip)]
    pub api_key_on_command_line: bool,
}

/// Parses a command line. `--generate` must stand alone on it, yet may meet values from the
/// environment (`ES_URL`, `ES_INDEX`, …), which clap's `exclusive` would reject.
pub fn try_parse_from<I, T>(args: I) -> std::result::Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::parser::ValueSource;
    use clap::{CommandFactory, FromArgMatches};
    let mut cmd = Cli::command();
    let matches = cmd.try_get_matches_from_mut(args)?;
    let typed = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
    if typed("generate") {
        // Only real arguments: `ids()` also lists the derive's group named after the struct.
        let other = cmd
            .get_arguments()
            .filter(|a| a.get_id() != "generate" && typed(a.get_id().as_str()))
            .find_map(|a| a.get_long().map(str::to_string));
        if let Some(flag) = other {
            return Err(cmd.error(
                clap::error::ErrorKind::ArgumentConflict,
                format!("--generate cannot be used with --{flag}"),
            ));
        }
    }
    let mut cli = Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))?;
    cli.api_key_on_command_line = typed("api_key");
    Ok(cli)
}

/// The man page or completion script for `what`, from the one clap definition.
pub fn generate(what: Generate) -> Vec<u8> {
    use clap::CommandFactory;
    what.render(Cli::command())
}

/// Connection settings, kept apart from `Config` because they hold secrets.
pub struct Connection {
    pub url: String,
    pub auth: Auth,
    pub tls: Tls,
}

/// Reads the first line of a secret file.
fn read_secret(flag: &str, path: &std::path::Path) -> Result<String> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::File {
        path: path.display().to_string(),
        reason: format!("cannot read {flag}: {e}"),
    })?;
    let line = text.lines().next().unwrap_or("").trim().to_string();
    if line.is_empty() {
        return Err(Error::File {
            path: path.display().to_string(),
            reason: format!("{flag} is empty"),
        });
    }
    Ok(line)
}

impl Cli {
    /// Validates the arguments; `password` is ES_PASSWORD. Also returns warnings (a secret
    /// on the command line, where every local user sees it in `ps`).
    pub fn into_config(self, password: Option<String>) -> Result<(Config, Connection)> {
        self.into_config_warn(password)
            .map(|(c, conn, _)| (c, conn))
    }

    /// [`Cli::into_config`] with the warnings.
    pub fn into_config_warn(
        self,
        password: Option<String>,
    ) -> Result<(Config, Connection, Vec<String>)> {
        let mut warnings = Vec::new();
        let mode = match (self.resume, self.rollback, self.status) {
            (true, _, _) => Mode::Resume,
            (_, true, _) => Mode::Rollback,
            (_, _, true) => Mode::Status,
            _ => Mode::Split,
        };
        // clap requires --index unless --generate or --status, which handle its absence.
        let index = self.index.unwrap_or_default();
        if index.is_empty() && mode != Mode::Status {
            return Err(Error::Usage("--index is required".into()));
        }
        let (url, url_user, url_pass) = split_userinfo(self.url.trim());
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(Error::Usage(format!(
                "--url {:?} must start with http:// or https://",
                crate::error::sanitize(&url)
            )));
        }
        if url_pass.is_some() {
            warnings.push(
                "the password in --url is visible to every local user (ps): use ES_PASSWORD or --password-file".into(),
            );
        }
        if self.api_key_on_command_line {
            warnings.push(
                "--api-key on the command line is visible to every local user (ps): use ES_API_KEY or --api-key-file".into(),
            );
        }
        let file_password = match &self.password_file {
            Some(p) => Some(read_secret("--password-file", p)?),
            None => None,
        };
        let api_key = match &self.api_key_file {
            Some(p) => Some(read_secret("--api-key-file", p)?),
            None => self.api_key,
        };
        let auth = match (api_key, self.user.or(url_user)) {
            (Some(key), _) if !key.is_empty() => Auth::ApiKey(key),
            (_, Some(user)) => match url_pass.or(file_password).or(password) {
                Some(password) => Auth::Basic { user, password },
                None => {
                    return Err(Error::Usage(
                        "--user needs a password: set ES_PASSWORD or --password-file".into(),
                    ))
                }
            },
            _ => Auth::None,
        };
        if self.timeout == 0 {
            return Err(Error::Usage("--timeout must be at least 1 second".into()));
        }
        if self.lease_ttl < 4 {
            return Err(Error::Usage(
                "--lease-ttl must be at least 4 seconds".into(),
            ));
        }
        if self.scroll_size == 0 || self.scroll_size > 10_000 {
            return Err(Error::Usage(
                "--scroll-size must be between 1 and 10000".into(),
            ));
        }
        if self.slices != "auto" && self.slices.parse::<u32>().map_or(true, |n| n == 0) {
            return Err(Error::Usage(format!(
                "--slices {:?}: give `auto` or a positive number",
                crate::error::sanitize(&self.slices)
            )));
        }
        if !(self.retry_delay.is_finite() && (0.0..=60.0).contains(&self.retry_delay)) {
            return Err(Error::Usage(
                "--retry-delay must be between 0 and 60 seconds".into(),
            ));
        }
        if !(self.poll_interval.is_finite()
            && self.poll_interval > 0.0
            && self.poll_interval <= 3600.0)
        {
            return Err(Error::Usage(
                "--poll-interval must be between 0 and 3600 seconds".into(),
            ));
        }
        crate::plan::validate_index_name("--journal-index", &self.journal_index)?;
        let mid = match self.mid.as_deref().map(str::trim) {
            Some("auto") => Some(MidSpec::Auto),
            Some("") => return Err(Error::Usage("--mid is empty: give a date or `auto`".into())),
            Some(d) => Some(MidSpec::Date(d.to_string())),
            None => None,
        };
        let state_dir = match self.state_dir {
            Some(d) => d,
            None => default_state_dir()?,
        };
        let names_given = self.first.is_some() || self.second.is_some();
        let cfg = Config {
            url: url.clone(),
            first: self.first.unwrap_or_else(|| format!("{index}-firsthalf")),
            second: self.second.unwrap_or_else(|| format!("{index}-secondhalf")),
            names_given,
            index,
            field: self.field.unwrap_or_default(),
            mid,
            missing: self.missing.map(|m| match m {
                MissingArg::First => MissingTo::First,
                MissingArg::Second => MissingTo::Second,
            }),
            strategy: match self.method {
                MethodArg::Auto => StrategyChoice::Auto,
                MethodArg::Clone => StrategyChoice::Clone,
                MethodArg::Reindex => StrategyChoice::Reindex,
            },
            mode,
            dry_run: self.dry_run,
            alias: self.alias,
            delete_source: self.delete_source,
            scroll_size: self.scroll_size,
            slices: self.slices,
            poll: Duration::from_secs_f64(self.poll_interval),
            state_dir,
            disk_check: !self.no_disk_check,
            allow_empty_half: self.allow_empty_half,
            keep: crate::hygiene::Keep {
                lifecycle: self.keep_lifecycle,
                pipelines: self.keep_pipelines,
            },
            take_over: self.take_over,
            clean: self.clean,
            journal_index: self.journal_index,
            lease_ttl: self.lease_ttl,
        };
        let tls = Tls {
            ca_cert: self.ca_cert,
            insecure: self.insecure,
        };
        Ok((cfg, Connection { url, auth, tls }, warnings))
    }
}

fn default_state_dir() -> Result<PathBuf> {
    if let Some(d) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d).join("es-split"));
    }
    match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        Some(h) => Ok(PathBuf::from(h).join(".local/state/es-split")),
        None => Err(Error::Usage(
            "cannot find a state directory: set --state-dir or ES_SPLIT_STATE_DIR".into(),
        )),
    }
}

/// The command that resumes (or rolls back) this run: the user's arguments with secrets
/// removed (they come from the environment) and the mode flags replaced.
pub fn recovery_command(args: &[String], flag: &str) -> String {
    let mut out = vec!["es-split".to_string()];
    let mut skip = false;
    for a in args.iter().skip(1) {
        if skip {
            skip = false;
            continue;
        }
        let name = a.split('=').next().unwrap_or(a);
        match name {
            "--resume" | "--rollback" | "--dry-run" | "--status" => continue,
            "--api-key" => {
                skip = !a.contains('=');
                continue;
            }
            "--url" if a.contains('=') => {
                out.push(format!("--url={}", split_userinfo(&a["--url=".len()..]).0));
                continue;
            }
            _ => {}
        }
        if out.last().is_some_and(|p| p == "--url") {
            out.push(shell_quote(&split_userinfo(a).0));
        } else {
            out.push(shell_quote(a));
        }
    }
    // The printed command must run as printed: non-interactive runs need --yes, and a
    // rollback takes none of a split's alias / delete-source flags.
    if flag == "--rollback" {
        let mut kept = Vec::new();
        let mut skip = false;
        for w in out {
            if skip {
                skip = false;
                continue;
            }
            match w.split('=').next().unwrap_or(&w) {
                "--delete-source" => continue,
                "--alias" => {
                    skip = !w.contains('=');
                    continue;
                }
                _ => kept.push(w),
            }
        }
        out = kept;
    }
    if !out.iter().any(|w| w == "--yes" || w == "-y") {
        out.push("--yes".into());
    }
    out.push(flag.to_string());
    out.join(" ")
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", crate::error::sanitize(s).replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    fn parse_args(args: &[&str]) -> Result<(Config, Connection)> {
        let mut full = vec!["es-split", "--state-dir", "/tmp/x"];
        full.extend_from_slice(args);
        Cli::try_parse_from(full)
            .map_err(|e| Error::Usage(e.to_string()))?
            .into_config(None)
    }

    /// Parses a command line given as whitespace-separated words.
    fn parse(line: &str) -> Result<(Config, Connection)> {
        parse_args(&line.split_whitespace().collect::<Vec<_>>())
    }

    #[test]
    fn generate_stands_alone() {
        let cli = try_parse_from(["es-split", "--generate", "zsh"]).unwrap();
        assert_eq!(cli.generate, Some(Generate::Zsh));
        let e = try_parse_from(["es-split", "--generate", "zsh", "--index", "x"]).unwrap_err();
        assert!(
            e.to_string()
                .contains("--generate cannot be used with --index"),
            "{e}"
        );
        assert!(try_parse_from(["es-split", "--field", "d", "--mid", "x"]).is_err());
    }

    #[test]
    fn generates_man_page_and_completions() {
        let man = String::from_utf8(generate(Generate::Man)).unwrap();
        assert!(man.contains(".TH es-split 1"), "{man}");
        assert!(man.contains("\\-\\-no\\-disk\\-check"), "{man}");
        for shell in [
            Generate::Bash,
            Generate::Zsh,
            Generate::Fish,
            Generate::Elvish,
            Generate::Powershell,
        ] {
            let script = String::from_utf8(generate(shell)).unwrap();
            assert!(
                script.contains("no-disk-check") && script.contains("es-split"),
                "{shell:?}: {script}"
            );
        }
    }

    #[test]
    fn defaults_and_names() {
        let (cfg, conn) = parse("--index logs --field date --mid 2015-01-01").unwrap();
        assert_eq!(cfg.first, "logs-firsthalf");
        assert_eq!(cfg.second, "logs-secondhalf");
        assert_eq!(cfg.mid, Some(MidSpec::Date("2015-01-01".into())));
        assert_eq!(conn.auth, Auth::None);
        let auto = parse("--index l --field d --mid auto").unwrap().0;
        assert_eq!(auto.mid, Some(MidSpec::Auto));
    }

    #[test]
    fn userinfo_becomes_basic_auth_and_leaves_the_url() {
        let (cfg, conn) =
            parse("--url https://elastic:pw@h:9200 --index l --field d --mid 2015").unwrap();
        assert_eq!(cfg.url, "https://h:9200");
        assert_eq!(
            conn.auth,
            Auth::Basic {
                user: "elastic".into(),
                password: "pw".into()
            }
        );
        assert!(!format!("{cfg:?}").contains("pw@"));
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for bad in [
            "--url localhost:9200",
            "--scroll-size 0",
            "--slices zero",
            "--user u",
            "--resume --rollback",
            "--retry-delay NaN",
            "--retry-delay=-1",
            "--poll-interval 0",
            "--timeout 0",
        ] {
            let line = format!("--index l --field d --mid x {bad}");
            assert!(parse(&line).is_err(), "{bad}");
        }
        assert!(parse_args(&["--index", "l", "--field", "d", "--mid", " "]).is_err());
        assert!(parse("--index l --rollback").is_ok());
        assert!(parse("--index l").is_err());
    }

    #[test]
    fn recovery_command_drops_secrets() {
        let args: Vec<String> = [
            "es-split",
            "--url",
            "https://u:secret@h:9200",
            "--api-key",
            "KEY",
            "--index",
            "logs",
            "--mid",
            "2015-01-01 10:00",
            "--dry-run",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let cmd = recovery_command(&args, "--resume");
        assert_eq!(
            cmd,
            "es-split --url https://h:9200 --index logs --mid '2015-01-01 10:00' --yes --resume"
        );
        let args: Vec<String> = [
            "es-split",
            "--api-key=KEY",
            "--url=http://a:b@h",
            "--resume",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            recovery_command(&args, "--rollback"),
            "es-split --url=http://h --yes --rollback"
        );
        let args: Vec<String> = [
            "es-split",
            "--index",
            "l",
            "--alias",
            "a",
            "--delete-source",
            "-y",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            recovery_command(&args, "--rollback"),
            "es-split --index l -y --rollback"
        );
        assert_eq!(
            recovery_command(&args, "--resume"),
            "es-split --index l --alias a --delete-source -y --resume"
        );
    }
}
