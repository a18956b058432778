//! Offline VQF: the acausal variant of VQF (Laidig & Seel, "VQF: Highly accurate IMU
//! orientation estimation with bias estimation and magnetic disturbance rejection",
//! Information Fusion 91, 2023, §offline; reference implementation `offline_vqf.cpp` in
//! PyPI `vqf` 2.1.2, which we read to understand it and use as the test oracle in
//! `tests/offline_vqf_parity.rs`).
//!
//! The steps, each a pure function below:
//! 1. Gyroscope bias: the causal VQF (`super::vqf`) runs forwards and, on the time-reversed
//!    recording (negated rates), backwards; at every sample the two bias estimates are
//!    fused by their covariances, `b = (P₁⁻¹ + P₂⁻¹)⁻¹ (P₁⁻¹ b₁ + P₂⁻¹ b₂)`.
//! 2. Strapdown integration of the bias-free rates: `q_inertial_from_sensor`.
//! 3. The accelerometer, rotated into that inertial frame, is low-pass filtered forwards
//!    and backwards (second-order Butterworth, time constant `tau_acc`, zero phase).
//! 4. Inclination: a slowly rotating frame `q_earth6d_from_inertial` is corrected at every
//!    sample so that the filtered acceleration points up (the full correction each step,
//!    since the filtering already happened in step 3).
//! 5. Heading (9D): the disagreement angle δ between the 6D frame's y axis and the
//!    horizontal magnetic field is filtered forwards, then backwards (first order,
//!    `tau_mag`), with magnetic disturbance rejection where both VQF passes saw a
//!    disturbance; `q_world_from_sensor = [cos δ/2, 0, 0, sin δ/2] ⊗ q6d`.
//!
//! The reference needs one fixed sample time. Here every step takes each sample's own
//! time step `dt_s[i]` (the interval ending at sample `i`; the first one is the nominal
//! time): the gyroscope integration and the heading filter's gain use it exactly, the
//! VQF passes use it for the integration (as `OrientationFilter` does), a gap is
//! integrated with the trapezoid ([`GAP_FACTOR`]) and the Butterworth coefficients are
//! built for the nominal sample time. With even sampling all of this is the reference
//! algorithm.
//!
//! Pure: no I/O. Does not touch the causal path (`super::OrientationFilter`).

use super::VqfParams;
use super::vqf::{butterworth2_coefficients, gain_from_tau, wrap_pi};
use crate::frames::{Quat, Vec3, normalize};
use crate::stream::ImuSample;

/// Everything the offline VQF estimates, one entry per input sample.
#[derive(Debug, Clone)]
pub struct OfflineVqfOutput {
    /// 6D orientation (z-up world, heading arbitrary but continuous).
    pub q_earth6d_from_sensor: Vec<Quat>,
    /// 9D orientation (ENU world); `None` without magnetometer.
    pub q_world_from_sensor_9d: Option<Vec<Quat>>,
    /// Heading offset δ of the 6D frame from the world frame, rad (0 without magnetometer).
    pub delta_rad: Vec<f64>,
    /// Fused gyroscope bias estimate, rad/s, sensor frame.
    pub gyr_bias_sensor_rps: Vec<Vec3>,
    /// Uncertainty of the fused bias in its worst direction, rad/s.
    pub gyr_bias_sigma_rps: Vec<f64>,
    /// Rest detected by the forward or the backward VQF pass.
    pub rest: Vec<bool>,
    /// Magnetic disturbance detected by both VQF passes.
    pub mag_disturbed: Vec<bool>,
}

impl OfflineVqfOutput {
    /// The 9D estimate when there is one, else the 6D one.
    pub fn best(&self) -> &[Quat] {
        self.q_world_from_sensor_9d
            .as_deref()
            .unwrap_or(&self.q_earth6d_from_sensor)
    }
}

/// The reference offline VQF for an evenly sampled recording with sample time `ts_s`.
/// Uses the magnetometer when `use_mag` is set and every sample has one.
pub fn offline_vqf(samples: &[ImuSample], ts_s: f64, use_mag: bool, params: &VqfParams) -> OfflineVqfOutput {
    let dt_s = vec![ts_s; samples.len()];
    offline_vqf_with_steps(samples, &dt_s, ts_s, use_mag, params)
}

