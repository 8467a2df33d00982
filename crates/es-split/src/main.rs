//! `es-split` command-line entry point: parse → validate → pre-flight → confirm → split → print.
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use es_split::cli::{recovery_command, Cli};
use es_split::client::{Es, HttpTransport};
use es_split::plan::{self, Mode};
use es_split::progress::Ui;
use es_split::report::Report;
use es_split::retry::RetryPolicy;
use es_split::{guard, split, Error};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let resume = recovery_command(&args, "--resume");
    let rollback = recovery_command(&args, "--rollback");
    let hint = format!("to continue: {resume}\nto undo:     {rollback}");
    let on_interrupt = hint.clone();
    // Best effort: without a handler Ctrl-C still kills us and --rollback still works.
    let _ = ctrlc::set_handler(move || {
        eprintln!("\nes-split: interrupted");
        if let Some(msg) = guard::restore_on_interrupt() {
            eprintln!("es-split: {msg}");
        }
        if guard::changed() {
            eprintln!("{on_interrupt}");
        }
        std::process::exit(130);
    });
    let cli = es_split::cli::try_parse_from(std::env::args_os()).unwrap_or_else(|e| e.exit());
    if let Some(what) = cli.generate {
        print_bytes(&es_split::cli::generate(what));
        return ExitCode::SUCCESS;
    }
    let json = cli.json;
    match run(cli) {
        Ok(report) if report.status == "mismatch" => {
            eprintln!(
                "es-split: verification failed: {}; both halves are left in place for inspection",
                report.problems.join("; ")
            );
            eprintln!("{hint}");
            ExitCode::from(1)
        }
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("es-split: {e:#}");
            if guard::changed() {
                eprintln!("{hint}");
            }
            let code = e.downcast_ref::<Error>().map_or(2, Error::exit_code);
            if json {
                let doc = serde_json::json!({"schema": es_split::report::SCHEMA_VERSION, "status": "error",
                    "exit_code": code, "error": format!("{e:#}")});
                print_out(&doc.to_string());
            }
            ExitCode::from(code)
        }
    }
}

/// Parses, runs, prints the report; returns it so `main` can pick the exit code.
fn run(cli: Cli) -> anyhow::Result<Report> {
    let (json, yes, quiet, verbose) = (cli.json, cli.yes, cli.quiet, cli.verbose);
    let (retries, retry_delay, timeout) = (cli.retries, cli.retry_delay, cli.timeout);
    let (cfg, conn) = cli.into_config(std::env::var("ES_PASSWORD").ok())?;
    // After validation: --retry-delay is then a finite number of seconds in 0..=60.
    let policy = RetryPolicy {
        retries,
        base: Duration::from_secs_f64(retry_delay),
        ..RetryPolicy::default()
    };
    let timeout = Duration::from_secs(timeout);
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if cfg.delete_source && !yes && !interactive && !cfg.dry_run {
        return Err(Error::Usage(
            "--delete-source needs --yes when stdin is not a terminal".into(),
        )
        .into());
    }
    let transport = HttpTransport::new(&conn.url, conn.auth, &conn.tls)?;
    let es = Es::new(Arc::new(transport), &conn.url, policy, timeout).verbose(verbose);
    let ui = Ui::new(quiet, verbose);

    let report = if cfg.mode == Mode::Rollback {
        split::rollback(&es, &cfg, &ui)?
    } else {
        let plan = plan::preflight(&es, &cfg)?;
        for w in &plan.warnings {
            ui.warn(w);
        }
        let description = split::describe(&cfg, &plan);
        if cfg.dry_run {
            let report = split::dry_run_report(&cfg, &plan);
            if json {
                print_out(&serde_json::to_string_pretty(&report)?);
            } else {
                print_out(description.trim_end());
            }
            return Ok(report);
        }
        if !quiet || (interactive && !yes) {
            eprint!("{description}");
        }
        if interactive && !yes && !confirm()? {
            return Err(Error::Refused("not confirmed: nothing changed".into()).into());
        }
        split::execute(&es, &cfg, &plan, &ui)?
    };
    if json {
        print_out(&serde_json::to_string_pretty(&report)?);
    } else {
        print_out(report.human().trim_end());
    }
    Ok(report)
}

fn confirm() -> anyhow::Result<bool> {
    eprint!("Proceed? [y/N] ");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "YES"))
}

/// Prints data to stdout; a closed pipe (`| head`) is not an error.
fn print_out(s: &str) {
    print_bytes(format!("{s}\n").as_bytes());
}

/// Writes bytes to stdout, exiting quietly when the reader went away.
fn print_bytes(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    if out.write_all(bytes).and_then(|()| out.flush()).is_err() {
        std::process::exit(0);
    }
}
