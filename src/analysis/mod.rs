//! The whole `analyze` pipeline as one library call: streams → orientation → common time
//! axis → neutral calibration → body angles → drift removal → reps → flags → report.
//!
//! Pure apart from taking already-read streams: no files, no clock. The CLI, the demo,
//! batch evaluations and replays call [`analyze`].

pub mod drift;
pub mod jumps;
pub mod live_drift;
pub mod recording;

use std::path::PathBuf;

use crate::body::calibration::{
    SegmentCalibration, StillSettings, StillSignals, calibrate_segment, find_still_window, gyro_rate_dps,
    orientation_rate_dps,
};
use crate::body::mount::Mount;
use crate::body::twist::{flexion_rad, relative_twist_rad, segment_twist_rad};
use crate::body::{Placement, Segment, Variation};
use crate::error::{BadInput, Problem};
use crate::frames::{Quat, norm};
use crate::orientation::{self, Settings as OrientationSettings};
use crate::session::extract::{self, Sample};
use crate::session::flags::{FlagContext, judge_rep, judge_session};
use crate::session::protocol::{Caution, Protocol};
use crate::session::report::{REPORT_SCHEMA, Report};
use crate::stream::{Samples, Stream};

/// One sensor's input: where it is worn, how, and its samples.
#[derive(Debug, Clone)]
pub struct SensorStream {
    pub placement: Placement,
    /// Names the stream in errors and warnings.
    pub path: PathBuf,
    pub stream: Stream,
    pub mount: Mount,
}

/// When a raw stream's magnetometer is used.
///
/// The analysis removes heading drift itself, from the rests at neutral between reps, so
/// the magnetometer's heading is not needed for drift, and a magnetic disturbance (steel
/// furniture, a phone) bends the heading in ways no rest can undo: in our simulated batch
/// the 6D estimate is more accurate overall (peak error p90 1.5° against 1.75°, and 0.8°
/// against 3.3° under disturbances). What the gyroscope cannot bridge is a dropout: the
/// rotation during it is lost, and only the magnetometer sees the heading afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MagUse {
    Never,
    /// Only for a stream with a dropout longer than [`drift::GAP_STEP_S`].
    AcrossDropouts,
    Always,
}

/// How raw IMU streams become orientations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrientationMode {
    /// Causal VQF, as live.
    Causal,
    /// VQF whose forward pass starts from a backward pass's converged state (default).
    WarmStarted,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub variation: Variation,
    pub caution: Option<Caution>,
    pub protocol: Protocol,
    pub orientation: OrientationMode,
    /// When to use a raw stream's magnetometer.
    pub mag: MagUse,
    /// Remove heading drift using the rests between reps.
    pub drift_correction: bool,
    /// Supine: refine the head-ward axis from the reps themselves (the wear convention
    /// only knows it to ±15°).
    pub estimate_supine_axis: bool,
    pub still: StillSettings,
    pub extract: extract::Settings,
}

impl Config {
    pub fn new(variation: Variation) -> Self {
        Config {
            variation,
            caution: None,
            protocol: Protocol::default(),
            orientation: OrientationMode::WarmStarted,
            mag: MagUse::AcrossDropouts,
            drift_correction: true,
            estimate_supine_axis: true,
            still: StillSettings::default(),
            extract: extract::Settings::default(),
        }
    }
}

/// The signals the extractor and the flags need, on the primary sensor's time axis.
#[derive(Debug, Clone)]
pub struct BodySignals {
    pub t_s: Vec<f64>,
    pub primary_deg: Vec<f64>,
    pub compensation_deg: Option<Vec<f64>>,
    pub flexion_deg: Option<Vec<f64>>,
}

impl BodySignals {
    pub fn samples(&self) -> Vec<Sample> {
        (0..self.t_s.len())
            .map(|i| Sample {
                t_s: self.t_s[i],
                angle_deg: self.primary_deg[i],
                compensation_deg: self.compensation_deg.as_ref().map(|c| c[i]),
                flexion_deg: self.flexion_deg.as_ref().map(|f| f[i]),
            })
            .collect()
    }
}

fn bad(path: &std::path::Path, msg: String) -> BadInput {
    BadInput::file(path, Problem::Other(msg))
}

