//! `twistcoach simulate`: write a simulated session (streams + truth) to a folder.

use std::fs;
use std::io::Write;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::body::{Placement, Variation};
use crate::cli::SimulateArgs;
use crate::error::{BadInput, Error, Problem, Result};
use crate::simulate::{self, Format, HardCases, SimSession};

fn output_error(path: &Path, source: std::io::Error) -> Error {
    Error::Output {
        path: path.to_path_buf(),
        source,
    }
}

/// Write `bytes` to `path`, gzip-compressed when the path ends in `.gz`.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if crate::stream::is_gzip_path(path) {
        let mut e = GzEncoder::new(Vec::new(), Compression::best());
        e.write_all(bytes).map_err(|e| output_error(path, e))?;
        let gz = e.finish().map_err(|e| output_error(path, e))?;
        fs::write(path, gz).map_err(|e| output_error(path, e))
    } else {
        fs::write(path, bytes).map_err(|e| output_error(path, e))
    }
}

/// Write a simulated session's files into `dir`; the true angles every `angles_step`
/// truth samples (of 5 ms).
pub fn write_session(session: &SimSession, dir: &Path, angles_step: usize) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| output_error(dir, e))?;
    for s in &session.streams {
        let name = simulate::stream_file_name(s.placement);
        let header = format!(
            "# twistcoach simulate (seed {}): {} at {:.0} Hz\n",
            session.settings.seed,
            s.placement.name(),
            s.rate_hz
        );
        write_file(&dir.join(name), format!("{header}{}", s.csv).as_bytes())?;
    }
    let truth = serde_json::to_string_pretty(&session.truth_json()).unwrap_or_default();
    write_file(&dir.join("truth.json"), format!("{truth}\n").as_bytes())?;
    write_file(
        &dir.join("truth_angles.csv.gz"),
        session.truth_angles_csv(angles_step).as_bytes(),
    )?;
    Ok(())
}

pub fn settings_from_args(args: &SimulateArgs) -> Result<simulate::Settings, BadInput> {
    let sensors = args.sensors.clone().unwrap_or_else(|| match args.variation {
        Variation::Supine => vec![Placement::Pelvis],
        _ => vec![Placement::Chest],
    });
    let format = if args.format == "orientation" {
        Format::Orientation
    } else {
        Format::Raw
    };
    let mut hard = HardCases::default();
    for h in &args.hard {
        if !HardCases::parse(h, &mut hard) {
            return Err(BadInput::file(
                "--hard",
                Problem::Other(format!(
                    "unknown hard case `{h}`; expected bias-steps, scale-errors, mag-disturbance, low-rate, dropouts, heading-jumps or skin-motion"
                )),
            ));
        }
    }
    if let Some(r) = args.rate
        && !(10.0..=1000.0).contains(&r)
    {
        return Err(BadInput::file(
            "--rate",
            Problem::Other(format!("rate {r} Hz is outside 10–1000 Hz")),
        ));
    }
    let mut s = simulate::Settings::new(args.variation, sensors, args.seed, format);
    s.rate_hz = args.rate;
    s.with_mag = args.mag;
    s.hard = hard;
    s.long_session = args.long;
    s.short_still = args.short_still;
    s.reps = args.reps;
    s.max_duration_s = args.max_duration;
    Ok(s)
}

pub fn run(args: &SimulateArgs) -> Result<()> {
    let settings = settings_from_args(args)?;
    let session =
        simulate::simulate(&settings).map_err(|e| BadInput::file("--sensors", Problem::Other(e.to_string())))?;
    write_session(&session, &args.out, 4)?;
    let r = session.report();
    eprintln!(
        "simulated {} session, {} rep(s) in the truth, written to {}",
        settings.variation.name(),
        r.reps.len(),
        args.out.display()
    );
    println!("{}", simulate::analyze_command(&settings));
    Ok(())
}
