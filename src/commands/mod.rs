//! The subcommands: each reads its inputs, calls the pure core, and writes its outputs.
//! This is the program's edge; nothing here is needed by the core.

pub mod analyze;
pub mod demo;
pub mod demo_orientation;
pub mod history;
pub mod live;
pub mod orientation;
pub mod plot;
pub mod replay;
pub mod scan;
pub mod serve;
pub mod simulate;

use crate::cli::{Cli, Command};
use crate::error::Result;

/// Run one parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Orientation(args) => orientation::run(&args),
        Command::Analyze(args) => analyze::run(&args),
        Command::Simulate(args) => simulate::run(&args),
        Command::History(args) => history::run(&args),
        Command::Plot(args) => plot::run(&args),
        Command::Scan(args) => scan::run(&args),
        Command::Live(args) => live::run(&args),
        Command::Replay(args) => replay::run(&args),
        Command::Serve(args) => serve::run(&args),
    }
}
