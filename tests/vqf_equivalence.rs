//! Equivalence of our VQF (`orientation::vqf::Vqf`) with `vqf-rs` 0.3.0, run side by side
//! sample by sample: on the committed parity fixture (several parameter sets, and the
//! time-reversal / warm-start path) and on all 8 BROAD trials, 6D and 9D, with the nominal
//! sample time (as the reference's `updateBatch`), with each sample's own interval, and with
//! synthetic jitter plus gaps that take the restart path (`reconverge`).
//!
//! Checked at every sample: the quaternions (the largest angle is printed; the bound is
//! 1e-9° and we assert bit-identical components), rest and magnetic-disturbance flags
//! identical, bias within 1e-12 rad/s. `a_perturbed_coefficient_is_caught` shows that the
//! comparison fails when one parameter moves by a part in 10¹².

// The trials' truth is not needed here.
#[allow(dead_code)]
mod common;

use std::path::Path;

use twistcoach::frames::Quat;
use twistcoach::orientation::{Vqf, VqfParams, startup_sample_time_s};
use twistcoach::stream::{ImuSample, Samples, read_stream};

/// Largest allowed angle between the two filters' quaternions, degrees.
const MAX_ANGLE_DEG: f64 = 1e-9;
/// Largest allowed bias difference, rad/s.
const MAX_BIAS_DIFF_RPS: f64 = 1e-12;

/// The same parameters for vqf-rs.
fn reference_params(p: &VqfParams) -> vqf_rs::Params {
    vqf_rs::Params {
        tau_acc: p.tau_acc_s,
        tau_mag: p.tau_mag_s,
        motion_bias_est_enabled: p.motion_bias_estimation,
        rest_bias_est_enabled: p.rest_bias_estimation,
        mag_dist_rejection_enabled: p.mag_disturbance_rejection,
        bias_sigma_init: p.bias_sigma_init_dps,
        bias_forgetting_time: p.bias_forgetting_time_s,
        bias_clip: p.bias_clip_dps,
        bias_sigma_motion: p.bias_sigma_motion_dps,
        bias_vertical_forgetting_factor: p.bias_vertical_forgetting_factor,
        bias_sigma_rest: p.bias_sigma_rest_dps,
        rest_min_t: p.rest_min_time_s,
        rest_filter_tau: p.rest_filter_tau_s,
        rest_th_gyr: p.rest_threshold_gyr_dps,
        rest_th_acc: p.rest_threshold_acc_mps2,
        mag_current_tau: p.mag_current_tau_s,
        mag_ref_tau: p.mag_ref_tau_s,
        mag_norm_th: p.mag_norm_threshold,
        mag_dip_th: p.mag_dip_threshold_deg,
        mag_new_time: p.mag_new_time_s,
        mag_new_first_time: p.mag_new_first_time_s,
        mag_new_min_gyr: p.mag_new_min_gyr_dps,
        mag_min_undisturbed_time: p.mag_min_undisturbed_time_s,
        mag_max_rejection_time: p.mag_max_rejection_time_s,
        mag_rejection_factor: p.mag_rejection_factor,
    }
}

#[test]
fn default_parameters_are_the_reference_defaults() {
    let ours = reference_params(&VqfParams::default());
    let theirs = vqf_rs::Params::default();
    // vqf_rs::Params has no PartialEq or Debug: compare through our type's.
    let back = |p: &vqf_rs::Params| VqfParams {
        tau_acc_s: p.tau_acc,
        tau_mag_s: p.tau_mag,
        motion_bias_estimation: p.motion_bias_est_enabled,
        rest_bias_estimation: p.rest_bias_est_enabled,
        mag_disturbance_rejection: p.mag_dist_rejection_enabled,
        bias_sigma_init_dps: p.bias_sigma_init,
        bias_forgetting_time_s: p.bias_forgetting_time,
        bias_clip_dps: p.bias_clip,
        bias_sigma_motion_dps: p.bias_sigma_motion,
        bias_vertical_forgetting_factor: p.bias_vertical_forgetting_factor,
        bias_sigma_rest_dps: p.bias_sigma_rest,
        rest_min_time_s: p.rest_min_t,
        rest_filter_tau_s: p.rest_filter_tau,
        rest_threshold_gyr_dps: p.rest_th_gyr,
        rest_threshold_acc_mps2: p.rest_th_acc,
        mag_current_tau_s: p.mag_current_tau,
        mag_ref_tau_s: p.mag_ref_tau,
        mag_norm_threshold: p.mag_norm_th,
        mag_dip_threshold_deg: p.mag_dip_th,
        mag_new_time_s: p.mag_new_time,
        mag_new_first_time_s: p.mag_new_first_time,
        mag_new_min_gyr_dps: p.mag_new_min_gyr,
        mag_min_undisturbed_time_s: p.mag_min_undisturbed_time,
        mag_max_rejection_time_s: p.mag_max_rejection_time,
        mag_rejection_factor: p.mag_rejection_factor,
    };
    assert_eq!(back(&ours), back(&theirs));
    assert_eq!(back(&theirs), VqfParams::default());
}

