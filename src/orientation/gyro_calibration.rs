//! Offline gyroscope self-calibration from the accelerometer: a 3×3 correction `K` so
//! that `K (ω − b)` integrates to orientations in which gravity stays put.
//!
//! Why: on fast recordings the 6D heading drifts while the sensor turns, not at rest, so
//! the drift comes from scale-factor and axis errors of the gyroscope, not its bias. The
//! accelerometer cannot see a heading error when it happens, but the same gyro error makes
//! gravity wander in the integrated (inertial) frame whenever the sensor turns about other
//! axes, and over a whole recording that is observable.
//!
//! How: integrate `K (ω − b)` to `q_inertial_from_sensor`, rotate the accelerometer into
//! that frame, average it over `smoothing_s` (linear and centripetal accelerations of a
//! hand-held motion mostly cancel), cut the recording into segments of `segment_s`
//! seconds and take as residuals the deviations from each segment's mean (gravity is
//! constant within a segment; slow drift across segments is left to the inclination
//! correction). `K = I + E` with `E` symmetric (scale factors and axis non-orthogonality;
//! a rotation of the gyro axes against the accelerometer's is not fitted: it soaks up
//! accelerations), found by damped Gauss–Newton with numerical derivatives.
//!
//! A fit is used only if it explains a large share of the residual (`min_improvement`),
//! stays small (`max_correction`) and holds out of sample: the fit to each half of the
//! recording must remove at least `min_cross_improvement` of the other half's residual.
//! Otherwise `K = I`: a wrong correction costs more heading than none (see
//! docs/offline-orientation.md).
//!
//! Pure: no I/O.

use crate::frames::{Quat, Vec3, scale, sub};
use crate::stream::ImuSample;

#[derive(Debug, Clone, Copy)]
pub struct GyroCalibrationSettings {
    /// Length of the segments within which gravity counts as constant, s.
    pub segment_s: f64,
    /// The inertial-frame acceleration is first averaged over this window (s): linear
    /// and centripetal accelerations of a hand-held motion mostly cancel over it, while a
    /// gyro error's effect (a slow turn of gravity) remains.
    pub smoothing_s: f64,
    /// Gauss–Newton iterations.
    pub iterations: usize,
    /// Largest accepted entry of `K − I` (a real gyro is within a few per cent).
    pub max_correction: f64,
    /// Required relative decrease of the residual sum of squares to accept `K`.
    pub min_improvement: f64,
    /// Largest allowed difference between the fits to the two halves of the recording
    /// (any entry); `f64::INFINITY` skips this check.
    pub max_half_disagreement: f64,
    /// Each half's fit must remove at least this share of the other half's residual
    /// (out-of-sample check); `f64::NEG_INFINITY` skips it.
    pub min_cross_improvement: f64,
    /// Use every n-th sample for the residuals (speed; the integration uses all samples).
    pub stride: usize,
}

impl Default for GyroCalibrationSettings {
    fn default() -> Self {
        GyroCalibrationSettings {
            segment_s: 15.0,
            smoothing_s: 8.0,
            iterations: 4,
            max_correction: 0.03,
            min_improvement: 0.3,
            max_half_disagreement: f64::INFINITY,
            min_cross_improvement: 0.5,
            stride: 4,
        }
    }
}

/// A 3×3 matrix, row-major.
pub type Mat3 = [[f64; 3]; 3];

pub const IDENTITY: Mat3 = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];

pub fn apply(k: &Mat3, v: Vec3) -> Vec3 {
    std::array::from_fn(|r| k[r][0] * v[0] + k[r][1] * v[1] + k[r][2] * v[2])
}

/// The result of a calibration attempt.
#[derive(Debug, Clone, Copy)]
pub struct GyroCalibration {
    /// The correction to use: the fit if accepted, else identity.
    pub k: Mat3,
    /// The fitted correction, accepted or not.
    pub k_fit: Mat3,
    /// Residual sum of squares before and after, (m/s²)².
    pub cost_before: f64,
    pub cost_after: f64,
    pub accepted: bool,
    /// Largest entry of |K(first half) − K(second half)|, when checked.
    pub half_disagreement: Option<f64>,
    /// The smaller of the residual shares that each half's fit removes on the other half.
    pub cross_improvement: Option<f64>,
}

