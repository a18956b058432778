//! `twistcoach analyze` (spec §6): read the streams, run `analysis::analyze`, print the
//! report as JSON or as a plain-language summary.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::analysis::{self, Config, OrientationMode, SensorStream};
use crate::body::mount::{Mount, parse_mount_arg};
use crate::body::{Placement, Variation};
use crate::cli::AnalyzeArgs;
use crate::error::{BadInput, Error, Problem, Result};
use crate::session::protocol::{Caution, Protocol};
use crate::session::report::{Report, Side};
use crate::stream;

fn arg_error(what: &str, msg: String) -> Error {
    BadInput::file(what, Problem::Other(msg)).into()
}

fn parse_variation(text: &str) -> Result<Variation> {
    Variation::parse(text).ok_or_else(|| {
        arg_error(
            "--variation",
            format!("unknown variation `{text}`; expected supine, seated or standing"),
        )
    })
}

fn parse_caution(text: &str, what: &str) -> Result<Caution> {
    Caution::parse(text).ok_or_else(|| {
        arg_error(
            what,
            format!(
                "unknown caution profile `{text}`; expected disc-herniation, spondylolisthesis, severe-osteoarthritis or pregnancy"
            ),
        )
    })
}

/// Options shared by both kinds of input, on top of `config` (flags override).
fn apply_flags(args: &AnalyzeArgs, config: &mut Config) -> Result<()> {
    if let Some(c) = &args.caution {
        config.caution = Some(parse_caution(c, "--caution")?);
    }
    if let Some(p) = &args.protocol {
        config.protocol = Protocol::read(p)?;
    }
    config.drift_correction = !args.no_drift_correction;
    config.mag = match (args.no_mag, args.mag) {
        (true, _) => crate::analysis::MagUse::Never,
        (false, true) => crate::analysis::MagUse::Always,
        (false, false) => crate::analysis::MagUse::AcrossDropouts,
    };
    if args.causal {
        config.orientation = OrientationMode::Causal;
    }
    Ok(())
}

/// Streams, configuration and warnings from a recording file; flags override what the
/// recording says.
fn prepare_recording(path: &Path, args: &AnalyzeArgs) -> Result<(Vec<SensorStream>, Config, Vec<String>)> {
    let mut input = crate::analysis::recording::read(path)?;
    if let Some(v) = &args.variation {
        input.config.variation = parse_variation(v)?;
    }
    apply_flags(args, &mut input.config)?;
    for m in &args.mounts {
        let (placement, mount) = parse_mount_arg(m).map_err(|e| arg_error("--mount", e.to_string()))?;
        match input.streams.iter_mut().find(|s| s.placement == placement) {
            Some(s) => s.mount = mount,
            None => {
                return Err(arg_error(
                    "--mount",
                    format!(
                        "--mount names `{}`, but the recording has no sensor there",
                        placement.name()
                    ),
                ));
            }
        }
    }
    Ok((input.streams, input.config, input.warnings))
}

/// Parse the command line into streams, a configuration and input warnings (reading the
/// files).
pub fn prepare(args: &AnalyzeArgs) -> Result<(Vec<SensorStream>, Config, Vec<String>)> {
    if let Some(path) = &args.recording {
        return prepare_recording(path, args);
    }
    let variation = parse_variation(args.variation.as_deref().unwrap_or_default())?;
    let mut config = Config::new(variation);
    apply_flags(args, &mut config)?;
    let mut mounts: Vec<(Placement, Mount)> = Vec::new();
    for m in &args.mounts {
        let (p, mount) = parse_mount_arg(m).map_err(|e| arg_error("--mount", e.to_string()))?;
        mounts.push((p, mount));
    }
    let mut placements: Vec<(Placement, PathBuf)> = Vec::new();
    for s in &args.sensors {
        let (name, path) = s.split_once('=').ok_or_else(|| {
            arg_error(
                "--sensor",
                format!("`{s}`: expected PLACEMENT=PATH, e.g. chest=chest.csv.gz"),
            )
        })?;
        let placement = Placement::parse(name).ok_or_else(|| {
            arg_error(
                "--sensor",
                format!("unknown placement `{name}`; expected chest, pelvis, upper-back or sacrum"),
            )
        })?;
        if placements.iter().any(|(p, _)| *p == placement) {
            return Err(arg_error("--sensor", format!("placement `{name}` is given twice")));
        }
        placements.push((placement, PathBuf::from(path)));
    }
    for (p, _) in &mounts {
        if !placements.iter().any(|(q, _)| q == p) {
            return Err(arg_error(
                "--mount",
                format!("--mount names `{}`, but no --sensor is on that placement", p.name()),
            ));
        }
    }
    let mut streams = Vec::new();
    for (placement, path) in placements {
        let stream = stream::read_stream(&path)?;
        let mount = mounts
            .iter()
            .rev()
            .find(|(p, _)| *p == placement)
            .map(|(_, m)| *m)
            .unwrap_or_default();
        streams.push(SensorStream {
            placement,
            path,
            stream,
            mount,
        });
    }
    Ok((streams, config, Vec::new()))
}