/// Orientation of every sample of a stream.
fn orientations(s: &SensorStream, config: &Config) -> (Vec<f64>, Vec<Quat>) {
    match &s.stream.samples {
        Samples::Orientation(o) => (
            o.iter().map(|x| x.t_s).collect(),
            o.iter().map(|x| x.q_world_from_sensor).collect(),
        ),
        Samples::Imu(imu) => {
            let use_mag = match config.mag {
                MagUse::Never => false,
                MagUse::Always => true,
                MagUse::AcrossDropouts => imu.windows(2).any(|w| w[1].t_s - w[0].t_s > drift::GAP_STEP_S),
            };
            let settings = OrientationSettings {
                use_mag,
                ..OrientationSettings::default()
            };
            let q = match config.orientation {
                OrientationMode::Causal => orientation::estimate_causal(imu, settings),
                OrientationMode::WarmStarted => {
                    let mut params = orientation::vqf_params();
                    // Upright, the twist is the heading: its drift is removed from the rests
                    // at neutral (see `drift`), and VQF's own rest-bias updates during
                    // still holds would bend it. Supine, the twist is observed by gravity
                    // and rest-bias estimation keeps the inclination clean.
                    params.rest_bias_estimation = config.variation == Variation::Supine;
                    orientation::warm::estimate_warm_started_with(imu, settings, params)
                }
            };
            (imu.iter().map(|x| x.t_s).collect(), q)
        }
    }
}

/// Linear interpolation of `v` (sampled at the increasing times `t_s`) at `t`, clamped to
/// the ends; `lerp(a, b, f)` blends two neighbouring values.
fn interp<T: Copy>(t_s: &[f64], v: &[T], t: f64, lerp: impl Fn(T, T, f64) -> T) -> T {
    let i = t_s.partition_point(|x| *x < t);
    if i == 0 {
        return v[0];
    }
    if i >= t_s.len() {
        return v[v.len() - 1];
    }
    let f = (t - t_s[i - 1]) / (t_s[i] - t_s[i - 1]);
    lerp(v[i - 1], v[i], f)
}

/// Normalised linear interpolation of quaternions at `t` (clamped to the ends).
pub fn interp_quat(t_s: &[f64], q: &[Quat], t: f64) -> Quat {
    interp(t_s, q, t, Quat::nlerp)
}

fn interp_scalar(t_s: &[f64], v: &[f64], t: f64) -> f64 {
    interp(t_s, v, t, |a, b, f| a + f * (b - a))
}

/// Stillness signals of one stream at its own samples.
fn still_signals(s: &SensorStream, t: &[f64], q: &[Quat], still: &StillSettings) -> StillSignals {
    let span_s = still.rate_span_s;
    match &s.stream.samples {
        Samples::Imu(imu) => StillSignals {
            rate_dps: gyro_rate_dps(t, &imu.iter().map(|x| x.gyr_sensor_rps).collect::<Vec<_>>(), span_s),
            acc_norm_mps2: Some(imu.iter().map(|x| norm(x.acc_sensor_mps2)).collect()),
        },
        Samples::Orientation(_) => StillSignals {
            rate_dps: orientation_rate_dps(t, q, span_s, still.rate_min_samples),
            acc_norm_mps2: None,
        },
    }
}

/// The placements' roles: index of the primary stream and of the secondary (if any).
fn roles(streams: &[SensorStream], variation: Variation) -> Result<(usize, Option<usize>), BadInput> {
    let first = streams.first().ok_or_else(|| {
        bad(
            std::path::Path::new("(no --sensor)"),
            "no sensor stream given; add --sensor PLACEMENT=PATH".into(),
        )
    })?;
    if streams.len() > 2 {
        return Err(bad(
            &streams[2].path,
            "at most two sensors (one on the chest or upper back, one on the pelvis or sacrum)".into(),
        ));
    }
    if streams.len() == 2 && streams[0].placement.segment() == streams[1].placement.segment() {
        return Err(bad(
            &streams[1].path,
            format!(
                "{} and {} measure the same segment; give one thorax sensor (chest or upper-back) and one pelvis sensor (pelvis or sacrum)",
                streams[0].placement.name(),
                streams[1].placement.name()
            ),
        ));
    }
    let primary_segment = variation.primary_segment();
    let primary = streams
        .iter()
        .position(|s| s.placement.segment() == primary_segment)
        .ok_or_else(|| {
            let wanted = match primary_segment {
                Segment::Thorax => "chest or upper-back",
                Segment::Pelvis => "pelvis or sacrum",
            };
            bad(
                &first.path,
                format!(
                    "the {} twist needs a sensor on the {wanted}; this stream is on the {}",
                    variation.name(),
                    first.placement.name()
                ),
            )
        })?;
    let secondary = (0..streams.len()).find(|&i| i != primary);
    Ok((primary, secondary))
}

/// Analyze one session: the report of spec §7.
pub fn analyze(streams: &[SensorStream], config: &Config) -> Result<Report, BadInput> {
    analyze_detailed(streams, config).map(|(r, _)| r)
}