/// Estimate `K` for `samples` whose gyro bias is `gyr_bias_sensor_rps` (per sample).
pub fn calibrate_gyro(
    samples: &[ImuSample],
    gyr_bias_sensor_rps: &[Vec3],
    dt_s: &[f64],
    s: &GyroCalibrationSettings,
) -> GyroCalibration {
    let mut whole = fit(samples, gyr_bias_sensor_rps, dt_s, s);
    if whole.accepted && (s.max_half_disagreement.is_finite() || s.min_cross_improvement > f64::NEG_INFINITY) {
        // The correction must be reproducible: fit each half of the recording on its own.
        let mid = samples.len() / 2;
        let first = fit(&samples[..mid], &gyr_bias_sensor_rps[..mid], &dt_s[..mid], s);
        let second = fit(&samples[mid..], &gyr_bias_sensor_rps[mid..], &dt_s[mid..], s);
        let disagreement = (0..3)
            .flat_map(|r| (0..3).map(move |c| (r, c)))
            .map(|(r, c)| (first.k_fit[r][c] - second.k_fit[r][c]).abs())
            .fold(0.0, f64::max);
        whole.half_disagreement = Some(disagreement);
        // Cross-validation: how much of each half's residual the other half's fit removes.
        let half_cost = |range: std::ops::Range<usize>, k: &Mat3| {
            cost_of(
                &samples[range.clone()],
                &gyr_bias_sensor_rps[range.clone()],
                &dt_s[range],
                s,
                k,
            )
        };
        let n = samples.len();
        let first_by_second = 1.0 - half_cost(0..mid, &second.k_fit) / half_cost(0..mid, &IDENTITY);
        let second_by_first = 1.0 - half_cost(mid..n, &first.k_fit) / half_cost(mid..n, &IDENTITY);
        let cross = first_by_second.min(second_by_first);
        whole.cross_improvement = Some(cross);
        if cross < s.min_cross_improvement {
            whole.accepted = false;
            whole.k = IDENTITY;
        }
        if disagreement > s.max_half_disagreement {
            whole.accepted = false;
            whole.k = IDENTITY;
        }
    }
    whole
}

/// Residual sum of squares over `samples` with correction `k` (its symmetric part).
fn cost_of(
    samples: &[ImuSample],
    gyr_bias_sensor_rps: &[Vec3],
    dt_s: &[f64],
    s: &GyroCalibrationSettings,
    k: &Mat3,
) -> f64 {
    let p = Problem::new(samples, gyr_bias_sensor_rps, dt_s, s);
    let e = [
        k[0][0] - 1.0,
        k[1][1] - 1.0,
        k[2][2] - 1.0,
        (k[0][1] + k[1][0]) / 2.0,
        (k[0][2] + k[2][0]) / 2.0,
        (k[1][2] + k[2][1]) / 2.0,
    ];
    p.residuals(&e).iter().map(|v| v * v).sum()
}

/// What the residuals of one fit depend on besides the parameters.
struct Problem<'a> {
    samples: &'a [ImuSample],
    rates_rps: Vec<Vec3>,
    dt_s: &'a [f64],
    segments: Vec<usize>,
    stride: usize,
    smooth_n: usize,
}

impl<'a> Problem<'a> {
    fn new(
        samples: &'a [ImuSample],
        gyr_bias_sensor_rps: &[Vec3],
        dt_s: &'a [f64],
        s: &GyroCalibrationSettings,
    ) -> Self {
        let stride = s.stride.max(1);
        let ts = crate::orientation::nominal_sample_time_s(samples.iter().map(|x| x.t_s));
        Problem {
            samples,
            rates_rps: samples
                .iter()
                .zip(gyr_bias_sensor_rps)
                .map(|(x, b)| sub(x.gyr_sensor_rps, *b))
                .collect(),
            dt_s,
            segments: segment_ids(samples, s.segment_s),
            stride,
            smooth_n: ((s.smoothing_s / (ts * stride as f64)).round() as usize).max(1),
        }
    }

    fn residuals(&self, e: &[f64; NP]) -> Vec<f64> {
        residuals(
            self.samples,
            &self.rates_rps,
            self.dt_s,
            &self.segments,
            e,
            self.stride,
            self.smooth_n,
        )
    }
}

