//! Thin binary: parse the command line, run it, map errors to exit codes (spec §6).

use clap::Parser;

fn main() {
    let cli = twistcoach::cli::Cli::parse();
    if let Err(e) = twistcoach::commands::run(cli) {
        eprintln!("twistcoach: error: {e}");
        std::process::exit(e.exit_code());
    }
}
