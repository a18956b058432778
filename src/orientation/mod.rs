//! Orientation estimation: raw IMU samples → `q_world_from_sensor`.
//!
//! The causal filter is VQF (Laidig & Seel, Information Fusion 2023), our own implementation in
//! [`vqf`], verified against the reference implementation (`tests/vqf_parity.rs`) and equal bit
//! for bit to the `vqf-rs` crate (`tests/vqf_equivalence.rs`). This module adapts it to real
//! streams:
//!
//! - VQF's coefficients are built for one sample time. We build them for the stream's
//!   nominal sample time (the mean regular interval) and integrate the gyroscope with each
//!   sample's own interval. The causal filter takes the nominal sample time from a start-up
//!   window, the first 256 intervals ([`startup_sample_time_s`]), so that no estimate
//!   depends on samples after the window and after its own time; the offline and
//!   warm-started variants take it from the whole recording ([`nominal_sample_time_s`]). On evenly sampled data this is the reference filter to 1e-9°;
//!   on jittery data or with dropped samples it keeps most of the accuracy that a
//!   fixed-sample-time filter loses (10 % dropped samples: 4–13° instead of 55–60° on
//!   BROAD). A gap of half a second or more also restarts the inclination and heading
//!   estimates, which would otherwise carry the rotation lost in the gap for many seconds
//!   (measured in `docs/accuracy.md`).
//! - `offline` holds the non-causal variant that uses the whole recording.
//!
//! Pure: no I/O, no clock. Owns nothing about bodies or mounting.

pub mod accuracy;
pub mod gyro_calibration;
pub mod offline;
pub mod offline_vqf;
pub mod vqf;
pub mod warm;

use crate::frames::Quat;
use crate::stream::ImuSample;

pub use vqf::{Params as VqfParams, Vqf};

/// Settings of the orientation estimate.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Use the magnetometer (9D) when the stream has one. Without it (6D) the world
    /// heading is arbitrary but fixed for the session.
    pub use_mag: bool,
    /// An interval longer than this many nominal sample times is a gap: the gyroscope is
    /// still integrated over it (trapezoid of the rates at both ends), since the rotation
    /// during the gap is otherwise lost.
    pub gap_factor: f64,
    /// An interval at least this long (s) can hide more rotation than the trapezoid
    /// recovers, and VQF's slow corrections (τ_acc 3 s, τ_mag 9 s) would take many seconds
    /// to remove the error. After such a gap the filter restarts its inclination estimate
    /// (and, with a magnetometer, its heading estimate) from the next samples the way VQF
    /// does at start-up, keeping the gyroscope bias and the magnetic reference. On BROAD with
    /// a 1 s gap every 10 s this cuts the 9D error from about 65° to 17° (`docs/accuracy.md`).
    /// `f64::INFINITY`: never.
    pub reconverge_after_gap_s: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            use_mag: true,
            gap_factor: 3.0,
            reconverge_after_gap_s: 0.5,
        }
    }
}

/// The VQF parameters twistcoach uses (the reference defaults).
pub fn vqf_params() -> VqfParams {
    VqfParams::default()
}

/// Nominal sample time of a stream, in seconds: the mean interval between samples, leaving
/// out dropped samples and gaps (intervals longer than 1.5 × the median interval). Falls
/// back to 0.01 s for a stream with fewer than two increasing samples.
///
/// The mean, not the median: VQF counts rest and disturbance durations in sample times, so
/// a nominal time that is off by even one ulp can move the start of rest detection by a
/// sample (0.014° on the 100 Hz parity fixture). Times written with two decimals
/// (`59.99`) give intervals of 0.0099999999999997868 and 0.010000000000000009; their median is
/// one of those, while `(t_last − t_first)/(n − 1)` is 0.01, the rate the data were made at.
/// Timestamps quantised more coarsely than the rate (`0.003, 0.004, …` at 285.7 Hz) are
/// averaged out the same way.
pub fn nominal_sample_time_s(t_s: impl Iterator<Item = f64>) -> f64 {
    const FALLBACK_S: f64 = 0.01;
    let t: Vec<f64> = t_s.collect();
    let intervals: Vec<f64> = t.windows(2).map(|w| w[1] - w[0]).filter(|d| *d > 0.0).collect();
    if intervals.is_empty() {
        return FALLBACK_S;
    }
    let mut sorted = intervals.clone();
    let mid = sorted.len() / 2;
    let (_, &mut median, _) = sorted.select_nth_unstable_by(mid, f64::total_cmp);
    let limit = 1.5 * median;
    let (kept_sum, kept) = intervals
        .iter()
        .filter(|&&d| d <= limit)
        .fold((0.0, 0usize), |(s, n), &d| (s + d, n + 1));
    let nominal = if kept == t.len() - 1 {
        // Every interval is regular: the span divided by the count is exact to the last ulp.
        (t[t.len() - 1] - t[0]) / kept as f64
    } else {
        kept_sum / kept as f64
    };
    if nominal.is_finite() && nominal > 0.0 {
        nominal
    } else {
        FALLBACK_S
    }
}