/// As [`offline_vqf`] with each sample's own time step `dt_s[i]` (see the module comment);
/// `nominal_ts_s` sets the filter coefficients.
pub fn offline_vqf_with_steps(
    samples: &[ImuSample],
    dt_s: &[f64],
    nominal_ts_s: f64,
    use_mag: bool,
    params: &VqfParams,
) -> OfflineVqfOutput {
    let mags = magnetometer(samples, use_mag);
    let forward = vqf_pass(samples, dt_s, nominal_ts_s, mags.is_some(), params, Direction::Forward);
    let backward = vqf_pass(samples, dt_s, nominal_ts_s, mags.is_some(), params, Direction::Backward);
    let fused: Vec<(Vec3, f64)> = forward
        .iter()
        .zip(&backward)
        .map(|(f, b)| fuse_bias(f, b, params.bias_sigma_init_dps))
        .collect();
    let bias: Vec<Vec3> = fused.iter().map(|(b, _)| *b).collect();
    let rest = forward.iter().zip(&backward).map(|(f, b)| f.rest || b.rest).collect();
    let mag_disturbed: Vec<bool> = forward
        .iter()
        .zip(&backward)
        .map(|(f, b)| f.mag_disturbed && b.mag_disturbed)
        .collect();

    let q6d = orientation_6d(samples, &bias, dt_s, nominal_ts_s, params.tau_acc_s);
    let (q9d, delta_rad) = match &mags {
        Some(mags) => {
            let mut delta = heading_disagreement_rad(&q6d, mags);
            let heading = HeadingFilter::from_params(params);
            heading.smooth(&mut delta, &mag_disturbed, dt_s, Direction::Forward);
            heading.smooth(&mut delta, &mag_disturbed, dt_s, Direction::Backward);
            let q9d = q6d.iter().zip(&delta).map(|(q, d)| apply_heading(*q, *d)).collect();
            (Some(q9d), delta)
        }
        None => (None, vec![0.0; samples.len()]),
    };
    OfflineVqfOutput {
        q_earth6d_from_sensor: q6d,
        q_world_from_sensor_9d: q9d,
        delta_rad,
        gyr_bias_sensor_rps: bias,
        gyr_bias_sigma_rps: fused.iter().map(|(_, s)| *s).collect(),
        rest,
        mag_disturbed,
    }
}

/// Steps 2–4: the 6D orientation from the rates with `gyr_bias_sensor_rps` removed.
pub fn orientation_6d(
    samples: &[ImuSample],
    gyr_bias_sensor_rps: &[Vec3],
    dt_s: &[f64],
    nominal_ts_s: f64,
    tau_acc_s: f64,
) -> Vec<Quat> {
    let q_inertial_from_sensor = integrate_gyr(samples, gyr_bias_sensor_rps, dt_s, nominal_ts_s);
    let mut acc_inertial_mps2: Vec<Vec3> = samples
        .iter()
        .zip(&q_inertial_from_sensor)
        .map(|(s, q)| q.rotate(s.acc_sensor_mps2))
        .collect();
    Butterworth2::new(tau_acc_s, nominal_ts_s).filtfilt(&mut acc_inertial_mps2);
    inclination_corrected(&q_inertial_from_sensor, &acc_inertial_mps2)
}

/// The magnetometer series when it is to be used.
pub(crate) fn magnetometer(samples: &[ImuSample], use_mag: bool) -> Option<Vec<Vec3>> {
    if !use_mag || samples.is_empty() {
        return None;
    }
    samples.iter().map(|s| s.mag_sensor).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Forward,
    Backward,
}

impl Direction {
    /// Sample indices in this direction's order.
    fn indices(self, n: usize) -> Box<dyn Iterator<Item = usize>> {
        match self {
            Direction::Forward => Box::new(0..n),
            Direction::Backward => Box::new((0..n).rev()),
        }
    }
}