/// The filters in lockstep: ours through its per-sensor steps and through the one-call
/// `update` (which reorders independent work), and the reference.
struct Pair {
    ours: Vqf,
    fused: Vqf,
    reference: vqf_rs::VQF,
}

impl Pair {
    fn new(ts_s: f64, params: VqfParams) -> Self {
        Pair {
            ours: Vqf::new(ts_s, params),
            fused: Vqf::new(ts_s, params),
            reference: vqf_rs::VQF::new(ts_s, None, None, Some(reference_params(&params))),
        }
    }

    /// One sample; `restart`: restart the inclination and heading convergence after the
    /// gyroscope step, as `OrientationFilter` does after a long gap (for the one-call update,
    /// before it: the gyroscope step touches neither).
    fn step(&mut self, s: &ImuSample, dt_s: f64, use_mag: bool, restart: bool) {
        if restart {
            self.fused.restart_acc_lowpass();
            self.fused.restart_heading_convergence();
        }
        let mag = s.mag_sensor.filter(|_| use_mag);
        self.fused.update(s.gyr_sensor_rps, dt_s, s.acc_sensor_mps2, mag);
        self.ours.update_gyr(s.gyr_sensor_rps, dt_s);
        self.reference.update_gyr_with_ts(s.gyr_sensor_rps, dt_s);
        if restart {
            self.reconverge();
        }
        self.ours.update_acc(s.acc_sensor_mps2);
        self.reference.update_acc(s.acc_sensor_mps2);
        if let (true, Some(m)) = (use_mag, s.mag_sensor) {
            self.ours.update_mag(m);
            self.reference.update_mag(m);
        }
    }

    /// What `OrientationFilter` did after a long gap, before the one-call update.
    fn reconverge(&mut self) {
        self.ours.restart_acc_lowpass();
        self.ours.restart_heading_convergence();
        let st = self.reference.state_mut();
        st.acc_lp_state = [[f64::NAN; 2]; 3];
        st.k_mag_init = 1.0;
    }

    /// What the warm start did with vqf-rs's state before `Vqf::reverse_time` existed.
    fn reverse_time(&mut self) {
        self.ours.reverse_time();
        self.fused.reverse_time();
        let st = self.reference.state_mut();
        st.bias = st.bias.map(|b| -b);
        st.rest_gyr_lp_state = [[f64::NAN; 2]; 3];
        st.rest_last_gyr_lp = [0.0; 3];
        st.rest_t = 0.0;
        st.motion_bias_est_rlp_state = [[f64::NAN; 2]; 9];
        st.motion_bias_est_bias_lp_state = [[f64::NAN; 2]; 2];
    }
}

/// Differences found over a run.
#[derive(Debug, Default)]
struct Diff {
    samples: usize,
    max_angle_deg: f64,
    /// Samples where a quaternion (6D or 9D, either of our paths) is not bit-identical.
    inexact_quats: usize,
    rest_mismatches: usize,
    mag_dist_mismatches: usize,
    max_bias_diff_rps: f64,
}