/// Intervals in the start-up window of the causal filter (see [`startup_sample_time_s`]).
pub const STARTUP_WINDOW_INTERVALS: usize = 256;

/// Nominal sample time of the causal filter, in seconds: [`nominal_sample_time_s`] of the
/// stream's first [`STARTUP_WINDOW_INTERVALS`] intervals (its first 257 samples; all of a
/// shorter stream), the way a live device declares its rate before streaming.
///
/// So the causal estimate at time t depends on the samples up to t and, for the first 256
/// samples only, also on the times (not the readings) of the rest of the start-up window;
/// from sample 257 on it depends on nothing after t. Taking the rate from the whole file,
/// as before, made every estimate depend on the last timestamp, and made a streaming
/// pipeline wait for the whole file before the first filter step.
///
/// The window keeps the care of [`nominal_sample_time_s`]: on evenly sampled data it is
/// the exact span over the count, and the mean of the regular intervals when samples are
/// dropped or a gap falls in the window. On the parity fixture (100 Hz, two decimals) it is
/// exactly 0.01, as the whole-file rule; on the 8 BROAD trials it is exactly 0.0035 s, the
/// recordings' declared rate, where the whole-file rule is 1 ulp below on three of them.
pub fn startup_sample_time_s(t_s: impl Iterator<Item = f64>) -> f64 {
    nominal_sample_time_s(t_s.take(STARTUP_WINDOW_INTERVALS + 1))
}

/// Causal VQF for one sensor, sample by sample, with each sample's own time step.
pub struct OrientationFilter {
    vqf: Vqf,
    settings: Settings,
    nominal_dt_s: f64,
    last: Option<(f64, [f64; 3])>,
}

impl OrientationFilter {
    pub fn new(nominal_dt_s: f64, settings: Settings) -> Self {
        Self::with_params(nominal_dt_s, settings, vqf_params())
    }

    pub fn with_params(nominal_dt_s: f64, settings: Settings, params: VqfParams) -> Self {
        let dt = if nominal_dt_s.is_finite() && nominal_dt_s > 0.0 {
            nominal_dt_s
        } else {
            0.01
        };
        OrientationFilter {
            vqf: Vqf::new(dt, params),
            settings,
            nominal_dt_s: dt,
            last: None,
        }
    }

    /// Feed one sample; returns the orientation estimate at its time.
    pub fn update(&mut self, s: &ImuSample) -> Quat {
        let gyr = s.gyr_sensor_rps;
        let dt_s = match self.last {
            None => self.nominal_dt_s,
            Some((t_prev, _)) => s.t_s - t_prev,
        };
        let gyr_step = match self.last {
            Some((_, g_prev)) if dt_s > self.settings.gap_factor * self.nominal_dt_s => [
                (g_prev[0] + gyr[0]) / 2.0,
                (g_prev[1] + gyr[1]) / 2.0,
                (g_prev[2] + gyr[2]) / 2.0,
            ],
            _ => gyr,
        };
        if dt_s >= self.settings.reconverge_after_gap_s {
            // Before the gyroscope step, which touches neither the accelerometer low-pass nor
            // the heading gain: the same as restarting between the gyroscope and accelerometer
            // steps.
            self.reconverge();
        }
        let use_mag = self.settings.use_mag;
        let mag = s.mag_sensor.filter(|_| use_mag);
        self.vqf.update(gyr_step, dt_s, s.acc_sensor_mps2, mag);
        self.last = Some((s.t_s, gyr));
        self.quat(use_mag && s.mag_sensor.is_some())
    }

