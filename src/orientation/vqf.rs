//! VQF, twistcoach's own implementation: the causal IMU orientation filter of D. Laidig and
//! T. Seel, "VQF: Highly accurate IMU orientation estimation with bias estimation and magnetic
//! disturbance rejection", Information Fusion 91 (2023) 187–204, doi:10.1016/j.inffus.2022.10.014.
//!
//! The estimate is the product of three parts (paper §3):
//! - `q_inertial_from_sensor`: strapdown integration of the bias-corrected gyroscope;
//! - `q_earth6d_from_inertial`: the inclination correction. The accelerometer, rotated into the
//!   inertial frame, is low-pass filtered (second-order Butterworth, time constant `tau_acc_s`)
//!   and the correction turns the filtered vector straight up at every sample;
//! - the heading offset δ (9D): a first-order filter (`tau_mag_s`) of the disagreement between
//!   the horizontal magnetic field and the 6D frame's y axis, with magnetic disturbance
//!   detection (field norm and dip against a slowly adapted reference) and rejection.
//!
//! The gyroscope bias is a Kalman filter with a 3×3 covariance: at rest it is measured by the
//! low-passed gyroscope, in motion by the inclination correction rate expressed in the sensor
//! frame through the low-passed rotation matrix (the vertical part weakly pulled to zero).
//!
//! The floating-point results equal those of `vqf-rs` 0.3.0 (a port of the authors' C++, which we
//! used before and keep as the test oracle in `tests/vqf_equivalence.rs`) bit for bit on every
//! sample of the BROAD trials and our parity fixture, and those of the authors' C++ to 1.1e-8°
//! (`tests/vqf_parity.rs`): every operation that feeds an estimate is done in the same order.
//! What is faster is the structure around it: nothing is computed for debug outputs only (the
//! correction angular rates), the low-pass lanes are arrays the compiler vectorises, the
//! rest-phase Kalman update skips the products with R = I (exact: x·1 and x + 0·y are x for
//! finite values), the matrix products are written out, `q_earth6d_from_sensor` and its
//! rotation matrix are computed once per sample (docs/accuracy.md §4.3 has what each gave).
//!
//! Pure: no I/O, no clock. Owns the filter only; sample timing, gaps and restarts are
//! `super::OrientationFilter`'s.

use std::f64::consts::{PI, SQRT_2};

use crate::frames::Quat;

/// The tuning parameters of VQF. The defaults are the reference defaults; they do not depend
/// on the sample rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// Time constant of the accelerometer low-pass (the trust in the accelerometer against
    /// the gyroscope), s. Cut-off frequency √2 / (2π τ). Default 3 s.
    pub tau_acc_s: f64,
    /// Time constant of the heading correction from the magnetometer, s. Default 9 s.
    pub tau_mag_s: f64,
    /// Estimate the gyroscope bias during motion (from the inclination correction). Default on.
    pub motion_bias_estimation: bool,
    /// Detect rest and estimate the gyroscope bias during rest. Default on.
    pub rest_bias_estimation: bool,
    /// Detect magnetic disturbances and reject the magnetometer during them. Default on.
    pub mag_disturbance_rejection: bool,
    /// Standard deviation of the initial bias uncertainty, °/s. Default 0.5.
    pub bias_sigma_init_dps: f64,
    /// Time in which the bias uncertainty grows from 0 to 0.1 °/s (the Kalman filter's system
    /// noise), s. Default 100.
    pub bias_forgetting_time_s: f64,
    /// Largest expected bias, °/s: clips the estimate and the measurement error, and a larger
    /// low-passed rate is never rest. Default 2.
    pub bias_clip_dps: f64,
    /// Standard deviation of the converged bias uncertainty in motion, °/s. Default 0.1.
    pub bias_sigma_motion_dps: f64,
    /// Relative weight of the artificial zero measurement of the vertical bias in motion
    /// (unobservable without the magnetometer). Default 0.0001.
    pub bias_vertical_forgetting_factor: f64,
    /// Standard deviation of the converged bias uncertainty at rest, °/s. Default 0.03.
    pub bias_sigma_rest_dps: f64,
    /// How long the readings must stay near their low-passed values to be rest, s. Default 1.5.
    pub rest_min_time_s: f64,
    /// Time constant of the low-pass giving rest detection its reference, s. Default 0.5.
    pub rest_filter_tau_s: f64,
    /// Rest threshold on the gyroscope's deviation from its reference, °/s. Default 2.
    pub rest_threshold_gyr_dps: f64,
    /// Rest threshold on the accelerometer's deviation from its reference, m/s². Default 0.5.
    pub rest_threshold_acc_mps2: f64,
    /// Time constant of the (fast) low-pass of the measured field norm and dip, s; ≤ 0 turns
    /// it off. Default 0.05.
    pub mag_current_tau_s: f64,
    /// Time constant with which the field reference follows an undisturbed field, s. Default 20.
    pub mag_ref_tau_s: f64,
    /// Disturbance threshold on the field norm, relative to the reference norm. Default 0.1.
    pub mag_norm_threshold: f64,
    /// Disturbance threshold on the dip angle, °. Default 10.
    pub mag_dip_threshold_deg: f64,
    /// Time after which a different homogeneous field is accepted as the new reference, s
    /// (only time with enough rotation counts). Default 20.
    pub mag_new_time_s: f64,
    /// As `mag_new_time_s` for the first reference, s. Default 5.
    pub mag_new_first_time_s: f64,
    /// Rotation rate needed for time to count towards accepting a new field, °/s. Default 20.
    pub mag_new_min_gyr_dps: f64,
    /// Time within the thresholds after which the field is undisturbed again, s. Default 0.5.
    pub mag_min_undisturbed_time_s: f64,
    /// Longest full rejection of a disturbed magnetometer, s; after it the heading is
    /// corrected again, more slowly (`mag_rejection_factor`). Default 60.
    pub mag_max_rejection_time_s: f64,
    /// Slow-down of the heading correction in long disturbances (and the rate at which
    /// undisturbed time restores full rejection). Default 2.
    pub mag_rejection_factor: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            tau_acc_s: 3.0,
            tau_mag_s: 9.0,
            motion_bias_estimation: true,
            rest_bias_estimation: true,
            mag_disturbance_rejection: true,
            bias_sigma_init_dps: 0.5,
            bias_forgetting_time_s: 100.0,
            bias_clip_dps: 2.0,
            bias_sigma_motion_dps: 0.1,
            bias_vertical_forgetting_factor: 0.0001,
            bias_sigma_rest_dps: 0.03,
            rest_min_time_s: 1.5,
            rest_filter_tau_s: 0.5,
            rest_threshold_gyr_dps: 2.0,
            rest_threshold_acc_mps2: 0.5,
            mag_current_tau_s: 0.05,
            mag_ref_tau_s: 20.0,
            mag_norm_threshold: 0.1,
            mag_dip_threshold_deg: 10.0,
            mag_new_time_s: 20.0,
            mag_new_first_time_s: 5.0,
            mag_new_min_gyr_dps: 20.0,
            mag_min_undisturbed_time_s: 0.5,
            mag_max_rejection_time_s: 60.0,
            mag_rejection_factor: 2.0,
        }
    }
}

