//! Orientation estimation: raw IMU samples → `q_world_from_sensor`.
//!
//! The causal filter is VQF (Laidig & Seel, Information Fusion 2023) as implemented by the
//! `vqf-rs` crate, which we verified against the reference implementation (see
//! `tests/vqf_parity.rs`). This module adapts it to real streams:
//!
//! - VQF's coefficients are built for one sample time. We build them for the stream's
//!   nominal sample time (the median interval) and integrate the gyroscope with each
//!   sample's own interval, so jitter, dropped samples and gaps of a second cost no
//!   orientation (measured in `docs/accuracy.md`).
//! - `offline` holds the non-causal variant that uses the whole recording.
//!
//! Pure: no I/O, no clock. Owns nothing about bodies or mounting.

pub mod accuracy;
pub mod offline;
pub mod warm;

use crate::frames::Quat;
use crate::stream::ImuSample;

pub use vqf_rs::Params as VqfParams;

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
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            use_mag: true,
            gap_factor: 3.0,
        }
    }
}

/// The VQF parameters twistcoach uses (the reference defaults).
pub fn vqf_params() -> VqfParams {
    VqfParams::default()
}

/// Nominal sample time of a stream: the median interval between samples, in seconds.
/// Falls back to 0.01 s for a stream with fewer than two samples.
pub fn nominal_sample_time_s(t_s: impl Iterator<Item = f64>) -> f64 {
    let t: Vec<f64> = t_s.collect();
    let mut dt: Vec<f64> = t.windows(2).map(|w| w[1] - w[0]).filter(|d| *d > 0.0).collect();
    if dt.is_empty() {
        return 0.01;
    }
    let mid = dt.len() / 2;
    let (_, m, _) = dt.select_nth_unstable_by(mid, f64::total_cmp);
    *m
}

/// Causal VQF for one sensor, sample by sample, with each sample's own time step.
pub struct OrientationFilter {
    vqf: vqf_rs::VQF,
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
            vqf: vqf_rs::VQF::new(dt, None, None, Some(params)),
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
        self.vqf.update_gyr_with_ts(gyr_step, dt_s);
        self.vqf.update_acc(s.acc_sensor_mps2);
        let use_mag = self.settings.use_mag;
        if let (true, Some(m)) = (use_mag, s.mag_sensor) {
            self.vqf.update_mag(m);
        }
        self.last = Some((s.t_s, gyr));
        self.quat(use_mag && s.mag_sensor.is_some())
    }

    fn quat(&self, nine_d: bool) -> Quat {
        let q = if nine_d { self.vqf.quat_9d() } else { self.vqf.quat_6d() };
        Quat::new(q.0, q.1, q.2, q.3)
    }

    /// Whether VQF currently detects rest (for diagnostics and the body model).
    pub fn rest_detected(&self) -> bool {
        self.vqf.rest_detected()
    }

    /// Current gyroscope bias estimate, rad/s in the sensor frame.
    pub fn gyr_bias_sensor_rps(&self) -> [f64; 3] {
        self.vqf.bias_estimate().0
    }
}

/// Causal estimate for a whole stream: the estimate at each sample uses only samples up to it.
pub fn estimate_causal(samples: &[ImuSample], settings: Settings) -> Vec<Quat> {
    estimate_causal_with_progress(samples, settings, &mut |_| {})
}

/// As [`estimate_causal`], calling `progress(done)` every few thousand samples.
pub fn estimate_causal_with_progress(
    samples: &[ImuSample],
    settings: Settings,
    progress: &mut dyn FnMut(usize),
) -> Vec<Quat> {
    let dt = nominal_sample_time_s(samples.iter().map(|s| s.t_s));
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
