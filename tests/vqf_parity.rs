//! Parity of our VQF (vqf-rs behind `OrientationFilter`) with the reference implementation by
//! the VQF authors (PyPI `vqf` 2.1.2, `vqf.VQF(Ts).updateBatch`), without Python: the
//! reference outputs for a synthetic 60 s, 100 Hz recording (gyro bias and noise, rest
//! phases, motion, two magnetic disturbances) are committed in `fixtures/vqf_parity/`.
//! Regenerate them with `/work/.venv/bin/python scripts/vqf_oracle.py fixture fixtures/vqf_parity`.

use std::io::Read;
use std::path::Path;

use twistcoach::frames::Quat;
use twistcoach::orientation::{OrientationFilter, Settings, startup_sample_time_s};
use twistcoach::stream::{ImuSample, Samples, read_stream};

/// Largest allowed angle between our quaternion and the reference one (the bound).
const MAX_ANGLE_DEG: f64 = 0.01;

struct Expected {
    t_text: String,
    q9: Quat,
    q6: Quat,
    rest: bool,
    mag_dist: bool,
    bias6_rps: [f64; 3],
}

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/vqf_parity")
        .join(name)
}

fn input() -> (Vec<Box<str>>, Vec<ImuSample>) {
    let stream = read_stream(&fixture("input.imu.csv.gz")).expect("fixture input parses");
    let Samples::Imu(samples) = stream.samples else {
        panic!("fixture input is not an IMU stream")
    };
    (stream.t_text, samples)
}

fn expected() -> Vec<Expected> {
    let file = std::fs::File::open(fixture("expected.csv.gz")).unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(file).read_to_string(&mut text).unwrap();
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    assert_eq!(
        lines.next(),
        Some("t,q9w,q9x,q9y,q9z,q6w,q6x,q6y,q6z,rest,mag_dist,bias_x,bias_y,bias_z")
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let v = |k: usize| -> f64 { f[k].parse().unwrap() };
            Expected {
                t_text: f[0].to_string(),
                q9: Quat::new(v(1), v(2), v(3), v(4)),
                q6: Quat::new(v(5), v(6), v(7), v(8)),
                rest: f[9] == "1",
                mag_dist: f[10] == "1",
                bias6_rps: [v(11), v(12), v(13)],
            }
        })
        .collect()
}

/// Angle of the rotation between `a` and `b`, sign-invariant; atan2 stays accurate for tiny angles.
fn angle_deg(a: Quat, b: Quat) -> f64 {
    let d = a.normalized().conj() * b.normalized();
    let vec = (d.x * d.x + d.y * d.y + d.z * d.z).sqrt();
    (2.0 * vec.atan2(d.w.abs())).to_degrees()
}

struct Run {
    max_angle_deg: f64,
    rest_agree: usize,
    mag_dist_agree: usize,
    max_bias_diff_rps: f64,
}

fn run(use_mag: bool) -> (Run, Vec<Expected>) {
    let (t_text, samples) = input();
    let exp = expected();
    assert_eq!(samples.len(), exp.len());
    let dt = startup_sample_time_s(samples.iter().map(|s| s.t_s));
    let mut filter = OrientationFilter::new(
        dt,
        Settings {
            use_mag,
            ..Settings::default()
        },
    );
    let mut r = Run {
        max_angle_deg: 0.0,
        rest_agree: 0,
        mag_dist_agree: 0,
        max_bias_diff_rps: 0.0,
    };
    for ((s, e), t) in samples.iter().zip(&exp).zip(&t_text) {
        assert_eq!(**t, e.t_text);
        let q = filter.update(s);
        let q_ref = if use_mag { e.q9 } else { e.q6 };
        r.max_angle_deg = r.max_angle_deg.max(angle_deg(q, q_ref));
        r.rest_agree += usize::from(filter.rest_detected() == e.rest);
        r.mag_dist_agree += usize::from(filter.mag_dist_detected() == e.mag_dist);
        if !use_mag {
            let b = filter.gyr_bias_sensor_rps();
            for (ours, reference) in b.iter().zip(e.bias6_rps) {
                r.max_bias_diff_rps = r.max_bias_diff_rps.max((ours - reference).abs());
            }
        }
    }
    (r, exp)
}

#[test]
fn fixture_exercises_rest_bias_and_magnetic_disturbance() {
    let exp = expected();
    let rest = exp.iter().filter(|e| e.rest).count();
    let dist = exp.iter().filter(|e| e.mag_dist).count();
    assert!(rest > 200, "only {rest} rest samples");
    assert!(dist > 1000 && dist < exp.len() - 1000, "{dist} disturbed samples");
    let last = exp.last().unwrap().bias6_rps;
    // The true bias of the synthetic gyroscope is [0.012, -0.02, 0.015] rad/s.
    assert!((last[0] - 0.012).abs() < 0.002 && (last[1] + 0.02).abs() < 0.002);
}

#[test]
fn nine_d_matches_reference_vqf() {
    let (r, exp) = run(true);
    assert!(
        r.max_angle_deg <= MAX_ANGLE_DEG,
        "9D: largest difference {} deg",
        r.max_angle_deg
    );
    assert_eq!(r.rest_agree, exp.len(), "rest detection differs");
    assert_eq!(r.mag_dist_agree, exp.len(), "magnetic disturbance detection differs");
}

#[test]
fn six_d_matches_reference_vqf() {
    let (r, exp) = run(false);
    assert!(
        r.max_angle_deg <= MAX_ANGLE_DEG,
        "6D: largest difference {} deg",
        r.max_angle_deg
    );
    assert_eq!(r.rest_agree, exp.len(), "rest detection differs");
    // Bias is written with 5 significant digits.
    assert!(
        r.max_bias_diff_rps < 1e-6,
        "bias differs by {} rad/s",
        r.max_bias_diff_rps
    );
}
