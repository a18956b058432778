//! Evaluation harness for the offline orientation estimate on the BROAD development
//! subset (`shared/data/broad`, 8 trials with optical truth).
//!
//! ```sh
//! cargo run --release --example broad_offline -- [DATA_DIR] [--method NAME]... [--write DIR]
//! ```
//! Prints, for each method, the per-trial total RMSE (degrees) and the mean over the
//! trials, 9D (official metric) and 6D (magnetometer ignored, constant heading offset
//! removed: `score.py --mode 6d`). The scoring is `orientation::accuracy::rmse`, which
//! matches `score.py`. `--write DIR` also writes `DIR/METHOD/{9d,6d}/TRIAL.est.csv` so that
//! `score.py` can check the numbers independently. Results are in docs/offline-orientation.md.

use std::path::{Path, PathBuf};
use std::time::Instant;

use twistcoach::frames::Quat;
use twistcoach::orientation::accuracy::{TruthSample, rmse};
use twistcoach::orientation::gyro_calibration::GyroCalibrationSettings;
use twistcoach::orientation::offline::{self, HeadingMethod, OfflineSettings};
use twistcoach::orientation::{self as ori, Settings};
use twistcoach::stream::{self, ImuSample, Samples};

type Method = (&'static str, fn(&[ImuSample], bool) -> Vec<Quat>);

fn methods() -> Vec<Method> {
    vec![
        ("causal_vqf", |s, mag| ori::estimate_causal(s, settings(mag))),
        ("offline_vqf", |s, mag| {
            let ts = ori::nominal_sample_time_s(s.iter().map(|x| x.t_s));
            ori::offline_vqf::offline_vqf(s, ts, mag, &ori::vqf_params())
                .best()
                .to_vec()
        }),
        ("backward_bias_init", |s, mag| {
            offline::estimate_backward_bias_init(s, settings(mag))
        }),
        ("dt_steps_vqf_heading", |s, mag| {
            let o = OfflineSettings {
                heading: HeadingMethod::VqfFilter,
                gyro_calibration: None,
                ..OfflineSettings::default()
            };
            offline::estimate_offline_with(s, settings(mag), &o)
        }),
        ("heading_smoother", |s, mag| {
            let o = OfflineSettings {
                gyro_calibration: None,
                ..OfflineSettings::default()
            };
            offline::estimate_offline_with(s, settings(mag), &o)
        }),
        ("gyro_cal_vqf_heading", |s, mag| {
            let o = OfflineSettings {
                heading: HeadingMethod::VqfFilter,
                gyro_calibration: Some(cal_settings()),
                ..OfflineSettings::default()
            };
            offline::estimate_offline_with(s, settings(mag), &o)
        }),
        ("gyro_cal_smoother", |s, mag| {
            let d = OfflineSettings::default();
            let o = OfflineSettings {
                gyro_calibration: Some(cal_settings()),
                heading_drift_var_rad2_per_rad: env("HEAD_Q").unwrap_or(d.heading_drift_var_rad2_per_rad),
                bias_drift_time_s: env("BIAS_DRIFT_T").unwrap_or(d.bias_drift_time_s),
                reference_fraction: env("REF_FRACTION").unwrap_or(d.reference_fraction),
                vqf_disturbed_inflation: env("VQF_DIST_INFLATION").unwrap_or(d.vqf_disturbed_inflation),
                ..d
            };
            offline::estimate_offline_with(s, settings(mag), &o)
        }),
        ("default", |s, mag| offline::estimate_offline(s, settings(mag))),
        ("rest_bias_interp", rest_bias_interp),
    ]
}

/// Experiment: gyro bias = mean rate over each detected rest, linearly interpolated in
/// time between rests (held before the first and after the last), instead of VQF's fused
/// estimate; then the same 6D pipeline and heading smoother (no calibration).
fn rest_bias_interp(s: &[ImuSample], mag: bool) -> Vec<Quat> {
    use twistcoach::orientation::offline_vqf as ov;
    let ts = ori::nominal_sample_time_s(s.iter().map(|x| x.t_s));
    let dt = offline::step_times_s(s, ts);
    let base = ov::offline_vqf_with_steps(s, &dt, ts, mag, &ori::vqf_params());
    // Rest windows: (mid time, mean rate).
    let mut rests: Vec<(f64, [f64; 3])> = vec![];
    let mut i = 0;
    while i < s.len() {
        if !base.rest[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i < s.len() && base.rest[i] {
            i += 1;
        }
        let n = (i - start) as f64;
        let mean: [f64; 3] = std::array::from_fn(|k| s[start..i].iter().map(|x| x.gyr_sensor_rps[k]).sum::<f64>() / n);
        rests.push(((s[start].t_s + s[i - 1].t_s) / 2.0, mean));
    }
    let bias: Vec<[f64; 3]> = if rests.is_empty() {
        base.gyr_bias_sensor_rps.clone()
    } else {
        s.iter()
            .map(|x| {
                let j = rests.partition_point(|r| r.0 <= x.t_s);
                match (j.checked_sub(1).map(|p| rests[p]), rests.get(j)) {
                    (Some(a), Some(b)) => {
                        let f = (x.t_s - a.0) / (b.0 - a.0);
                        std::array::from_fn(|k| a.1[k] + f * (b.1[k] - a.1[k]))
                    }
                    (Some(a), None) => a.1,
                    (None, Some(b)) => b.1,
                    (None, None) => [0.0; 3],
                }
            })
            .collect()
    };
    let q6d = ov::orientation_6d(s, &bias, &dt, ts, ori::vqf_params().tau_acc_s);
    let Some(mags) = s
        .iter()
        .map(|x| x.mag_sensor)
        .collect::<Option<Vec<_>>>()
        .filter(|_| mag)
    else {
        return q6d;
    };
    let o = OfflineSettings::default();
    let delta = ov::heading_disagreement_rad(&q6d, &mags);
    let drift: Vec<f64> = s
        .iter()
        .zip(&bias)
        .zip(&dt)
        .map(|((x, b), dt)| {
            let w: f64 = (0..3).map(|k| (x.gyr_sensor_rps[k] - b[k]).powi(2)).sum::<f64>().sqrt();
            o.heading_drift_var_rad2_per_rad * w * dt
        })
        .collect();
    let var = offline::mag_heading_variance(&q6d, &mags, &dt, &o);
    let d = offline::smooth_heading_rad(&delta, &drift, &var);
    q6d.iter().zip(&d).map(|(q, d)| ov::apply_heading(*q, *d)).collect()
}

fn env(k: &str) -> Option<f64> {
    std::env::var(k).ok().and_then(|v| v.parse::<f64>().ok())
}

/// Calibration settings, overridable from the environment for sweeps:
/// CAL_SEG_S, CAL_SMOOTH_S, CAL_MIN_IMPROVEMENT, CAL_STRIDE, CAL_ITER.
fn cal_settings() -> GyroCalibrationSettings {
    let d = GyroCalibrationSettings::default();
    GyroCalibrationSettings {
        segment_s: env("CAL_SEG_S").unwrap_or(d.segment_s),
        smoothing_s: env("CAL_SMOOTH_S").unwrap_or(d.smoothing_s),
        min_improvement: env("CAL_MIN_IMPROVEMENT").unwrap_or(d.min_improvement),
        max_half_disagreement: env("CAL_MAX_HALF_DIFF").unwrap_or(d.max_half_disagreement),
        min_cross_improvement: env("CAL_MIN_CROSS").unwrap_or(d.min_cross_improvement),
        stride: env("CAL_STRIDE").map_or(d.stride, |v| v as usize),
        iterations: env("CAL_ITER").map_or(d.iterations, |v| v as usize),
        ..d
    }
}

fn settings(use_mag: bool) -> Settings {
    Settings {
        use_mag,
        ..Settings::default()
    }
}

struct Trial {
    name: String,
    samples: Vec<ImuSample>,
    t_text: Vec<Box<str>>,
    truth: Vec<TruthSample>,
}

fn load(dir: &Path) -> Vec<Trial> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.strip_suffix(".imu.csv.gz").map(str::to_owned))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let imu = stream::read_stream(&dir.join(format!("{name}.imu.csv.gz"))).expect("imu");
            let truth_path = dir.join(format!("{name}.truth.csv.gz"));
            let (_, truth) = stream::broad::parse_truth(&truth_path, &stream::read_bytes(&truth_path).expect("truth"))
                .expect("truth");
            let Samples::Imu(samples) = imu.samples else {
                panic!("{name}: not IMU")
            };
            Trial {
                name,
                samples,
                t_text: imu.t_text,
                truth,
            }
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut dir = PathBuf::from("../shared/data/broad");
    let mut wanted: Vec<String> = vec![];
    let mut write: Option<PathBuf> = None;
    let mut crop: Option<(f64, f64)> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--method" => wanted.push(it.next().expect("--method NAME").clone()),
            "--write" => write = Some(PathBuf::from(it.next().expect("--write DIR"))),
            "--crop" => {
                let a: f64 = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--crop FROM TO (fractions)");
                let b: f64 = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--crop FROM TO (fractions)");
                crop = Some((a, b));
            }
            _ => dir = PathBuf::from(a),
        }
    }
    let mut trials = load(&dir);
    if let Some((a, b)) = crop {
        // Robustness check: score on a part of each recording only (fractions of its length).
        for t in &mut trials {
            let n = t.samples.len();
            let (i, j) = ((a * n as f64) as usize, ((b * n as f64) as usize).min(n));
            t.samples = t.samples[i..j].to_vec();
            t.t_text = t.t_text[i..j].to_vec();
            t.truth = t.truth[i..j].to_vec();
        }
    }
    if wanted.iter().any(|w| w == "calib") {
        for t in &trials {
            let ts = ori::nominal_sample_time_s(t.samples.iter().map(|x| x.t_s));
            let dt = offline::step_times_s(&t.samples, ts);
            let base = ori::offline_vqf::offline_vqf_with_steps(&t.samples, &dt, ts, false, &ori::vqf_params());
            let c = twistcoach::orientation::gyro_calibration::calibrate_gyro(
                &t.samples,
                &base.gyr_bias_sensor_rps,
                &dt,
                &cal_settings(),
            );
            let e: Vec<String> = c.k_fit.iter().flatten().map(|v| format!("{:+.4}", v)).collect();
            println!(
                "{} cost {:.1} -> {:.1} accepted {} halves differ by {} cross {} K {}",
                &t.name[..2],
                c.cost_before,
                c.cost_after,
                c.accepted,
                c.half_disagreement.map_or("-".into(), |d| format!("{d:.4}")),
                c.cross_improvement.map_or("-".into(), |d| format!("{d:.2}")),
                e.join(" ")
            );
        }
        return;
    }
    let short: Vec<String> = trials.iter().map(|t| t.name[..2].to_string()).collect();
    println!(
        "{:<22} {:>4} {} | mean   (s)",
        "method",
        "mode",
        short.iter().map(|s| format!("{s:>6}")).collect::<String>()
    );
    for (name, f) in methods() {
        if !wanted.is_empty() && !wanted.iter().any(|w| w == name) {
            continue;
        }
        for nine_d in [true, false] {
            let start = Instant::now();
            let mut totals = vec![];
            for trial in &trials {
                let q = f(&trial.samples, nine_d);
                totals.push(rmse(&q, &trial.truth, !nine_d).total_deg);
                if let Some(w) = &write {
                    let d = w.join(name).join(if nine_d { "9d" } else { "6d" });
                    std::fs::create_dir_all(&d).unwrap();
                    stream::write_orientation_csv(&d.join(format!("{}.est.csv.gz", trial.name)), &trial.t_text, &q)
                        .unwrap();
                }
            }
            let mean = totals.iter().sum::<f64>() / totals.len() as f64;
            println!(
                "{name:<22} {:>4} {} | {mean:5.2}  {:.1}",
                if nine_d { "9d" } else { "6d" },
                totals.iter().map(|t| format!("{t:6.2}")).collect::<String>(),
                start.elapsed().as_secs_f64()
            );
        }
    }
}