/// As [`analyze`], also returning the body signals the reps were found in.
pub fn analyze_detailed(streams: &[SensorStream], config: &Config) -> Result<(Report, BodySignals), BadInput> {
    let (pi, si) = roles(streams, config.variation)?;
    let mut warnings = Vec::new();

    // Orientation of each stream, on its own samples.
    let mut oriented: Vec<(Vec<f64>, Vec<Quat>)> = streams.iter().map(|s| orientations(s, config)).collect();
    for (s, (t, _)) in streams.iter().zip(&oriented) {
        if t.len() < 2 {
            return Err(BadInput::file(&s.path, Problem::TooShort { samples: t.len() }));
        }
    }
    // On-board fusion's heading jumps.
    for (s, (t, q)) in streams.iter().zip(oriented.iter_mut()) {
        if matches!(s.stream.samples, Samples::Orientation(_)) {
            let (fixed, n) = jumps::remove_heading_jumps(t, q);
            if n > 0 {
                *q = fixed;
                warnings.push(format!(
                    "{}: the sensor's heading jumped {n} time{} (a fusion reset or magnetometer correction); the jumps were removed",
                    s.path.display(),
                    if n == 1 { "" } else { "s" }
                ));
            }
        }
    }

    // The common time axis: the primary's samples inside the overlap.
    let (t_first, t_last) = oriented
        .iter()
        .fold((f64::NEG_INFINITY, f64::INFINITY), |(a, b), (t, _)| {
            (a.max(t[0]), b.min(t[t.len() - 1]))
        });
    if t_last - t_first < 2.0 {
        let msg = if let Some(si) = si {
            format!(
                "{} and {} overlap in time by {:.2} s; they must share a clock and overlap by at least 2 s",
                streams[pi].path.display(),
                streams[si].path.display(),
                (t_last - t_first).max(0.0)
            )
        } else {
            format!(
                "the recording lasts {:.2} s; at least 2 s still in neutral are needed to calibrate",
                t_last - t_first
            )
        };
        return Err(bad(&streams[pi].path, msg));
    }
    let (pt, pq) = &oriented[pi];
    let idx: Vec<usize> = (0..pt.len()).filter(|&i| pt[i] >= t_first && pt[i] <= t_last).collect();
    let t: Vec<f64> = idx.iter().map(|&i| pt[i]).collect();
    let q_primary: Vec<Quat> = idx.iter().map(|&i| pq[i]).collect();
    let q_secondary: Option<Vec<Quat>> = si.map(|si| {
        let (st, sq) = &oriented[si];
        t.iter().map(|&x| interp_quat(st, sq, x)).collect()
    });

    // Stillness on the common axis.
    let mut still = Vec::new();
    for (k, s) in streams.iter().enumerate() {
        let (st, sq) = &oriented[k];
        let sig = still_signals(s, st, sq, &config.still);
        let on_axis = |v: &Vec<f64>| -> Vec<f64> {
            if k == pi {
                idx.iter().map(|&i| v[i]).collect()
            } else {
                t.iter().map(|&x| interp_scalar(st, v, x)).collect()
            }
        };
        still.push(StillSignals {
            rate_dps: on_axis(&sig.rate_dps),
            acc_norm_mps2: sig.acc_norm_mps2.as_ref().map(on_axis),
        });
    }
    let window = find_still_window(&t, &still, &config.still).ok_or_else(|| {
        let names: Vec<String> = streams.iter().map(|s| s.path.display().to_string()).collect();
        bad(
            &streams[pi].path,
            format!(
                "no still moment of at least {:.0} s in the first {:.0} s (of {}); start each session still in the neutral position",
                config.still.min_window_s,
                config.still.search_s,
                names.join(" and ")
            ),
        )
    })?;
    if !window.full {
        warnings.push(format!(
            "no {:.0} s still window in the first {:.0} s; neutral was calibrated from a shorter one ({:.1} s at {:.1}–{:.1} s)",
            config.still.window_s,
            config.still.search_s,
            window.end_s - window.start_s,
            window.start_s,
            window.end_s
        ));
    }
    let w = window.start_index..window.end_index;
    let calibrate = |k: usize, q: &[Quat]| -> Result<SegmentCalibration, BadInput> {
        calibrate_segment(&q[w.clone()], config.variation, streams[k].placement, &streams[k].mount)
            .ok_or_else(|| bad(&streams[k].path, "empty calibration window".into()))?
            .map_err(|e| bad(&streams[k].path, e.to_string()))
    };
    let mut cal_primary = calibrate(pi, &q_primary)?;
    if config.variation == Variation::Supine && config.estimate_supine_axis {
        cal_primary = crate::body::calibration::refine_twist_axis(&cal_primary, &q_primary);
    }
    let cal_secondary = match (si, &q_secondary) {
        (Some(si), Some(q)) => Some(calibrate(si, q)?),
        _ => None,
    };

    let mut q_primary = q_primary;
    let mut q_secondary = q_secondary;
    let mut signals = body_signals(
        config,
        &t,
        &q_primary,
        &cal_primary,
        q_secondary.as_deref(),
        cal_secondary.as_ref(),
        pi,
        streams,
    );

    if config.drift_correction {
        let rest = drift::rest_mask(&signals.t_s, &drift::unwrap_deg(&signals.primary_deg));
        let corrected_p = drift::remove_heading_drift(&t, &q_primary, &cal_primary, &rest, &drift::gaps(pt));
        q_primary = corrected_p;
        if let (Some(si), Some(qs), Some(cs)) = (si, &q_secondary, &cal_secondary) {
            let gaps = drift::gaps(&oriented[si].0);
            q_secondary = Some(drift::remove_heading_drift(&t, qs, cs, &rest, &gaps));
        }
        signals = body_signals(
            config,
            &t,
            &q_primary,
            &cal_primary,
            q_secondary.as_deref(),
            cal_secondary.as_ref(),
            pi,
            streams,
        );
    }

    // Dropouts.
    for (k, (st, _)) in oriented.iter().enumerate() {
        let gaps: Vec<f64> = st
            .windows(2)
            .map(|w| w[1] - w[0])
            .filter(|d| *d > config.extract.gap_s)
            .collect();
        if !gaps.is_empty() {
            warnings.push(format!(
                "{}: {} gap{} in the data (longest {:.1} s)",
                streams[k].path.display(),
                gaps.len(),
                if gaps.len() == 1 { "" } else { "s" },
                gaps.iter().fold(0.0f64, |a, b| a.max(*b))
            ));
        }
    }

    let settings = extract::Settings {
        rep_min_deg: config.protocol.rep_min_deg,
        ..config.extract
    };
    let measured = extract::extract_all(&signals.samples(), settings);
    let ctx = FlagContext {
        variation: config.variation,
        targets: config.protocol.targets(config.variation, config.caution),
        gap_s: config.extract.gap_s,
    };
    let reps: Vec<_> = measured.iter().map(|m| judge_rep(m, &ctx)).collect();
    let (flags, notes) = judge_session(&reps);
    let report = Report {
        schema: REPORT_SCHEMA.to_string(),
        variation: config.variation,
        caution: config.caution.map(|c| c.name().to_string()),
        sensors: streams.iter().map(|s| s.placement).collect(),
        targets: config.protocol.report_targets(config.variation, config.caution),
        reps,
        flags,
        notes,
        warnings,
    };
    Ok((report, signals))
}