pub fn run(args: &AnalyzeArgs) -> Result<()> {
    let (streams, config, input_warnings) = prepare(args)?;
    let (mut report, signals) = analysis::analyze_detailed(&streams, &config)?;
    for w in &input_warnings {
        eprintln!("twistcoach: warning: {w}");
    }
    report.warnings.splice(0..0, input_warnings);
    if let Some(path) = &args.dump_signals {
        dump_signals(path, &signals)?;
    }
    let text = if args.json {
        let mut s = serde_json::to_string_pretty(&report).map_err(|e| Error::Output {
            path: PathBuf::from("<stdout>"),
            source: std::io::Error::other(e),
        })?;
        s.push('\n');
        s
    } else {
        summary(&report)
    };
    if args.save {
        crate::commands::history::autosave(&args.db, &report, args.recording.as_deref(), "analyze");
    }
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|source| Error::Output {
            path: Path::new("<stdout>").to_path_buf(),
            source,
        })
}

fn side_name(s: Side) -> &'static str {
    match s {
        Side::Left => "left",
        Side::Right => "right",
    }
}

/// The human-readable summary.
pub fn summary(r: &Report) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let t = &r.targets;
    let _ = writeln!(
        s,
        "{} twist: {} rep{}{}. Targets: hold {:.0}–{:.0} s, at most {:.0}°, at most {:.0}°/s.",
        r.variation.name(),
        r.reps.len(),
        if r.reps.len() == 1 { "" } else { "s" },
        r.caution
            .as_ref()
            .map(|c| format!(" (caution: {c})"))
            .unwrap_or_default(),
        t.hold_min_s,
        t.hold_max_s,
        t.over_rotation_deg,
        t.too_fast_dps
    );
    for (i, rep) in r.reps.iter().enumerate() {
        let verdict = if rep.flags.is_empty() {
            "good".to_string()
        } else {
            rep.cues.join("; ")
        };
        let _ = writeln!(
            s,
            "  {:>2}. {:<5} at {:>8.1} s: held {:>4.1} s at {:>4.1}° (peak {:.1}°) - {verdict}{}",
            i + 1,
            side_name(rep.side),
            rep.start_s,
            rep.hold_s,
            rep.hold_mean_deg,
            rep.peak_deg,
            if rep.notes.is_empty() {
                String::new()
            } else {
                format!(" [{}]", rep.notes.join("; "))
            }
        );
    }
    if r.reps.is_empty() {
        let _ = writeln!(s, "  No reps found: turn past 15° and hold, then come back to neutral.");
    }
    for n in &r.notes {
        let _ = writeln!(s, "Note: {n}");
    }
    for w in &r.warnings {
        let _ = writeln!(s, "Warning: {w}");
    }
    s
}

fn dump_signals(path: &Path, s: &analysis::BodySignals) -> Result<()> {
    use std::fmt::Write as _;
    let mut text = String::from("t,primary_deg,compensation_deg,flexion_deg\n");
    for i in 0..s.t_s.len() {
        let opt = |v: &Option<Vec<f64>>| v.as_ref().map(|v| format!("{:.4}", v[i])).unwrap_or_default();
        let _ = writeln!(
            text,
            "{},{:.4},{},{}",
            s.t_s[i],
            s.primary_deg[i],
            opt(&s.compensation_deg),
            opt(&s.flexion_deg)
        );
    }
    std::fs::write(path, text).map_err(|source| Error::Output {
        path: path.to_path_buf(),
        source,
    })
}