    /// Restart the accelerometer low-pass filter (its first samples are then averaged and the
    /// inclination follows them fully) and the fast initial heading convergence (gains 1,
    /// 1/2, 1/3, …), as VQF does at start-up. Bias and magnetic reference are kept.
    fn reconverge(&mut self) {
        self.vqf.restart_acc_lowpass();
        self.vqf.restart_heading_convergence();
    }

    fn quat(&self, nine_d: bool) -> Quat {
        if nine_d { self.vqf.quat_9d() } else { self.vqf.quat_6d() }
    }

    /// Whether VQF currently detects rest (for diagnostics and the body model).
    pub fn rest_detected(&self) -> bool {
        self.vqf.rest_detected()
    }

    /// Whether VQF currently detects a magnetic disturbance (9D only).
    pub fn mag_dist_detected(&self) -> bool {
        self.vqf.mag_dist_detected()
    }

    /// Current gyroscope bias estimate, rad/s in the sensor frame.
    pub fn gyr_bias_sensor_rps(&self) -> [f64; 3] {
        self.vqf.bias_rps()
    }
}

/// Causal estimate for a whole stream: the estimate at each sample uses only samples up to
/// it, and the start-up window's times for the nominal sample time
/// ([`startup_sample_time_s`]).
pub fn estimate_causal(samples: &[ImuSample], settings: Settings) -> Vec<Quat> {
    estimate_causal_with_progress(samples, settings, &mut |_| {})
}