/// What one causal VQF pass knows at a sample (in forward time: a backward pass's bias
/// is already negated back).
#[derive(Debug, Clone, Copy)]
pub struct PassRecord {
    pub gyr_bias_sensor_rps: Vec3,
    /// Bias covariance, VQF's internal units ((0.01 °/s)²).
    pub bias_cov: [[f64; 3]; 3],
    pub rest: bool,
    pub mag_disturbed: bool,
}

/// Step 1 (one direction): the causal VQF over the recording, forwards or time-reversed.
/// Records are returned in forward sample order.
pub fn vqf_pass(
    samples: &[ImuSample],
    dt_s: &[f64],
    nominal_ts_s: f64,
    use_mag: bool,
    params: &VqfParams,
    direction: Direction,
) -> Vec<PassRecord> {
    let n = samples.len();
    let mut vqf = super::Vqf::new(nominal_ts_s, *params);
    let sign = match direction {
        Direction::Forward => 1.0,
        Direction::Backward => -1.0,
    };
    let mut records = vec![None; n];
    for i in direction.indices(n) {
        let s = &samples[i];
        // Going backwards, the step into sample i spans the interval that ends at i+1.
        let (dt, neighbour) = match direction {
            Direction::Forward => (dt_s[i], i.checked_sub(1)),
            Direction::Backward => (
                dt_s.get(i + 1).copied().unwrap_or(nominal_ts_s),
                Some(i + 1).filter(|&j| j < n),
            ),
        };
        let rate = step_rate(
            s.gyr_sensor_rps,
            neighbour.map(|j| samples[j].gyr_sensor_rps),
            dt,
            nominal_ts_s,
        );
        vqf.update_gyr(rate.map(|g| sign * g), dt);
        vqf.update_acc(s.acc_sensor_mps2);
        if let (true, Some(m)) = (use_mag, s.mag_sensor) {
            vqf.update_mag(m);
        }
        records[i] = Some(PassRecord {
            gyr_bias_sensor_rps: vqf.bias_rps().map(|b| sign * b),
            bias_cov: vqf.bias_covariance(),
            rest: vqf.rest_detected(),
            mag_disturbed: vqf.mag_dist_detected(),
        });
    }
    records.into_iter().flatten().collect()
}

/// Covariance-weighted fusion of the two passes' bias estimates; returns the bias (rad/s)
/// and its uncertainty in the worst direction (rad/s, Gershgorin bound of the fused
/// covariance, at most `bias_sigma_init_dps`).
pub fn fuse_bias(forward: &PassRecord, backward: &PassRecord, bias_sigma_init_dps: f64) -> (Vec3, f64) {
    let info_f = mat3_inverse(forward.bias_cov);
    let info_b = mat3_inverse(backward.bias_cov);
    let cov = mat3_inverse(mat3_add(info_f, info_b));
    let weighted = crate::frames::add(
        mat3_mul_vec(info_f, forward.gyr_bias_sensor_rps),
        mat3_mul_vec(info_b, backward.gyr_bias_sensor_rps),
    );
    let bias = mat3_mul_vec(cov, weighted);
    let worst = cov
        .iter()
        .map(|row| row.iter().map(|v| v.abs()).sum::<f64>())
        .fold(0.0, f64::max);
    // VQF keeps P in (0.01 °/s)²: sqrt(P) / 100 is in °/s.
    let sigma_dps = (worst.sqrt() / 100.0).min(bias_sigma_init_dps);
    (bias, sigma_dps.to_radians())
}

/// An interval longer than this many nominal sample times is a gap (as in the causal
/// `Settings::gap_factor`): it is integrated with the mean of the rates at its two ends
/// (trapezoid), as one sample's rate does not represent it. Even sampling has no gaps, so
/// the reference algorithm is unchanged.
pub const GAP_FACTOR: f64 = 3.0;

/// The rate to integrate over a step of `dt_s` ending at a sample with rate `rate`;
/// `neighbour` is the rate at the step's other end.
pub fn step_rate(rate: Vec3, neighbour: Option<Vec3>, dt_s: f64, nominal_ts_s: f64) -> Vec3 {
    match neighbour {
        Some(other) if dt_s > GAP_FACTOR * nominal_ts_s => std::array::from_fn(|k| (rate[k] + other[k]) / 2.0),
        _ => rate,
    }
}