/// Primary angle, compensation and chest flexion on the common axis.
#[allow(clippy::too_many_arguments)]
fn body_signals(
    config: &Config,
    t: &[f64],
    q_primary: &[Quat],
    cal_primary: &SegmentCalibration,
    q_secondary: Option<&[Quat]>,
    cal_secondary: Option<&SegmentCalibration>,
    pi: usize,
    streams: &[SensorStream],
) -> BodySignals {
    let d_primary: Vec<Quat> = q_primary.iter().map(|q| cal_primary.neutral_from_now(*q)).collect();
    let d_secondary: Option<Vec<Quat>> = match (q_secondary, cal_secondary) {
        (Some(q), Some(c)) => Some(q.iter().map(|q| c.neutral_from_now(*q)).collect()),
        _ => None,
    };
    let primary_deg: Vec<f64> = match &d_secondary {
        Some(ds) => d_primary
            .iter()
            .zip(ds)
            .map(|(dp, ds)| relative_twist_rad(*dp, *ds).to_degrees())
            .collect(),
        None => d_primary.iter().map(|d| segment_twist_rad(*d).to_degrees()).collect(),
    };
    let compensation_deg = d_secondary
        .as_ref()
        .map(|ds| ds.iter().map(|d| segment_twist_rad(*d).to_degrees().abs()).collect());
    let chest_is_primary = streams[pi].placement.segment() == Segment::Thorax;
    let flexion_deg = if chest_is_primary {
        Some(d_primary.iter().map(|d| flexion_rad(*d).to_degrees()).collect())
    } else {
        d_secondary
            .as_ref()
            .map(|ds| ds.iter().map(|d| flexion_rad(*d).to_degrees()).collect())
    };
    let _ = config;
    BodySignals {
        t_s: t.to_vec(),
        primary_deg,
        compensation_deg,
        flexion_deg,
    }
}