impl Diff {
    fn compare(&mut self, p: &Pair) {
        let to = |q: vqf_rs::Quaternion| Quat::new(q.0, q.1, q.2, q.3);
        let (q6, q9) = (to(p.reference.quat_6d()), to(p.reference.quat_9d()));
        let pairs = [
            (p.ours.quat_6d(), q6),
            (p.ours.quat_9d(), q9),
            (p.fused.quat_6d(), q6),
            (p.fused.quat_9d(), q9),
        ];
        self.samples += 1;
        let mut exact = true;
        for (a, b) in pairs {
            // Identical bits are 0° apart (the angle formula itself has a floor of ~1e-14°).
            if [a.w, a.x, a.y, a.z].map(f64::to_bits) != [b.w, b.x, b.y, b.z].map(f64::to_bits) {
                exact = false;
                self.max_angle_deg = self.max_angle_deg.max(angle_deg(a, b));
            }
        }
        self.inexact_quats += usize::from(!exact);
        let (bias_ref, sigma_ref) = p.reference.bias_estimate();
        for ours in [&p.ours, &p.fused] {
            self.rest_mismatches += usize::from(ours.rest_detected() != p.reference.rest_detected());
            self.mag_dist_mismatches += usize::from(ours.mag_dist_detected() != p.reference.mag_dist_detected());
            for (a, b) in ours.bias_rps().iter().zip(bias_ref) {
                self.max_bias_diff_rps = self.max_bias_diff_rps.max((a - b).abs());
            }
            self.max_bias_diff_rps = self.max_bias_diff_rps.max((ours.bias_sigma_rps() - sigma_ref).abs());
        }
    }

    fn holds(&self) -> bool {
        self.max_angle_deg <= MAX_ANGLE_DEG
            && self.inexact_quats == 0
            && self.rest_mismatches == 0
            && self.mag_dist_mismatches == 0
            && self.max_bias_diff_rps <= MAX_BIAS_DIFF_RPS
    }

    fn assert_holds(&self, what: &str) {
        eprintln!(
            "{what}: {} samples, largest angle {:.1e}°, {} not bit-identical, bias ≤ {:.1e} rad/s",
            self.samples, self.max_angle_deg, self.inexact_quats, self.max_bias_diff_rps
        );
        assert!(self.holds(), "{what}: {self:?}");
    }
}

/// Angle of the rotation between `a` and `b`, sign-invariant; atan2 stays accurate for tiny angles.
fn angle_deg(a: Quat, b: Quat) -> f64 {
    let d = a.normalized().conj() * b.normalized();
    let vec = (d.x * d.x + d.y * d.y + d.z * d.z).sqrt();
    (2.0 * vec.atan2(d.w.abs())).to_degrees()
}

/// How each sample's step is timed.
#[derive(Debug, Clone, Copy)]
enum Timing {
    /// The nominal sample time for every step (the reference's `updateBatch`).
    Nominal,
    /// The interval since the previous sample (`OrientationFilter`).
    OwnInterval,
    /// Synthetic intervals: ±30 % jitter, and a 0.6 s gap every 4000 samples after which the
    /// filters restart their inclination and heading convergence.
    JitterAndGaps,
}

/// Interval used for the step into sample `i`, and whether a gap restart follows it.
fn step_time(samples: &[ImuSample], i: usize, ts_s: f64, timing: Timing) -> (f64, bool) {
    match timing {
        Timing::Nominal => (ts_s, false),
        Timing::OwnInterval if i == 0 => (ts_s, false),
        Timing::OwnInterval => {
            let dt = samples[i].t_s - samples[i - 1].t_s;
            (dt, dt >= 0.5)
        }
        Timing::JitterAndGaps if i > 0 && i.is_multiple_of(4000) => (0.6, true),
        Timing::JitterAndGaps => {
            // Golden-ratio sequence in [0, 1): deterministic, evenly spread.
            let u = (i as f64 * 0.618_033_988_749_895).fract();
            (ts_s * (0.7 + 0.6 * u), false)
        }
    }
}

fn run(samples: &[ImuSample], ts_s: f64, params: VqfParams, use_mag: bool, timing: Timing) -> Diff {
    let mut pair = Pair::new(ts_s, params);
    let mut diff = Diff::default();
    for (i, s) in samples.iter().enumerate() {
        let (dt, restart) = step_time(samples, i, ts_s, timing);
        pair.step(s, dt, use_mag, restart);
        diff.compare(&pair);
    }
    diff
}

fn fixture_samples() -> Vec<ImuSample> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/vqf_parity/input.imu.csv.gz");
    let Samples::Imu(samples) = read_stream(&path).expect("fixture parses").samples else {
        panic!("fixture input is not an IMU stream")
    };
    samples
}