/// One least-squares fit over `samples`, with the improvement and size checks.
fn fit(
    samples: &[ImuSample],
    gyr_bias_sensor_rps: &[Vec3],
    dt_s: &[f64],
    s: &GyroCalibrationSettings,
) -> GyroCalibration {
    let p = Problem::new(samples, gyr_bias_sensor_rps, dt_s, s);
    let residuals = |e: &[f64; NP]| p.residuals(e);
    let cost = |r: &[f64]| r.iter().map(|v| v * v).sum::<f64>();

    let mut e = [0.0; NP];
    let mut r0 = residuals(&e);
    let cost_before = cost(&r0);
    let mut cost_now = cost_before;
    let mut damping = 1e-3;
    const H: f64 = 1e-4;
    for _ in 0..s.iterations {
        // Numerical Jacobian, one column per entry of E, folded straight into JᵀJ and Jᵀr.
        let cols: Vec<Vec<f64>> = (0..NP)
            .map(|p| {
                let mut ep = e;
                ep[p] += H;
                residuals(&ep).iter().zip(&r0).map(|(a, b)| (a - b) / H).collect()
            })
            .collect();
        let mut jtj = [[0.0; NP]; NP];
        let mut jtr = [0.0; NP];
        for a in 0..NP {
            jtr[a] = cols[a].iter().zip(&r0).map(|(j, r)| j * r).sum();
            for b in a..NP {
                let v: f64 = cols[a].iter().zip(&cols[b]).map(|(x, y)| x * y).sum();
                jtj[a][b] = v;
                jtj[b][a] = v;
            }
        }
        // Levenberg–Marquardt: retry with more damping until the cost drops.
        let mut improved = false;
        for _ in 0..6 {
            let mut m = jtj;
            for (a, row) in m.iter_mut().enumerate() {
                row[a] += damping * jtj[a][a].max(1e-12);
            }
            let Some(step) = solve(m, jtr.map(|v| -v)) else { break };
            let candidate: [f64; NP] = std::array::from_fn(|i| e[i] + step[i]);
            let rc = residuals(&candidate);
            let c = cost(&rc);
            if c < cost_now {
                e = candidate;
                r0 = rc;
                cost_now = c;
                damping = (damping / 3.0).max(1e-7);
                improved = true;
                break;
            }
            damping *= 10.0;
        }
        if !improved {
            break;
        }
    }
    let k = correction(&e);
    let small = e.iter().all(|v| v.abs() <= s.max_correction);
    let accepted = small && cost_now < (1.0 - s.min_improvement) * cost_before;
    GyroCalibration {
        k: if accepted { k } else { IDENTITY },
        k_fit: k,
        cost_before,
        cost_after: cost_now,
        accepted,
        half_disagreement: None,
        cross_improvement: None,
    }
}

/// Segment index of each sample: `floor((t − t₀) / segment_s)`.
fn segment_ids(samples: &[ImuSample], segment_s: f64) -> Vec<usize> {
    let t0 = samples.first().map_or(0.0, |s| s.t_s);
    samples
        .iter()
        .map(|s| ((s.t_s - t0) / segment_s.max(1e-3)).floor().max(0.0) as usize)
        .collect()
}

/// Deviation of the inertial-frame acceleration from its segment mean, every `stride`-th
/// sample, flattened (x, y, z, x, …).
fn residuals(
    samples: &[ImuSample],
    rates_rps: &[Vec3],
    dt_s: &[f64],
    segments: &[usize],
    e: &[f64; NP],
    stride: usize,
    smooth_n: usize,
) -> Vec<f64> {
    let k = correction(e);
    let mut q = Quat::IDENTITY;
    let mut acc_inertial: Vec<Vec3> = Vec::with_capacity(samples.len() / stride + 1);
    let mut seg_of: Vec<usize> = Vec::with_capacity(samples.len() / stride + 1);
    for (i, ((s, w), dt)) in samples.iter().zip(rates_rps).zip(dt_s).enumerate() {
        q = (q * Quat::from_rotation_vector(scale(apply(&k, *w), *dt))).normalized();
        if i % stride == 0 {
            acc_inertial.push(q.rotate(s.acc_sensor_mps2));
            seg_of.push(segments[i]);
        }
    }
    let acc_inertial = moving_average(&acc_inertial, smooth_n);
    let n_seg = seg_of.last().map_or(0, |s| s + 1);
    let mut sums = vec![([0.0; 3], 0usize); n_seg];
    for (a, sg) in acc_inertial.iter().zip(&seg_of) {
        let (sum, n) = &mut sums[*sg];
        *sum = crate::frames::add(*sum, *a);
        *n += 1;
    }
    let mut out = Vec::with_capacity(acc_inertial.len() * 3);
    for (a, sg) in acc_inertial.iter().zip(&seg_of) {
        let (sum, n) = sums[*sg];
        for c in 0..3 {
            out.push(a[c] - sum[c] / n as f64);
        }
    }
    out
}

/// Number of parameters: the symmetric part of `K − I` (scale factors and axis
/// non-orthogonality). The antisymmetric part, a rotation of the gyro axes against the
/// accelerometer's, is left out: fitted, it soaks up linear and centripetal acceleration.
const NP: usize = 6;