/// The causal VQF for one sensor at one nominal sample time.
///
/// For every sample call [`Vqf::update`] (or [`Vqf::update_gyr`], then [`Vqf::update_acc`],
/// then, 9D, [`Vqf::update_mag`]: the same results); read [`Vqf::quat_6d`] / [`Vqf::quat_9d`].
#[derive(Debug, Clone)]
pub struct Vqf {
    params: Params,
    coef: Coefficients,
    /// Strapdown integration of the gyroscope, `q_inertial_from_sensor`.
    gyr_quat: Q,
    /// Inclination correction, `q_earth6d_from_inertial`.
    acc_quat: Q,
    /// `acc_quat ⊗ gyr_quat` (`q_earth6d_from_sensor`) and its rotation matrix as of the last
    /// accelerometer step, used by the bias estimation, the magnetometer step and the
    /// output; `q6_current` is false after either quaternion changed since.
    q6: Q,
    r6: Mat3,
    q6_current: bool,
    /// Heading of the 6D earth frame in the world frame, rad in [−π, π].
    delta_rad: f64,
    /// Accelerometer in the inertial frame, low-passed with `tau_acc_s`.
    acc_lp: LowPass<3>,
    /// Gain of the fast initial heading convergence (1, 1/2, 1/3, … then 0).
    k_mag_init: f64,
    bias_rps: [f64; 3],
    /// Bias covariance, in (0.01 °/s)² (the reference's unit, for numerical range).
    bias_p: Mat3,
    /// The rotation matrix R (9 lanes, row-major) and the first two rows of R·bias (2 lanes)
    /// for the motion bias update, low-passed as the accelerometer is; one padding lane.
    motion_lp: LowPass<MOTION_LANES>,
    rest: RestDetection,
    mag: MagDetection,
}

/// Lanes of the motion bias low-pass (see [`Vqf::motion_lp`]), a multiple of two for SSE2.
const MOTION_LANES: usize = 12;

/// Quaternion `[w, x, y, z]` (Hamilton, scalar first), the filter's own storage.
type Q = [f64; 4];
type Mat3 = [[f64; 3]; 3];

#[derive(Debug, Clone)]
struct RestDetection {
    detected: bool,
    /// How long the readings have stayed within the thresholds, s.
    t_s: f64,
    gyr_lp: LowPass<3>,
    acc_lp: LowPass<3>,
}

#[derive(Debug, Clone)]
struct MagDetection {
    disturbed: bool,
    /// Accepted field reference (norm, dip in rad); norm 0 until one is accepted.
    ref_norm: f64,
    ref_dip_rad: f64,
    undisturbed_t_s: f64,
    reject_t_s: f64,
    /// The candidate for a new reference and how long the field has matched it.
    candidate_norm: f64,
    candidate_dip_rad: f64,
    candidate_t_s: f64,
    /// The current field's norm and dip, low-passed with `mag_current_tau_s` when that is > 0.
    norm_dip: [f64; 2],
    norm_dip_lp: LowPass<2>,
}