/// Parameter sets: the default, the one `analyze` and `live` use upright, and each feature off.
fn parameter_sets() -> Vec<(&'static str, VqfParams)> {
    let d = VqfParams::default();
    vec![
        ("default", d),
        (
            "no rest bias",
            VqfParams {
                rest_bias_estimation: false,
                ..d
            },
        ),
        (
            "no motion bias",
            VqfParams {
                motion_bias_estimation: false,
                ..d
            },
        ),
        (
            "no bias estimation",
            VqfParams {
                motion_bias_estimation: false,
                rest_bias_estimation: false,
                ..d
            },
        ),
        (
            "no magnetic rejection, unfiltered norm/dip",
            VqfParams {
                mag_disturbance_rejection: false,
                mag_current_tau_s: -1.0,
                ..d
            },
        ),
        (
            "fast",
            VqfParams {
                tau_acc_s: 0.5,
                tau_mag_s: 1.0,
                rest_min_time_s: 0.3,
                mag_max_rejection_time_s: 2.0,
                mag_current_tau_s: -1.0,
                ..d
            },
        ),
    ]
}

#[test]
fn fixture_every_parameter_set_and_timing() {
    let samples = fixture_samples();
    let ts = startup_sample_time_s(samples.iter().map(|s| s.t_s));
    for (name, params) in parameter_sets() {
        for use_mag in [true, false] {
            for timing in [Timing::Nominal, Timing::OwnInterval, Timing::JitterAndGaps] {
                let what = format!("fixture, {name}, {}, {timing:?}", if use_mag { "9D" } else { "6D" });
                run(&samples, ts, params, use_mag, timing).assert_holds(&what);
            }
        }
    }
}

#[test]
fn fixture_time_reversal_and_bias_setting() {
    // The warm start: a pass over the time-reversed recording, reversed again, then forwards.
    let samples = fixture_samples();
    let ts = startup_sample_time_s(samples.iter().map(|s| s.t_s));
    for use_mag in [true, false] {
        let mut pair = Pair::new(ts, VqfParams::default());
        let mut diff = Diff::default();
        for s in samples.iter().rev() {
            let reversed = ImuSample {
                gyr_sensor_rps: s.gyr_sensor_rps.map(|g| -g),
                ..*s
            };
            pair.step(&reversed, ts, use_mag, false);
            diff.compare(&pair);
        }
        pair.reverse_time();
        for s in &samples {
            pair.step(s, ts, use_mag, false);
            diff.compare(&pair);
        }
        // Setting the bias (the backward-bias initialisation in `offline`).
        let bias = [0.01, -0.02, 0.005];
        pair.ours.set_bias_rps(bias);
        pair.fused.set_bias_rps(bias);
        pair.reference.set_bias_estimate(bias, None);
        for s in &samples[..2000] {
            pair.step(s, ts, use_mag, false);
            diff.compare(&pair);
        }
        diff.assert_holds(&format!("fixture reversed and forwards, use_mag {use_mag}"));
    }
}

#[test]
fn broad_trials_6d_and_9d_every_timing() {
    let Some(dir) = common::broad_dir() else { return };
    let (_, trials) = common::load(&dir);
    assert_eq!(trials.len(), 8);
    let mut worst = Diff::default();
    for trial in &trials {
        let ts = startup_sample_time_s(trial.samples.iter().map(|s| s.t_s));
        for use_mag in [true, false] {
            for timing in [Timing::Nominal, Timing::OwnInterval, Timing::JitterAndGaps] {
                let what = format!("{}, {}, {timing:?}", trial.name, if use_mag { "9D" } else { "6D" });
                let d = run(&trial.samples, ts, VqfParams::default(), use_mag, timing);
                d.assert_holds(&what);
                worst.samples += d.samples;
                worst.max_angle_deg = worst.max_angle_deg.max(d.max_angle_deg);
                worst.max_bias_diff_rps = worst.max_bias_diff_rps.max(d.max_bias_diff_rps);
            }
        }
    }
    worst.assert_holds("all 8 BROAD trials");
}

#[test]
fn a_perturbed_coefficient_is_caught() {
    // One parameter a part in 10¹² off in our filter only: the comparison must notice.
    let samples = fixture_samples();
    let ts = startup_sample_time_s(samples.iter().map(|s| s.t_s));
    let params = VqfParams::default();
    let mut pair = Pair::new(ts, params);
    let perturbed = VqfParams {
        tau_acc_s: params.tau_acc_s * (1.0 + 1e-12),
        ..params
    };
    pair.ours = Vqf::new(ts, perturbed);
    pair.fused = Vqf::new(ts, perturbed);
    let mut diff = Diff::default();
    for s in &samples {
        pair.step(s, ts, true, false);
        diff.compare(&pair);
    }
    eprintln!("perturbed: {diff:?}");
    assert!(
        !diff.holds(),
        "a perturbed filter passed the equivalence check: {diff:?}"
    );
}
