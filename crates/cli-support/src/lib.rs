//! The command-line glue the three devtools binaries (`sloc`, `es-split`, `jnstack`) share,
//! so that it cannot drift between them: `--generate` (man page, completions), `--color`,
//! the exit-code contract, clap's messages, sanitizing untrusted text for a terminal, and
//! output that never panics. Nothing tool-specific belongs here.
//!
//! A binary's `main` typically reads:
//!
//! ```no_run
//! use cli_support::{exit::Exit, output};
//! # #[derive(clap::Parser)] struct Cli {}
//! fn main() -> std::process::ExitCode {
//!     let cli: Cli = match cli_support::parse() {
//!         Ok(cli) => cli,
//!         Err(code) => return code,
//!     };
//!     match output::stdout_bytes(b"report\n") {
//!         Ok(_) => Exit::Ok.into(),
//!         Err(e) => {
//!             output::line("tool", &format!("cannot write to stdout: {e}"));
//!             Exit::Error.into()
//!         }
//!     }
//! }
//! ```

pub mod color;
pub mod exit;
pub mod generate;
pub mod output;
pub mod parse;
pub mod sanitize;
pub mod testing;

pub use color::ColorChoice;
pub use exit::Exit;
pub use generate::Generate;
pub use parse::{parse, report_clap_error};