/// What the parameters and the sample time give, computed once.
#[derive(Debug, Clone, Copy)]
struct Coefficients {
    ts_s: f64,
    acc_lp: Butterworth2,
    rest_lp: Butterworth2,
    /// `None` when `mag_current_tau_s` ≤ 0.
    mag_norm_dip_lp: Option<Butterworth2>,
    k_mag: f64,
    k_mag_ref: f64,
    bias_p0: f64,
    bias_v: f64,
    bias_motion_w: f64,
    bias_vertical_w: f64,
    bias_rest_w: f64,
    bias_clip_rps: f64,
    rest_th_gyr_sq: f64,
    rest_th_acc_sq: f64,
    mag_dip_th_rad: f64,
    mag_new_min_gyr_rps: f64,
}

impl Coefficients {
    fn new(p: &Params, ts_s: f64) -> Self {
        let bias_p0 = square(p.bias_sigma_init_dps * 100.0);
        // The system noise takes the variance from 0 to (0.1 °/s)² in the forgetting time.
        let bias_v = square(0.1 * 100.0) * ts_s / p.bias_forgetting_time_s;
        // Measurement noise for which the variance converges to the given sigma.
        let converged_w = |sigma_dps: f64| {
            let p_conv = square(sigma_dps * 100.0);
            square(p_conv) / bias_v + p_conv
        };
        let bias_motion_w = converged_w(p.bias_sigma_motion_dps);
        Coefficients {
            ts_s,
            acc_lp: Butterworth2::new(p.tau_acc_s, ts_s),
            rest_lp: Butterworth2::new(p.rest_filter_tau_s, ts_s),
            mag_norm_dip_lp: (p.mag_current_tau_s > 0.0).then(|| Butterworth2::new(p.mag_current_tau_s, ts_s)),
            k_mag: gain_from_tau(p.tau_mag_s, ts_s),
            k_mag_ref: gain_from_tau(p.mag_ref_tau_s, ts_s),
            bias_p0,
            bias_v,
            bias_motion_w,
            bias_vertical_w: bias_motion_w / p.bias_vertical_forgetting_factor.max(1e-10),
            bias_rest_w: converged_w(p.bias_sigma_rest_dps),
            bias_clip_rps: p.bias_clip_dps * (PI / 180.0),
            rest_th_gyr_sq: square(p.rest_threshold_gyr_dps * (PI / 180.0)),
            rest_th_acc_sq: square(p.rest_threshold_acc_mps2),
            mag_dip_th_rad: p.mag_dip_threshold_deg * (PI / 180.0),
            mag_new_min_gyr_rps: p.mag_new_min_gyr_dps * PI / 180.0,
        }
    }
}

/// Gain of a first-order low-pass with time constant `tau_s` at sample time `ts_s`
/// (< 0: no update, 0: take the input).
pub(crate) fn gain_from_tau(tau_s: f64, ts_s: f64) -> f64 {
    if tau_s < 0.0 {
        0.0
    } else if tau_s == 0.0 {
        1.0
    } else {
        1.0 - (-ts_s / tau_s).exp()
    }
}

/// Second-order Butterworth low-pass (bilinear transform) with cut-off √2 / (2π τ).
#[derive(Debug, Clone, Copy)]
struct Butterworth2 {
    /// Numerator `[b0, 2 b0, b0]`: only b0 is kept, as `2 b0 · x` = `b0·x + b0·x` exactly.
    b0: f64,
    /// Denominator, a0 = 1.
    a1: f64,
    a2: f64,
    /// The first samples are averaged for this long (s) to start the filter in steady state.
    tau_s: f64,
    ts_s: f64,
}

impl Butterworth2 {
    fn new(tau_s: f64, ts_s: f64) -> Self {
        assert!(tau_s > 0.0 && ts_s > 0.0, "low-pass needs τ > 0 and Ts > 0");
        let [b0, a1, a2] = butterworth2_coefficients(tau_s, ts_s);
        Butterworth2 {
            b0,
            a1,
            a2,
            tau_s,
            ts_s,
        }
    }
}

/// `[b0, a1, a2]` of the second-order Butterworth low-pass with cut-off √2 / (2π τ) at
/// sample time `ts_s` (bilinear transform with pre-warping; b1 = 2 b0, b2 = b0, a0 = 1), in
/// the reference's order of operations. Also the offline VQF's low-pass
/// (`offline_vqf::Butterworth2`).
pub(crate) fn butterworth2_coefficients(tau_s: f64, ts_s: f64) -> [f64; 3] {
    let fc_hz = (SQRT_2 / (2.0 * PI)) / tau_s;
    let c = (PI * fc_hz * ts_s).tan();
    let d = c * c + SQRT_2 * c + 1.0;
    [c * c / d, 2.0 * (c * c - 1.0) / d, (1.0 - SQRT_2 * c + c * c) / d]
}

/// N lanes of one [`Butterworth2`], as arrays (structure of arrays) so that the steps of all
/// lanes vectorise. Starts by averaging its inputs for τ, then runs from the steady state of
/// that average (so that no single first sample decides the start).
#[derive(Debug, Clone, Copy)]
struct LowPass<const N: usize> {
    /// Transposed direct form II state; while warming up, `s1` holds the running sums.
    s0: [f64; N],
    s1: [f64; N],
    /// The last output.
    y: [f64; N],
    /// Samples averaged so far; `None` once the filter runs.
    warmup_count: Option<f64>,
}

