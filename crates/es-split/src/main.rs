//! `es-split` command-line entry point: parse → validate → pre-flight → confirm → split → print.
//! Every way out (error, panic, signal) goes through the restore path in
//! [`es_split::interrupt`] before anything is printed.
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use cli_support::Exit;

use es_split::cli::{recovery_command, Cli};
use es_split::client::{Es, HttpTransport};
use es_split::out;
use es_split::plan::{self, Mode};
use es_split::progress::Ui;
use es_split::report::Report;
use es_split::retry::RetryPolicy;
use es_split::{interrupt, rollback, split, status, Error};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let hint = format!(
        "to continue: {}\nto undo:     {}",
        recovery_command(&args, "--resume"),
        recovery_command(&args, "--rollback")
    );
    let cli = match es_split::cli::try_parse_from(std::env::args_os()) {
        Ok(cli) => cli,
        Err(e) => return cli_support::report_clap_error(e),
    };
    if let Some(what) = cli.generate {
        out::out_bytes(&es_split::cli::generate(what));
        return Exit::Ok.into();
    }
    if let Err(e) = interrupt::install(hint.clone()) {
        out::warn(&e.to_string());
    }
    let json = cli.json;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(cli)));
    interrupt::wait_if_interrupted();
    let outcome = match outcome {
        Ok(r) => r,
        Err(_) => Err(anyhow::anyhow!("internal error (a bug): the run panicked")),
    };
    if outcome.as_ref().map_or(true, |r| r.status == "mismatch") {
        // The restore path before any message: the block must not wait on a printing stderr.
        for said in interrupt::restore() {
            out::err_line(&format!("es-split: {said}"));
        }
    }
    match outcome {
        Ok(report) if report.status == "mismatch" => {
            out::err_line(&format!(
                "es-split: verification failed: {}; both halves are left in place for inspection",
                report.problems.join("; ")
            ));
            out::err_line(&hint);
            Exit::Problem.into()
        }
        Ok(_) => Exit::Ok.into(),
        Err(e) => {
            out::err_line(&format!("es-split: {e:#}"));
            let lease_lost = matches!(e.downcast_ref::<Error>(), Some(Error::LeaseLost(_)));
            if interrupt::changed() && !lease_lost {
                out::err_line(&hint);
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
    out::set_quiet(quiet);
    let (retries, retry_delay, timeout) = (cli.retries, cli.retry_delay, cli.timeout);
    let (cfg, conn, warnings) = cli.into_config_warn(std::env::var("ES_PASSWORD").ok())?;
    for w in &warnings {
        out::warn(w);
    }
    // After validation: --retry-delay is then a finite number of seconds in 0..=60.
    let policy = RetryPolicy {
        retries,
        base: Duration::from_secs_f64(retry_delay),
        ..RetryPolicy::default()
    };
    let timeout = Duration::from_secs(timeout);
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if cfg.mode == Mode::Status && cfg.index.is_empty() && !cfg.clean {
        let (text, doc) = status::local(&cfg);
        print_out(
            if json {
                doc.to_string()
            } else {
                text.trim_end().to_string()
            }
            .as_str(),
        );
        return Ok(status_report());
    }
    let changes = !cfg.dry_run && cfg.mode != Mode::Status;
    if changes && !yes && !interactive {
        return Err(Error::Usage(
            "es-split changes the cluster and stdin is not a terminal: pass --yes (see the plan with --dry-run first)".into(),
        )
        .into());
    }
    let transport = HttpTransport::new(&conn.url, conn.auth, &conn.tls)?;
    let es = Es::new(Arc::new(transport), &conn.url, policy, timeout).verbose(verbose);
    let ui = Ui::new(quiet, verbose);

    let report = match cfg.mode {
        Mode::Status if cfg.clean => {
            print_out(status::clean_local(&es, &cfg)?.trim_end());
            return Ok(status_report());
        }
        Mode::Status => {
            let (text, doc) = status::of_index(&es, &cfg)?;
            print_out(
                if json {
                    doc.to_string()
                } else {
                    text.trim_end().to_string()
                }
                .as_str(),
            );
            return Ok(status_report());
        }
        Mode::Rollback => {
            if interactive && !yes && !confirm("Roll back (delete the halves this split created)?")?
            {
                return Err(Error::Refused("not confirmed: nothing changed".into()).into());
            }
            rollback::rollback(&es, &cfg, &ui)?
        }
        Mode::Split | Mode::Resume => {
            if cfg.mode == Mode::Resume {
                if let Some(report) = split::resume_without_source(&es, &cfg)? {
                    print_report(&report, json)?;
                    return Ok(report);
                }
            }
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
                out::err_text(&description);
            }
            if interactive && !yes && !confirm("Proceed?")? {
                return Err(Error::Refused("not confirmed: nothing changed".into()).into());
            }
            split::execute(&es, &cfg, &plan, &ui)?
        }
    };
    print_report(&report, json)?;
    Ok(report)
}

fn print_report(report: &Report, json: bool) -> anyhow::Result<()> {
    if json {
        print_out(&serde_json::to_string_pretty(report)?);
    } else {
        print_out(report.human().trim_end());
    }
    Ok(())
}

/// A placeholder report for `--status` (it prints its own output).
fn status_report() -> Report {
    Report::bare("status", "", "", "", "")
}

fn confirm(question: &str) -> anyhow::Result<bool> {
    out::err_text(&format!("{question} [y/N] "));
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "YES"))
}

/// Prints data to stdout; a closed pipe (`| head`) is not an error.
fn print_out(s: &str) {
    out::out_bytes(format!("{s}\n").as_bytes());
}
