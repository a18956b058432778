//! `twistcoach plot [--db FILE] [--weeks N] [--variation V] -o OUT.png|OUT.svg`.

use std::time::Instant;

use crate::cli::PlotArgs;
use crate::error::{Error, Result};
use crate::history::{LocalTime, Store};
use crate::plot::{self, series};

pub fn run(args: &PlotArgs) -> Result<()> {
    // Refuse a bad extension before touching the database.
    plot::format_of(&args.output).map_err(|e| Error::Failed(e.to_string()))?;
    let db = super::history::db_path(&args.db)?;
    let start = Instant::now();
    let mut store = Store::open(&db)?;
    let stored = store.sessions()?;
    let records: Vec<_> = stored.into_iter().map(|s| s.record).collect();
    let chosen = series::within_weeks(&records, args.weeks, LocalTime::now());
    let progress = series::progress(&chosen, args.variation);
    let (w, h) =
        plot::plot(&progress, &db.display().to_string(), &args.output).map_err(|e| Error::Failed(e.to_string()))?;
    eprintln!(
        "wrote {} ({w}×{h} px, {} session{}) in {:.0} ms",
        args.output.display(),
        progress.sessions,
        if progress.sessions == 1 { "" } else { "s" },
        start.elapsed().as_secs_f64() * 1e3
    );
    for v in &progress.variations {
        println!("{}", v.headline);
    }
    if !progress.adherence.headline.is_empty() {
        println!("{}", progress.adherence.headline);
    }
    Ok(())
}