// Each lane indexes several arrays (input, state, output) at once.
#[allow(clippy::needless_range_loop)]
impl<const N: usize> LowPass<N> {
    fn new() -> Self {
        LowPass {
            s0: [0.0; N],
            s1: [0.0; N],
            y: [0.0; N],
            warmup_count: Some(0.0),
        }
    }

    #[inline(always)]
    fn step(&mut self, x: &[f64; N], c: &Butterworth2) -> &[f64; N] {
        match self.warmup_count {
            None => {
                for i in 0..N {
                    let bx = c.b0 * x[i];
                    let y = bx + self.s0[i];
                    self.s0[i] = (bx + bx) - c.a1 * y + self.s1[i];
                    self.s1[i] = bx - c.a2 * y;
                    self.y[i] = y;
                }
            }
            Some(n) => self.warm_up(x, c, n + 1.0),
        }
        &self.y
    }

    #[cold]
    fn warm_up(&mut self, x: &[f64; N], c: &Butterworth2, count: f64) {
        for i in 0..N {
            self.s1[i] += x[i];
            self.y[i] = self.s1[i] / count;
        }
        if count * c.ts_s >= c.tau_s {
            // Steady state for a constant input y: set y = x = mean in the difference equations.
            for i in 0..N {
                self.s0[i] = self.y[i] * (1.0 - c.b0);
                self.s1[i] = self.y[i] * (c.b0 - c.a2);
            }
            self.warmup_count = None;
        } else {
            self.warmup_count = Some(count);
        }
    }
}

#[inline(always)]
fn square(x: f64) -> f64 {
    x * x
}

#[inline(always)]
fn quat_mul(a: &Q, b: &Q) -> Q {
    [
        a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
        a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
        a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
        a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0],
    ]
}

/// Normalise in place (left alone when the norm is below machine epsilon).
#[inline(always)]
fn normalize<const N: usize>(v: &mut [f64; N]) {
    let n = norm(v);
    if n >= f64::EPSILON {
        for x in v.iter_mut() {
            *x /= n;
        }
    }
}

#[inline(always)]
fn norm<const N: usize>(v: &[f64; N]) -> f64 {
    let mut s = v[0] * v[0];
    for x in &v[1..] {
        s += x * x;
    }
    s.sqrt()
}

/// The rotation matrix of a unit quaternion, so that `q ⊗ v ⊗ q*` = `rotation_matrix(q) · v`.
#[inline(always)]
fn rotation_matrix(q: &Q) -> Mat3 {
    let [w, x, y, z] = *q;
    [
        [
            1.0 - 2.0 * y * y - 2.0 * z * z,
            2.0 * (y * x - w * z),
            2.0 * (w * y + z * x),
        ],
        [
            2.0 * (w * z + y * x),
            1.0 - 2.0 * x * x - 2.0 * z * z,
            2.0 * (y * z - x * w),
        ],
        [
            2.0 * (z * x - w * y),
            2.0 * (w * x + z * y),
            1.0 - 2.0 * x * x - 2.0 * y * y,
        ],
    ]
}

#[inline(always)]
fn mat_vec(m: &Mat3, v: &[f64; 3]) -> [f64; 3] {
    std::array::from_fn(|i| m[i][0] * v[0] + m[i][1] * v[1] + m[i][2] * v[2])
}

#[inline(always)]
fn rotate(q: &Q, v: &[f64; 3]) -> [f64; 3] {
    mat_vec(&rotation_matrix(q), v)
}

/// `a · b`
#[inline(always)]
fn mat_mul(a: &Mat3, b: &Mat3) -> Mat3 {
    std::array::from_fn(|i| std::array::from_fn(|j| a[i][0] * b[0][j] + a[i][1] * b[1][j] + a[i][2] * b[2][j]))
}

/// `a · bᵀ`
#[inline(always)]
fn mat_mul_bt(a: &Mat3, b: &Mat3) -> Mat3 {
    std::array::from_fn(|i| std::array::from_fn(|j| a[i][0] * b[j][0] + a[i][1] * b[j][1] + a[i][2] * b[j][2]))
}

/// `aᵀ · b`
#[inline(always)]
fn mat_mul_at(a: &Mat3, b: &Mat3) -> Mat3 {
    std::array::from_fn(|i| std::array::from_fn(|j| a[0][i] * b[0][j] + a[1][i] * b[1][j] + a[2][i] * b[2][j]))
}

/// Inverse by cofactors; `None` when the determinant is within machine epsilon of zero.
#[inline(always)]
fn invert(m: &Mat3) -> Option<Mat3> {
    let c00 = m[1][1] * m[2][2] - m[1][2] * m[2][1];
    let c01 = m[0][2] * m[2][1] - m[0][1] * m[2][2];
    let c02 = m[0][1] * m[1][2] - m[0][2] * m[1][1];
    let c10 = m[1][2] * m[2][0] - m[1][0] * m[2][2];
    let c11 = m[0][0] * m[2][2] - m[0][2] * m[2][0];
    let c12 = m[0][2] * m[1][0] - m[0][0] * m[1][2];
    let c20 = m[1][0] * m[2][1] - m[1][1] * m[2][0];
    let c21 = m[0][1] * m[2][0] - m[0][0] * m[2][1];
    let c22 = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    let det = m[0][0] * c00 + m[0][1] * c10 + m[0][2] * c20;
    if (-f64::EPSILON..=f64::EPSILON).contains(&det) {
        return None;
    }
    Some([
        [c00 / det, c01 / det, c02 / det],
        [c10 / det, c11 / det, c12 / det],
        [c20 / det, c21 / det, c22 / det],
    ])
}