fn correction(e: &[f64; NP]) -> Mat3 {
    [
        [1.0 + e[0], e[3], e[4]],
        [e[3], 1.0 + e[1], e[5]],
        [e[4], e[5], 1.0 + e[2]],
    ]
}

/// Solve a small linear system by Gaussian elimination with partial pivoting.
fn solve(mut a: [[f64; NP]; NP], mut b: [f64; NP]) -> Option<[f64; NP]> {
    for col in 0..NP {
        let piv = (col..NP).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[piv][col].abs() < 1e-300 {
            return None;
        }
        a.swap(col, piv);
        b.swap(col, piv);
        let pivot_row = a[col];
        for row in col + 1..NP {
            let f = a[row][col] / pivot_row[col];
            for (v, p) in a[row][col..].iter_mut().zip(&pivot_row[col..]) {
                *v -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0.0; NP];
    for row in (0..NP).rev() {
        let s: f64 = (row + 1..NP).map(|c| a[row][c] * x[c]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Some(x)
}

/// Centred moving average over `n` samples (shorter at the ends).
fn moving_average(x: &[Vec3], n: usize) -> Vec<Vec3> {
    if n <= 1 {
        return x.to_vec();
    }
    let mut prefix = vec![[0.0; 3]; x.len() + 1];
    for (i, v) in x.iter().enumerate() {
        prefix[i + 1] = std::array::from_fn(|c| prefix[i][c] + v[c]);
    }
    let half = n / 2;
    (0..x.len())
        .map(|i| {
            let a = i.saturating_sub(half);
            let b = (i + half + 1).min(x.len());
            std::array::from_fn(|c| (prefix[b][c] - prefix[a][c]) / (b - a) as f64)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 60 s at 100 Hz turning about all axes; the gyro reads `gyro_from_true · ω`.
    fn recording(gyro_from_true: &Mat3) -> Vec<ImuSample> {
        let dt = 0.01;
        let mut q = Quat::IDENTITY;
        (0..6000)
            .map(|i| {
                let t = i as f64 * dt;
                let w = [
                    2.0 * (0.31 * t).sin(),
                    1.5 * (0.47 * t + 1.0).sin(),
                    2.5 * (0.23 * t + 2.0).sin(),
                ];
                q = (q * Quat::from_rotation_vector(scale(w, dt))).normalized();
                ImuSample {
                    t_s: t,
                    acc_sensor_mps2: q.conj().rotate([0.0, 0.0, 9.81]),
                    gyr_sensor_rps: apply(gyro_from_true, w),
                    mag_sensor: None,
                }
            })
            .collect()
    }

    fn calibrate(samples: &[ImuSample]) -> GyroCalibration {
        let zero = vec![[0.0; 3]; samples.len()];
        calibrate_gyro(
            samples,
            &zero,
            &vec![0.01; samples.len()],
            &GyroCalibrationSettings::default(),
        )
    }

    #[test]
    fn recovers_scale_errors_of_a_turning_gyro() {
        // Gyro reads 0.6 % too much on x, 0.4 % too little on z, with 0.2 % axis coupling.
        let gyro_from_true = [[1.006, 0.002, 0.0], [0.002, 1.0, 0.0], [0.0, 0.0, 0.996]];
        let c = calibrate(&recording(&gyro_from_true));
        assert!(c.accepted, "{c:?}");
        // K should undo the error: K · gyro_from_true ≈ I.
        let product: Mat3 = std::array::from_fn(|r| {
            std::array::from_fn(|col| (0..3).map(|m| c.k[r][m] * gyro_from_true[m][col]).sum())
        });
        for (r, row) in product.iter().enumerate() {
            for (col, v) in row.iter().enumerate() {
                let expected = if r == col { 1.0 } else { 0.0 };
                assert!((v - expected).abs() < 5e-4, "K·G[{r}][{col}] = {v}");
            }
        }
    }

    #[test]
    fn a_correction_that_differs_between_the_halves_is_refused() {
        let a = recording(&[[1.006, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]);
        let b = recording(&[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.008]]);
        let mixed: Vec<ImuSample> = a[..3000].iter().chain(&b[3000..]).copied().collect();
        let c = calibrate(&mixed);
        assert!(!c.accepted && c.half_disagreement.is_some_and(|d| d > 0.004), "{c:?}");
    }

    #[test]
    fn a_perfect_gyro_keeps_the_identity() {
        let c = calibrate(&recording(&IDENTITY));
        assert!(!c.accepted && c.k == IDENTITY, "{c:?}");
    }
}