/// Step 2: strapdown integration of `gyr − bias`, starting from identity; entry `i` is the
/// orientation after the step of sample `i` (gaps: see [`GAP_FACTOR`]).
pub fn integrate_gyr(
    samples: &[ImuSample],
    gyr_bias_sensor_rps: &[Vec3],
    dt_s: &[f64],
    nominal_ts_s: f64,
) -> Vec<Quat> {
    let mut q = Quat::IDENTITY;
    let mut previous: Option<Vec3> = None;
    samples
        .iter()
        .zip(gyr_bias_sensor_rps)
        .zip(dt_s)
        .map(|((s, b), dt)| {
            let own = crate::frames::sub(s.gyr_sensor_rps, *b);
            let w = step_rate(own, previous, *dt, nominal_ts_s);
            previous = Some(own);
            if crate::frames::norm(w) > f64::EPSILON {
                q = (q * Quat::from_rotation_vector(crate::frames::scale(w, *dt))).normalized();
            }
            q
        })
        .collect()
}

/// Step 4: rotate each filtered inertial acceleration to vertical, accumulating the
/// corrections: `q_earth6d_from_sensor[i] = q_earth6d_from_inertial[i] ⊗ q_inertial_from_sensor[i]`.
pub fn inclination_corrected(q_inertial_from_sensor: &[Quat], acc_inertial_lp_mps2: &[Vec3]) -> Vec<Quat> {
    let mut q_earth_from_inertial = Quat::IDENTITY;
    q_inertial_from_sensor
        .iter()
        .zip(acc_inertial_lp_mps2)
        .map(|(q, a)| {
            let up = normalize(q_earth_from_inertial.rotate(*a));
            q_earth_from_inertial = (tilt_to_vertical(up) * q_earth_from_inertial).normalized();
            q_earth_from_inertial * *q
        })
        .collect()
}

/// The shortest rotation (about a horizontal axis) taking the unit vector `up` to +z.
fn tilt_to_vertical(up: Vec3) -> Quat {
    let w = ((up[2] + 1.0) / 2.0).max(0.0).sqrt();
    if w > 1e-6 {
        Quat::new(w, 0.5 * up[1] / w, -0.5 * up[0] / w, 0.0)
    } else {
        // `up` points down: any half turn about a horizontal axis will do.
        Quat::new(0.0, 1.0, 0.0, 0.0)
    }
}

/// Step 5a: the heading disagreement δ at each sample: the angle from the 6D frame's y
/// axis to the horizontal part of the magnetic field, rad in (−π, π].
pub fn heading_disagreement_rad(q_earth6d_from_sensor: &[Quat], mag_sensor: &[Vec3]) -> Vec<f64> {
    q_earth6d_from_sensor
        .iter()
        .zip(mag_sensor)
        .map(|(q, m)| {
            let m_earth = q.rotate(*m);
            m_earth[0].atan2(m_earth[1])
        })
        .collect()
}

/// `[cos δ/2, 0, 0, sin δ/2] ⊗ q`: turn an orientation's heading by `delta_rad` about z.
pub fn apply_heading(q: Quat, delta_rad: f64) -> Quat {
    Quat::from_axis_angle([0.0, 0.0, 1.0], delta_rad) * q
}

/// Step 5b: first-order filter of the heading offset with magnetic disturbance rejection
/// (VQF's rules: ignore the magnetometer while disturbed for at most
/// `mag_max_rejection_time_s`, then use it with a gain lowered by `mag_rejection_factor`)
/// and VQF's fast start (gain at least 1/N for the first `tau_mag_s`).
#[derive(Debug, Clone, Copy)]
pub struct HeadingFilter {
    pub tau_mag_s: f64,
    pub rejection_enabled: bool,
    pub mag_max_rejection_time_s: f64,
    pub mag_rejection_factor: f64,
}

impl HeadingFilter {
    pub fn from_params(p: &VqfParams) -> Self {
        HeadingFilter {
            tau_mag_s: p.tau_mag_s,
            rejection_enabled: p.mag_disturbance_rejection,
            mag_max_rejection_time_s: p.mag_max_rejection_time_s,
            mag_rejection_factor: p.mag_rejection_factor,
        }
    }