/// As [`estimate_causal`], calling `progress(done)` every few thousand samples.
pub fn estimate_causal_with_progress(
    samples: &[ImuSample],
    settings: Settings,
    progress: &mut dyn FnMut(usize),
) -> Vec<Quat> {
    let dt = startup_sample_time_s(samples.iter().map(|s| s.t_s));
    let mut filter = OrientationFilter::new(dt, settings);
    let mut out = Vec::with_capacity(samples.len());
    for (i, s) in samples.iter().enumerate() {
        out.push(filter.update(s));
        if i % 8192 == 8191 {
            progress(i + 1);
        }
    }
    progress(samples.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(times: impl Iterator<Item = String>) -> Vec<f64> {
        times.map(|s| s.parse().unwrap()).collect()
    }

    /// Inclination error (rad) of `q` for a sensor whose true orientation is `truth`.
    fn inclination_error_rad(q: Quat, truth: Quat) -> f64 {
        let up_est = q.conj().rotate([0.0, 0.0, 1.0]);
        let up_true = truth.conj().rotate([0.0, 0.0, 1.0]);
        crate::frames::dot(up_est, up_true).clamp(-1.0, 1.0).acos()
    }

    /// Still, then a 1 s gap during which the sensor is tilted by 60° (the rates at both
    /// ends are zero, so the gyroscope sees nothing), then still again. Returns the
    /// inclination error 0.3 s after the gap, in degrees.
    fn error_after_hidden_tilt_deg(settings: Settings) -> f64 {
        let tilted = Quat::from_axis_angle([1.0, 0.0, 0.0], 60f64.to_radians());
        let sample = |t_s: f64, q: Quat| ImuSample {
            t_s,
            acc_sensor_mps2: q.conj().rotate([0.0, 0.0, 9.81]),
            gyr_sensor_rps: [0.0; 3],
            mag_sensor: None,
        };
        let mut filter = OrientationFilter::new(0.01, settings);
        for i in 0..500 {
            filter.update(&sample(i as f64 * 0.01, Quat::IDENTITY));
        }
        let mut q = Quat::IDENTITY;
        for i in 0..30 {
            q = filter.update(&sample(6.0 + i as f64 * 0.01, tilted));
        }
        inclination_error_rad(q, tilted).to_degrees()
    }

    #[test]
    fn inclination_reconverges_quickly_after_a_gap() {
        let settings = Settings {
            use_mag: false,
            ..Settings::default()
        };
        assert!(error_after_hidden_tilt_deg(settings) < 1.0);
        let never = Settings {
            reconverge_after_gap_s: f64::INFINITY,
            ..settings
        };
        // Plain VQF corrects with τ_acc = 3 s: most of the 60° is still there.
        assert!(error_after_hidden_tilt_deg(never) > 40.0);
    }

    mod irregular_streams {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

            /// Any increasing times (jitter, drops, gaps up to 3 s, so the gap restart runs)
            /// and any plausible readings: every estimate is a finite unit quaternion.
            #[test]
            fn estimates_stay_finite_unit_quaternions(
                rows in proptest::collection::vec(
                    (prop_oneof![0.001f64..0.05, 0.4f64..3.0], proptest::array::uniform3(-10.0f64..10.0),
                     proptest::array::uniform3(-20.0f64..20.0), proptest::array::uniform3(-60.0f64..60.0)),
                    1..300,
                ),
                use_mag in any::<bool>(),
            ) {
                let mut t_s = 0.0;
                let samples: Vec<ImuSample> = rows
                    .iter()
                    .map(|&(dt_s, gyr, acc, mag)| {
                        t_s += dt_s;
                        ImuSample { t_s, acc_sensor_mps2: acc, gyr_sensor_rps: gyr, mag_sensor: Some(mag) }
                    })
                    .collect();
                let settings = Settings { use_mag, ..Settings::default() };
                for q in estimate_causal(&samples, settings) {
                    prop_assert!(q.w.is_finite() && q.x.is_finite() && q.y.is_finite() && q.z.is_finite());
                    prop_assert!((q.norm() - 1.0).abs() < 1e-9, "{:?}", q);
                }
            }
        }
    }

    #[test]
    fn startup_sample_time_uses_only_the_start_up_window() {
        // 100 Hz for the window, then a change of rate: the whole-file mean moves, the
        // start-up estimate does not.
        let mut t = parsed((0..=STARTUP_WINDOW_INTERVALS).map(|i| format!("{:.2}", i as f64 * 0.01)));
        let end = t[t.len() - 1];
        let causal = startup_sample_time_s(t.iter().copied());
        assert_eq!(causal, 0.01);
        t.extend((1..5000).map(|i| end + i as f64 * 0.012));
        assert_eq!(startup_sample_time_s(t.iter().copied()), causal);
        assert!(nominal_sample_time_s(t.into_iter()) > 0.0115);
        // Shorter than the window: the whole stream, same care as the whole-file rule.
        let short = parsed((0..40).map(|i| format!("{:.3}", 3.0 + i as f64 * 0.004)));
        assert_eq!(
            startup_sample_time_s(short.iter().copied()),
            nominal_sample_time_s(short.into_iter())
        );
    }

    #[test]
    fn nominal_sample_time_is_exact_for_rounded_regular_times() {
        // "%.2f" times at 100 Hz: the median interval is off by ulps, the span mean is not.
        let t = parsed((0..6000).map(|i| format!("{:.2}", i as f64 * 0.01)));
        assert_eq!(nominal_sample_time_s(t.into_iter()), 0.01);
    }

    #[test]
    fn nominal_sample_time_averages_coarse_timestamps_and_ignores_gaps() {
        // 285.7 Hz written with 3 decimals: intervals alternate 0.003 / 0.004.
        let t = parsed((0..2000).map(|i| format!("{:.3}", i as f64 * 0.0035)));
        assert!((nominal_sample_time_s(t.into_iter()) - 0.0035).abs() < 1e-6);
        // 100 Hz with every third sample dropped and a 1 s gap: still 0.01 s.
        let mut t: Vec<f64> = (0..3000).filter(|i| i % 3 != 2).map(|i| i as f64 * 0.01).collect();
        t.extend((0..100).map(|i| 31.0 + i as f64 * 0.01));
        assert!((nominal_sample_time_s(t.into_iter()) - 0.01).abs() < 1e-12);
        assert_eq!(nominal_sample_time_s([1.0].into_iter()), 0.01);
    }
}
