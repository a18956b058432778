//! `twistcoach scan` (spec §6): nearby supported sensors, or exit 2 with one line saying
//! why Bluetooth cannot be used.

use crate::cli::ScanArgs;
use crate::error::{Error, Result};
use crate::source::ble::{self, BleError};

/// A runtime for one command's async edge.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Failed(format!("cannot start the async runtime: {e}")))
}

pub(crate) fn ble_error(e: BleError) -> Error {
    Error::Unavailable(e.to_string())
}

pub fn run(args: &ScanArgs) -> Result<()> {
    let hits = runtime()?.block_on(ble::scan(args.seconds)).map_err(ble_error)?;
    if hits.is_empty() {
        println!(
            "no Bluetooth LE devices seen in {:.0} s; is the sensor on and not connected elsewhere?",
            args.seconds
        );
        return Ok(());
    }
    println!(
        "{:<12} {:<17} {:<20} {:>8} {:>8}  vendor",
        "kind", "address", "name", "signal", "battery"
    );
    for h in &hits {
        println!("{}", h.line());
    }
    Ok(())
}