fn clip(v: &mut [f64; 3], limit: f64) {
    for x in v.iter_mut() {
        if *x < -limit {
            *x = -limit;
        } else if *x > limit {
            *x = limit;
        }
    }
}

/// Wrap an angle that is at most one turn outside [−π, π] back into it.
#[inline(always)]
pub(crate) fn wrap_pi(a: f64) -> f64 {
    if a > PI {
        a - 2.0 * PI
    } else if a < -PI {
        a + 2.0 * PI
    } else {
        a
    }
}

impl Vqf {
    /// A filter for samples `ts_s` apart, at its initial state (identity orientation, zero
    /// bias).
    ///
    /// # Panics
    /// If `ts_s` or a low-pass time constant (`tau_acc_s`, `rest_filter_tau_s`) is not > 0.
    pub fn new(ts_s: f64, params: Params) -> Self {
        let coef = Coefficients::new(&params, ts_s);
        Vqf {
            params,
            gyr_quat: [1.0, 0.0, 0.0, 0.0],
            acc_quat: [1.0, 0.0, 0.0, 0.0],
            q6: [1.0, 0.0, 0.0, 0.0],
            r6: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
            q6_current: true,
            delta_rad: 0.0,
            acc_lp: LowPass::new(),
            k_mag_init: 1.0,
            bias_rps: [0.0; 3],
            bias_p: [
                [coef.bias_p0, 0.0, 0.0],
                [0.0, coef.bias_p0, 0.0],
                [0.0, 0.0, coef.bias_p0],
            ],
            motion_lp: LowPass::new(),
            rest: RestDetection {
                detected: false,
                t_s: 0.0,
                gyr_lp: LowPass::new(),
                acc_lp: LowPass::new(),
            },
            mag: MagDetection {
                disturbed: true,
                ref_norm: 0.0,
                ref_dip_rad: 0.0,
                undisturbed_t_s: 0.0,
                reject_t_s: params.mag_max_rejection_time_s,
                candidate_norm: -1.0,
                candidate_dip_rad: 0.0,
                candidate_t_s: 0.0,
                norm_dip: [0.0; 2],
                norm_dip_lp: LowPass::new(),
            },
            coef,
        }
    }

    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Gyroscope step (rad/s, sensor frame), integrated over `dt_s` (the sample's own
    /// interval); rest detection's gyroscope part.
    #[inline]
    pub fn update_gyr(&mut self, gyr_rps: [f64; 3], dt_s: f64) {
        if self.params.rest_bias_estimation || self.params.mag_disturbance_rejection {
            let lp = *self.rest.gyr_lp.step(&gyr_rps, &self.coef.rest_lp);
            let deviation_sq = square(gyr_rps[0] - lp[0]) + square(gyr_rps[1] - lp[1]) + square(gyr_rps[2] - lp[2]);
            let clip = self.coef.bias_clip_rps;
            if deviation_sq >= self.coef.rest_th_gyr_sq
                || lp[0].abs() > clip
                || lp[1].abs() > clip
                || lp[2].abs() > clip
            {
                self.rest.t_s = 0.0;
                self.rest.detected = false;
            }
        }
        let w = [
            gyr_rps[0] - self.bias_rps[0],
            gyr_rps[1] - self.bias_rps[1],
            gyr_rps[2] - self.bias_rps[2],
        ];
        let rate = norm(&w);
        if rate > f64::EPSILON {
            let half_angle = rate * dt_s / 2.0;
            let (sin, cos) = half_angle.sin_cos();
            let s = sin / rate;
            self.gyr_quat = quat_mul(&self.gyr_quat, &[cos, s * w[0], s * w[1], s * w[2]]);
            normalize(&mut self.gyr_quat);
            self.q6_current = false;
        }
    }

    /// One sample: the same results as [`Self::update_gyr`], [`Self::update_acc`] and (with a
    /// magnetometer reading) [`Self::update_mag`] in that order, faster. The magnetometer step
    /// neither reads nor writes what the bias estimation does (bias, covariance, their
    /// low-passes), so it runs first: its work then overlaps the bias update, which is on the
    /// chain every next sample waits for (bias → gyroscope step → inclination → bias).
    #[inline]
    pub fn update(&mut self, gyr_rps: [f64; 3], dt_s: f64, acc_mps2: [f64; 3], mag: Option<[f64; 3]>) {
        self.update_gyr(gyr_rps, dt_s);
        let up = self.update_inclination(acc_mps2);
        if let Some(mag) = mag {
            self.update_mag(mag);
        }
        if let Some(up) = up {
            self.estimate_bias(&up);
        }
    }

    /// Accelerometer step (m/s², sensor frame): rest detection, inclination correction, bias
    /// estimation. An all-zero reading is skipped.
    #[inline]
    pub fn update_acc(&mut self, acc_mps2: [f64; 3]) {
        if let Some(up) = self.update_inclination(acc_mps2) {
            self.estimate_bias(&up);
        }
    }

    /// The accelerometer step up to the bias estimation; returns the normalised low-passed
    /// acceleration in the 6D earth frame (before this step's correction) when the bias is
    /// to be estimated, `None` if not (or for an all-zero reading, which is skipped).
    #[inline(always)]
    fn update_inclination(&mut self, acc_mps2: [f64; 3]) -> Option<[f64; 3]> {
        if acc_mps2 == [0.0; 3] {
            return None;
        }
        if self.params.rest_bias_estimation {
            self.detect_rest_acc(&acc_mps2);
        }

        let acc_inertial = rotate(&self.gyr_quat, &acc_mps2);
        let acc_lp = *self.acc_lp.step(&acc_inertial, &self.coef.acc_lp);
        let mut up = rotate(&self.acc_quat, &acc_lp);
        normalize(&mut up);

        // The shortest rotation (about a horizontal axis) taking `up` to +z.
        let w = ((up[2] + 1.0) / 2.0).sqrt();
        self.acc_quat = if w > 1e-6 {
            // z of the correction is zero: its terms in the product drop out exactly.
            let (x, y) = (0.5 * up[1] / w, -0.5 * up[0] / w);
            let a = &self.acc_quat;
            [
                w * a[0] - x * a[1] - y * a[2],
                w * a[1] + x * a[0] + y * a[3],
                w * a[2] - x * a[3] + y * a[0],
                w * a[3] + x * a[2] - y * a[1],
            ]
        } else {
            // `up` within 0.00011° of straight down: any half turn about a horizontal axis.
            quat_mul(&[0.0, 1.0, 0.0, 1.0], &self.acc_quat)
        };
        normalize(&mut self.acc_quat);
        self.refresh_q6();
        (self.params.motion_bias_estimation || self.params.rest_bias_estimation).then_some(up)
    }

    #[inline(always)]
    fn refresh_q6(&mut self) {
        self.q6 = quat_mul(&self.acc_quat, &self.gyr_quat);
        self.r6 = rotation_matrix(&self.q6);
        self.q6_current = true;
    }

    #[inline(always)]
    fn detect_rest_acc(&mut self, acc_mps2: &[f64; 3]) {
        let lp = *self.rest.acc_lp.step(acc_mps2, &self.coef.rest_lp);
        let deviation_sq = square(acc_mps2[0] - lp[0]) + square(acc_mps2[1] - lp[1]) + square(acc_mps2[2] - lp[2]);
        if deviation_sq >= self.coef.rest_th_acc_sq {
            self.rest.t_s = 0.0;
            self.rest.detected = false;
        } else {
            self.rest.t_s += self.coef.ts_s;
            if self.rest.t_s >= self.params.rest_min_time_s {
                self.rest.detected = true;
            }
        }
    }

    /// The bias Kalman filter; `up` is the normalised low-passed acceleration in the 6D earth
    /// frame before this step's correction.
    #[inline(always)]
    fn estimate_bias(&mut self, up: &[f64; 3]) {
        let b = self.bias_rps;
        let r = self.r6;
        let rb = [
            r[0][0] * b[0] + r[0][1] * b[1] + r[0][2] * b[2],
            r[1][0] * b[0] + r[1][1] * b[1] + r[1][2] * b[2],
        ];
        let lanes = [
            r[0][0], r[0][1], r[0][2], r[1][0], r[1][1], r[1][2], r[2][0], r[2][1], r[2][2], rb[0], rb[1], 0.0,
        ];
        let lp = self.motion_lp.step(&lanes, &self.coef.acc_lp);
        let r_lp: Mat3 = [[lp[0], lp[1], lp[2]], [lp[3], lp[4], lp[5]], [lp[6], lp[7], lp[8]]];
        let rb_lp = [lp[9], lp[10]];

        let at_rest = self.rest.detected && self.params.rest_bias_estimation;
        // Step 1 of the update, P = P + V, also without a measurement.
        for i in 0..3 {
            if self.bias_p[i][i] < self.coef.bias_p0 {
                self.bias_p[i][i] += self.coef.bias_v;
            }
        }
        if at_rest {
            // Measurement: the low-passed gyroscope, H = I.
            let lp = &self.rest.gyr_lp.y;
            let mut e = [lp[0] - b[0], lp[1] - b[1], lp[2] - b[2]];
            clip(&mut e, self.coef.bias_clip_rps);
            self.kalman_update_identity(&e, self.coef.bias_rest_w);
        } else if self.params.motion_bias_estimation {
            // Measurement: the inclination correction rate, rotated back with the low-passed R.
            let ts = self.coef.ts_s;
            let mut e = [
                -up[1] / ts + rb_lp[0] - r_lp[0][0] * b[0] - r_lp[0][1] * b[1] - r_lp[0][2] * b[2],
                up[0] / ts + rb_lp[1] - r_lp[1][0] * b[0] - r_lp[1][1] * b[1] - r_lp[1][2] * b[2],
                -r_lp[2][0] * b[0] - r_lp[2][1] * b[1] - r_lp[2][2] * b[2],
            ];
            clip(&mut e, self.coef.bias_clip_rps);
            let w = [
                self.coef.bias_motion_w,
                self.coef.bias_motion_w,
                self.coef.bias_vertical_w,
            ];
            self.kalman_update(&r_lp, &e, &w);
        }
    }

    /// Kalman steps 2–4 with measurement matrix `r`, innovation `e` and noise `diag(w)`.
    #[inline(always)]
    fn kalman_update(&mut self, r: &Mat3, e: &[f64; 3], w: &[f64; 3]) {
        let p = &self.bias_p;
        let mut s = mat_mul(r, &mat_mul_bt(p, r)); // W + R P Rᵀ
        for i in 0..3 {
            s[i][i] += w[i];
        }
        let Some(s_inv) = invert(&s) else {
            return;
        };
        let k = mat_mul(p, &mat_mul_at(r, &s_inv)); // P Rᵀ S⁻¹
        self.apply_gain(&k, e, &mat_mul(&mat_mul(&k, r), p));
    }

    /// [`Self::kalman_update`] with R = I (at rest) and the same noise on every axis: the
    /// products with I are left out, which changes no bit (x·1 = x, x + 0·y = x).
    #[inline(always)]
    fn kalman_update_identity(&mut self, e: &[f64; 3], w: f64) {
        let p = &self.bias_p;
        let mut s = *p;
        for (i, row) in s.iter_mut().enumerate() {
            row[i] += w;
        }
        let Some(s_inv) = invert(&s) else {
            return;
        };
        let k = mat_mul(p, &s_inv);
        self.apply_gain(&k, e, &mat_mul(&k, p));
    }

    /// bias += K e, P −= K R P (given as `krp`), then clip the bias.
    #[inline(always)]
    fn apply_gain(&mut self, k: &Mat3, e: &[f64; 3], krp: &Mat3) {
        for (b, step) in self.bias_rps.iter_mut().zip(mat_vec(k, e)) {
            *b += step;
        }
        for (p_row, krp_row) in self.bias_p.iter_mut().zip(krp) {
            for (p, krp) in p_row.iter_mut().zip(krp_row) {
                *p -= krp;
            }
        }
        clip(&mut self.bias_rps, self.coef.bias_clip_rps);
    }

    /// Magnetometer step (any unit, sensor frame): disturbance detection, heading
    /// correction. An all-zero reading is skipped.
    #[inline]
    pub fn update_mag(&mut self, mag: [f64; 3]) {
        if mag == [0.0; 3] {
            return;
        }
        if !self.q6_current {
            self.refresh_q6();
        }
        let mag_earth = mat_vec(&self.r6, &mag);
        if self.params.mag_disturbance_rejection {
            self.detect_mag_disturbance(&mag_earth);
        }

        let disagreement_rad = wrap_pi(mag_earth[0].atan2(mag_earth[1]) - self.delta_rad);
        let mut k = self.coef.k_mag;
        if self.params.mag_disturbance_rejection {
            let m = &mut self.mag;
            if m.disturbed {
                if m.reject_t_s <= self.params.mag_max_rejection_time_s {
                    m.reject_t_s += self.coef.ts_s;
                    k = 0.0;
                } else {
                    k /= self.params.mag_rejection_factor;
                }
            } else {
                m.reject_t_s = 0f64.max(m.reject_t_s - self.params.mag_rejection_factor * self.coef.ts_s);
            }
        }
        // Fast initial convergence: a gain of at least 1/N at the N-th sample, for tau_mag.
        if self.k_mag_init != 0.0 {
            if k < self.k_mag_init {
                k = self.k_mag_init;
            }
            self.k_mag_init = self.k_mag_init / (self.k_mag_init + 1.0);
            if self.k_mag_init * self.params.tau_mag_s < self.coef.ts_s {
                self.k_mag_init = 0.0;
            }
        }
        self.delta_rad = wrap_pi(self.delta_rad + k * disagreement_rad);
    }

    #[inline(always)]
    fn detect_mag_disturbance(&mut self, mag_earth: &[f64; 3]) {
        let p = &self.params;
        let m = &mut self.mag;
        let n = norm(mag_earth);
        m.norm_dip = [n, -(mag_earth[2] / n).asin()];
        if let Some(c) = &self.coef.mag_norm_dip_lp {
            m.norm_dip = *m.norm_dip_lp.step(&m.norm_dip, c);
        }
        let [field_norm, dip] = m.norm_dip;
        let dip_th = self.coef.mag_dip_th_rad;
        let k_ref = self.coef.k_mag_ref;

        if (field_norm - m.ref_norm).abs() < p.mag_norm_threshold * m.ref_norm && (dip - m.ref_dip_rad).abs() < dip_th {
            m.undisturbed_t_s += self.coef.ts_s;
            if m.undisturbed_t_s >= p.mag_min_undisturbed_time_s {
                m.disturbed = false;
                m.ref_norm += k_ref * (field_norm - m.ref_norm);
                m.ref_dip_rad += k_ref * (dip - m.ref_dip_rad);
            }
        } else {
            m.undisturbed_t_s = 0.0;
            m.disturbed = true;
        }

        // A different homogeneous field becomes the reference after enough time (with rotation).
        if (field_norm - m.candidate_norm).abs() < p.mag_norm_threshold * m.candidate_norm
            && (dip - m.candidate_dip_rad).abs() < dip_th
        {
            if norm(&self.rest.gyr_lp.y) >= self.coef.mag_new_min_gyr_rps {
                m.candidate_t_s += self.coef.ts_s;
            }
            m.candidate_norm += k_ref * (field_norm - m.candidate_norm);
            m.candidate_dip_rad += k_ref * (dip - m.candidate_dip_rad);
            if m.disturbed
                && (m.candidate_t_s >= p.mag_new_time_s
                    || (m.ref_norm == 0.0 && m.candidate_t_s >= p.mag_new_first_time_s))
            {
                m.ref_norm = m.candidate_norm;
                m.ref_dip_rad = m.candidate_dip_rad;
                m.disturbed = false;
                m.undisturbed_t_s = p.mag_min_undisturbed_time_s;
            }
        } else {
            m.candidate_t_s = 0.0;
            m.candidate_norm = field_norm;
            m.candidate_dip_rad = dip;
        }
    }

    /// 6D orientation `q_earth6d_from_sensor` (z up, heading arbitrary but continuous).
    #[inline]
    pub fn quat_6d(&self) -> Quat {
        to_quat(self.q6())
    }

    #[inline(always)]
    fn q6(&self) -> Q {
        if self.q6_current {
            self.q6
        } else {
            quat_mul(&self.acc_quat, &self.gyr_quat)
        }
    }

    /// 9D orientation `q_world_from_sensor` (the 6D one turned by the heading offset).
    #[inline]
    pub fn quat_9d(&self) -> Quat {
        let q = self.q6();
        let (s, c) = (self.delta_rad / 2.0).sin_cos();
        Quat::new(
            c * q[0] - s * q[3],
            c * q[1] - s * q[2],
            c * q[2] + s * q[1],
            c * q[3] + s * q[0],
        )
    }

    /// The gyroscope integration alone, `q_inertial_from_sensor`.
    pub fn quat_3d(&self) -> Quat {
        to_quat(self.gyr_quat)
    }

    /// The inclination correction `q_earth6d_from_inertial`.
    pub fn inclination_correction(&self) -> Quat {
        to_quat(self.acc_quat)
    }

    /// Replace the inclination correction (e.g. to take the inclination from gravity at once).
    pub fn set_inclination_correction(&mut self, q_earth6d_from_inertial: Quat) {
        let q = q_earth6d_from_inertial;
        self.acc_quat = [q.w, q.x, q.y, q.z];
        self.q6_current = false;
    }

    /// Heading offset δ of the 6D earth frame from the world frame, rad.
    pub fn delta_rad(&self) -> f64 {
        self.delta_rad
    }

    pub fn rest_detected(&self) -> bool {
        self.rest.detected
    }

    pub fn mag_dist_detected(&self) -> bool {
        self.mag.disturbed
    }

    /// Gyroscope bias estimate, rad/s, sensor frame.
    pub fn bias_rps(&self) -> [f64; 3] {
        self.bias_rps
    }

    /// Replace the bias estimate (rad/s); its covariance is kept.
    pub fn set_bias_rps(&mut self, bias_rps: [f64; 3]) {
        self.bias_rps = bias_rps;
    }

    /// Bias covariance in the filter's unit, (0.01 °/s)².
    pub fn bias_covariance(&self) -> [[f64; 3]; 3] {
        self.bias_p
    }

    /// Uncertainty of the bias in its worst direction, rad/s (Gershgorin bound of the
    /// covariance's largest eigenvalue, at most the initial uncertainty).
    pub fn bias_sigma_rps(&self) -> f64 {
        let row = |i: usize| self.bias_p[i].iter().map(|v| v.abs()).sum::<f64>();
        let p = row(0).max(row(1)).max(row(2)).min(self.coef.bias_p0);
        p.sqrt() * (PI / 100.0 / 180.0)
    }

    /// Restart the accelerometer low-pass: its next samples are averaged afresh and the
    /// inclination follows them fully, as at start-up.
    pub fn restart_acc_lowpass(&mut self) {
        self.acc_lp = LowPass::new();
    }

    /// Restart the fast initial heading convergence (gains 1, 1/2, 1/3, … for `tau_mag_s`).
    pub fn restart_heading_convergence(&mut self) {
        self.k_mag_init = 1.0;
    }

    /// Turn a filter that ran over the time-reversed recording (negated rates) into one that
    /// continues forwards from the same orientation: the bias changes sign, and the low-passes
    /// of rates (rest detection's gyroscope reference, with its rest timer, and the motion
    /// bias inputs) restart from the next sample rather than carry the reversed sign.
    pub fn reverse_time(&mut self) {
        self.bias_rps = self.bias_rps.map(|b| -b);
        self.rest.gyr_lp = LowPass::new();
        self.rest.t_s = 0.0;
        self.motion_lp = LowPass::new();
    }
}

fn to_quat(q: Q) -> Quat {
    Quat::new(q[0], q[1], q[2], q[3])
}