    /// Filter `delta_rad` in place, in `direction`. `dt_s[i]` is the interval ending at `i`.
    pub fn smooth(&self, delta_rad: &mut [f64], disturbed: &[bool], dt_s: &[f64], direction: Direction) {
        let n = delta_rad.len();
        let Some(first) = direction.indices(n).next() else {
            return;
        };
        let mut d = delta_rad[first];
        let mut k_init = 1.0;
        let mut reject_t_s = 0.0;
        for j in direction.indices(n) {
            let dt = match direction {
                Direction::Forward => dt_s[j],
                Direction::Backward => dt_s.get(j + 1).copied().unwrap_or(dt_s[j]),
            };
            let mut k = gain_from_tau(self.tau_mag_s, dt);
            if self.rejection_enabled {
                if disturbed[j] {
                    if reject_t_s <= self.mag_max_rejection_time_s {
                        reject_t_s += dt;
                        k = 0.0;
                    } else {
                        k /= self.mag_rejection_factor;
                    }
                } else {
                    reject_t_s = (reject_t_s - self.mag_rejection_factor * dt).max(0.0);
                }
            }
            if k_init != 0.0 {
                k = k.max(k_init);
                k_init /= k_init + 1.0;
                if k_init * self.tau_mag_s < dt {
                    k_init = 0.0;
                }
            }
            d = wrap_pi(d + k * wrap_pi(delta_rad[j] - d));
            delta_rad[j] = d;
        }
    }
}

/// Second-order Butterworth low-pass (the one VQF uses), cut-off `√2 / (2π τ)`,
/// bilinear transform with pre-warping; direct form II transposed.
#[derive(Debug, Clone, Copy)]
pub struct Butterworth2 {
    b: [f64; 3],
    a: [f64; 2],
    tau_s: f64,
    ts_s: f64,
}

impl Butterworth2 {
    pub fn new(tau_s: f64, ts_s: f64) -> Self {
        // Above 90 % of Nyquist the filter would be unstable: pass through.
        if tau_s < ts_s / 2.0 {
            return Butterworth2 {
                b: [1.0, 0.0, 0.0],
                a: [0.0, 0.0],
                tau_s,
                ts_s,
            };
        }
        let [b0, a1, a2] = butterworth2_coefficients(tau_s, ts_s);
        Butterworth2 {
            b: [b0, 2.0 * b0, b0],
            a: [a1, a2],
            tau_s,
            ts_s,
        }
    }

    /// Filter state that is at rest at the value `x0`.
    fn steady_state(&self, x0: f64) -> [f64; 2] {
        [x0 * (1.0 - self.b[0]), x0 * (self.b[2] - self.a[1])]
    }

    fn step(&self, x: f64, state: &mut [f64; 2]) -> f64 {
        let y = self.b[0] * x + state[0];
        state[0] = self.b[1] * x - self.a[0] * y + state[1];
        state[1] = self.b[2] * x - self.a[1] * y;
        y
    }

    /// Zero-phase filtering in place: forwards (starting, as VQF does, with the running
    /// mean over the first `tau` seconds instead of trusting one sample), then backwards
    /// from a steady state at the last value.
    pub fn filtfilt(&self, x: &mut [Vec3]) {
        let Some(last) = x.len().checked_sub(1) else {
            return;
        };
        let mut states: Option<[[f64; 2]; 3]> = None;
        let mut sum = [0.0; 3];
        let mut count = 0usize;
        for v in x.iter_mut() {
            match &mut states {
                Some(st) => {
                    for k in 0..3 {
                        v[k] = self.step(v[k], &mut st[k]);
                    }
                }
                None => {
                    count += 1;
                    for k in 0..3 {
                        sum[k] += v[k];
                        v[k] = sum[k] / count as f64;
                    }
                    if count as f64 * self.ts_s >= self.tau_s {
                        states = Some(std::array::from_fn(|k| self.steady_state(v[k])));
                    }
                }
            }
        }
        let mut st: [[f64; 2]; 3] = std::array::from_fn(|k| self.steady_state(x[last][k]));
        for v in x.iter_mut().rev() {
            for k in 0..3 {
                v[k] = self.step(v[k], &mut st[k]);
            }
        }
    }
}

type Mat3 = [[f64; 3]; 3];

/// Inverse by the adjugate; the zero matrix when singular (a pass with no information).
fn mat3_inverse(m: Mat3) -> Mat3 {
    let c = |r0: usize, c0: usize, r1: usize, c1: usize| m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
    let cof = [
        [c(1, 1, 2, 2), -c(1, 0, 2, 2), c(1, 0, 2, 1)],
        [-c(0, 1, 2, 2), c(0, 0, 2, 2), -c(0, 0, 2, 1)],
        [c(0, 1, 1, 2), -c(0, 0, 1, 2), c(0, 0, 1, 1)],
    ];
    let det = m[0][0] * cof[0][0] + m[0][1] * cof[0][1] + m[0][2] * cof[0][2];
    if det.abs() <= f64::EPSILON {
        return [[0.0; 3]; 3];
    }
    // inverse = adjugate / det = cofactorᵀ / det
    std::array::from_fn(|r| std::array::from_fn(|c| cof[c][r] / det))
}

fn mat3_add(a: Mat3, b: Mat3) -> Mat3 {
    std::array::from_fn(|r| std::array::from_fn(|c| a[r][c] + b[r][c]))
}

fn mat3_mul_vec(m: Mat3, v: Vec3) -> Vec3 {
    std::array::from_fn(|r| m[r][0] * v[0] + m[r][1] * v[1] + m[r][2] * v[2])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn still(n: usize, ts: f64, gyr: Vec3) -> Vec<ImuSample> {
        (0..n)
            .map(|i| ImuSample {
                t_s: i as f64 * ts,
                acc_sensor_mps2: [0.0, 0.0, 9.81],
                gyr_sensor_rps: gyr,
                mag_sensor: Some([0.0, 20.0, -40.0]),
            })
            .collect()
    }

    #[test]
    fn inverse_times_matrix_is_identity() {
        let m = [[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]];
        let inv = mat3_inverse(m);
        let product: Mat3 = std::array::from_fn(|r| std::array::from_fn(|c| (0..3).map(|k| m[r][k] * inv[k][c]).sum()));
        assert_eq!(
            product.map(|row| row.map(|v| (v * 1e9).round() / 1e9)),
            [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
        );
    }

    #[test]
    fn butterworth_passes_a_constant_and_has_unit_dc_gain() {
        let f = Butterworth2::new(3.0, 0.01);
        assert!((f.b.iter().sum::<f64>() / (1.0 + f.a[0] + f.a[1]) - 1.0).abs() < 1e-9);
        let mut x = vec![[1.0, -2.0, 3.0]; 1000];
        f.filtfilt(&mut x);
        assert!(x.iter().all(|v| (v[0] - 1.0).abs() < 1e-9 && (v[2] - 3.0).abs() < 1e-9));
    }

    #[test]
    fn heading_filter_crosses_pi_the_short_way() {
        let h = HeadingFilter {
            tau_mag_s: 0.1,
            rejection_enabled: false,
            mag_max_rejection_time_s: 60.0,
            mag_rejection_factor: 2.0,
        };
        let mut d = vec![3.1, -3.1, -3.1, -3.1, -3.1];
        h.smooth(&mut d, &[false; 5], &[0.01; 5], Direction::Forward);
        assert!(d.iter().all(|v| v.abs() > 3.0), "{d:?}");
    }

    #[test]
    fn still_sensor_with_bias_stays_level_and_finds_the_bias() {
        let bias = [0.01, -0.02, 0.005];
        let samples = still(3000, 0.01, bias);
        let out = offline_vqf(&samples, 0.01, true, &VqfParams::default());
        let b = out.gyr_bias_sensor_rps[1500];
        assert!((0..3).all(|k| (b[k] - bias[k]).abs() < 1e-3), "{b:?}");
        let q9 = out.q_world_from_sensor_9d.as_ref().unwrap();
        // Level, and y points north (the field has no east component).
        assert!(q9.iter().all(|q| q.angle_to_rad(Quat::IDENTITY).to_degrees() < 1.0));
    }
}
