//! Neutral calibration (spec §2): find the still window, average each sensor's
//! orientation over it, and find the segment's head-ward and front axes in the sensor
//! frame. Pure; the analysis pipeline feeds it samples already on one time axis.

use crate::body::mount::{BodyDirection, Mount};
use crate::body::twist::{BodyAxis, mean_quat, sensor_from_body};
use crate::body::{Placement, Variation};
use crate::frames::{Quat, Vec3};

/// Thresholds of the still-window search, with the spec's values as defaults.
#[derive(Debug, Clone, Copy)]
pub struct StillSettings {
    /// Angular rate below which a sample is still, °/s.
    pub max_rate_dps: f64,
    /// Orientation streams: the rate is the rotation over this span divided by it, s.
    pub rate_span_s: f64,
    /// ... but each mean spans at least this many samples: on-board fusion output is noisy
    /// (0.2–0.6° from sample to sample at 50 Hz), and a 0.1 s mean of five samples still
    /// reads 2–6°/s for a sensor at rest.
    pub rate_min_samples: usize,
    /// Raw IMU: |acc| must stay within this of its window mean, m/s².
    pub acc_tolerance_mps2: f64,
    /// The window wanted, s.
    pub window_s: f64,
    /// The shortest fallback window, s.
    pub min_window_s: f64,
    /// Search only this long from the first common sample, s.
    pub search_s: f64,
}

impl Default for StillSettings {
    fn default() -> Self {
        StillSettings {
            max_rate_dps: 5.0,
            rate_span_s: 0.1,
            rate_min_samples: 10,
            acc_tolerance_mps2: 0.5,
            window_s: 2.0,
            min_window_s: 1.0,
            search_s: 30.0,
        }
    }
}

/// Angular rate of an orientation stream at each sample, °/s, averaged over `span_s`:
/// the rotation between the mean orientation over the `span_s` before the sample and the
/// mean over the `span_s` after it, divided by the time between the windows' centres.
/// Averaging first keeps the quantisation and noise of 20–60 Hz on-board fusion (a few
/// tenths of a degree per sample) from looking like motion.
pub fn orientation_rate_dps(t_s: &[f64], q: &[Quat], span_s: f64, min_samples: usize) -> Vec<f64> {
    let n = t_s.len();
    if n < 2 {
        return vec![0.0; n];
    }
    let dt_typical = (t_s[n - 1] - t_s[0]) / (n - 1) as f64;
    let span_s = span_s.max(min_samples.saturating_sub(1) as f64 * dt_typical);
    // Prefix sums of sign-aligned quaternions and of times, for O(1) window means.
    let mut aligned = Vec::with_capacity(n);
    let mut prev = q[0];
    for &x in q {
        let x = x.same_hemisphere_as(prev);
        aligned.push(x);
        prev = x;
    }
    let mut pq = vec![[0.0; 4]; n + 1];
    let mut pt = vec![0.0; n + 1];
    for i in 0..n {
        let a = aligned[i].to_array();
        for k in 0..4 {
            pq[i + 1][k] = pq[i][k] + a[k];
        }
        pt[i + 1] = pt[i] + t_s[i];
    }
    let mean = |a: usize, b: usize| -> (Quat, f64) {
        let c = (b - a) as f64;
        let s = [0, 1, 2, 3].map(|k| (pq[b][k] - pq[a][k]) / c);
        (Quat::from_array(s).normalized(), (pt[b] - pt[a]) / c)
    };
    let mut out = Vec::with_capacity(n);
    let (mut lo, mut hi) = (0usize, 0usize);
    for i in 0..n {
        while t_s[i] - t_s[lo] > span_s {
            lo += 1;
        }
        while hi + 1 < n && t_s[hi + 1] - t_s[i] <= span_s {
            hi += 1;
        }
        // Before: lo..=i, after: i..=hi (each at least two samples when possible).
        let a_end = (i + 1).max(lo + 2).min(n);
        let b_start = i.min(hi.saturating_sub(1));
        let (qa, ta) = mean(lo, a_end);
        let (qb, tb) = mean(b_start, hi + 1);
        let dt = tb - ta;
        out.push(if dt > 0.0 {
            qa.angle_to_rad(qb).to_degrees() / dt
        } else {
            0.0
        });
    }
    out
}

/// Angular rate of a raw gyroscope at each sample, °/s, from the rate vector averaged over
/// `span_s` centred on the sample.
pub fn gyro_rate_dps(t_s: &[f64], gyr_rps: &[Vec3], span_s: f64) -> Vec<f64> {
    let n = t_s.len();
    let mut p = vec![[0.0; 3]; n + 1];
    for i in 0..n {
        for k in 0..3 {
            p[i + 1][k] = p[i][k] + gyr_rps[i][k];
        }
    }
    let (mut lo, mut hi) = (0usize, 0usize);
    (0..n)
        .map(|i| {
            while t_s[i] - t_s[lo] > 0.5 * span_s {
                lo += 1;
            }
            while hi + 1 < n && t_s[hi + 1] - t_s[i] <= 0.5 * span_s {
                hi += 1;
            }
            let c = (hi + 1 - lo) as f64;
            let m = [0, 1, 2].map(|k| (p[hi + 1][k] - p[lo][k]) / c);
            crate::frames::norm(m).to_degrees()
        })
        .collect()
}

/// One sensor's stillness signals on the common time axis.
#[derive(Debug, Clone)]
pub struct StillSignals {
    pub rate_dps: Vec<f64>,
    /// |acc| for raw IMU streams, `None` for orientation streams.
    pub acc_norm_mps2: Option<Vec<f64>>,
}

/// The window neutral was calibrated from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StillWindow {
    pub start_index: usize,
    /// Exclusive.
    pub end_index: usize,
    pub start_s: f64,
    pub end_s: f64,
    /// False when the fallback (shorter than `window_s`) was used.
    pub full: bool,
}

fn acc_ok(acc: &[f64], tol: f64) -> bool {
    if acc.is_empty() {
        return true;
    }
    let mean = acc.iter().sum::<f64>() / acc.len() as f64;
    acc.iter().all(|a| (a - mean).abs() <= tol)
}

fn window_ok(sensors: &[StillSignals], i: usize, j: usize, s: &StillSettings) -> bool {
    sensors.iter().all(|sig| {
        sig.rate_dps[i..j].iter().all(|r| *r < s.max_rate_dps)
            && sig
                .acc_norm_mps2
                .as_ref()
                .is_none_or(|a| acc_ok(&a[i..j], s.acc_tolerance_mps2))
    })
}

/// The earliest `window_s` still window within the first `search_s`, else the longest of
/// at least `min_window_s`; `None` when there is neither.
pub fn find_still_window(t_s: &[f64], sensors: &[StillSignals], s: &StillSettings) -> Option<StillWindow> {
    let t0 = *t_s.first()?;
    let limit = t0 + s.search_s;
    let n = t_s.iter().take_while(|t| **t <= limit + 1e-9).count();
    let all_still = |k: usize| sensors.iter().all(|sig| sig.rate_dps[k] < s.max_rate_dps);
    // Half a sample of slack, so a 2 s window at 100 Hz need not hold 201 samples.
    let dt_nominal = if n > 1 { (t_s[n - 1] - t0) / (n - 1) as f64 } else { 0.0 };
    let slack = 0.5 * dt_nominal;
    for i in 0..n {
        if !all_still(i) {
            continue;
        }
        let Some(j) = (i..n).find(|&j| t_s[j] - t_s[i] >= s.window_s - slack) else {
            break;
        };
        if window_ok(sensors, i, j + 1, s) {
            return Some(StillWindow {
                start_index: i,
                end_index: j + 1,
                start_s: t_s[i],
                end_s: t_s[j],
                full: true,
            });
        }
    }
    // Fallback: the longest still window of at least min_window_s.
    let mut best: Option<StillWindow> = None;
    for i in 0..n {
        if !all_still(i) {
            continue;
        }
        let mut j = i;
        while j + 1 < n && all_still(j + 1) && window_ok(sensors, i, j + 2, s) {
            j += 1;
        }
        let len = t_s[j] - t_s[i];
        if len >= s.min_window_s - slack && best.is_none_or(|b| len > b.end_s - b.start_s) {
            best = Some(StillWindow {
                start_index: i,
                end_index: j + 1,
                start_s: t_s[i],
                end_s: t_s[j],
                full: false,
            });
        }
    }
    best
}

/// A calibrated sensor: its neutral orientation and where the segment's body frame sits
/// in the sensor frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SegmentCalibration {
    pub q_world_from_sensor_neutral: Quat,
    pub q_sensor_from_body: Quat,
}

impl SegmentCalibration {
    /// The segment's rotation since neutral, in body coordinates (`q_neutral_from_now`).
    pub fn neutral_from_now(&self, q_world_from_sensor: Quat) -> Quat {
        self.q_sensor_from_body.conj()
            * self.q_world_from_sensor_neutral.conj()
            * q_world_from_sensor
            * self.q_sensor_from_body
    }
}

/// Rotations since neutral smaller than this do not inform the twist axis, rad.
const AXIS_MIN_ANGLE_RAD: f64 = 0.35;
/// The refined axis may differ from the wear convention's by at most this, rad.
const AXIS_MAX_CORRECTION_RAD: f64 = 0.35;

/// Supine: the head-ward axis from the movement itself. Lying down, gravity gives the
/// front exactly, but the head-ward direction comes from how the sensor is worn (±15°
/// about the surface normal), and a twist decomposed about an axis 15° off reads about
/// 2° short at 70°. The knees-to-the-side rotation is about the true head-ward axis, so
/// the mean rotation vector of the large rotations since neutral, projected onto the
/// plane perpendicular to the front, gives the axis; the body frame is turned about the
/// front axis to match (by at most 20°, and only when there are enough large rotations).
pub fn refine_twist_axis(cal: &SegmentCalibration, q_world_from_sensor: &[Quat]) -> SegmentCalibration {
    let mut sum = [0.0f64; 3];
    let mut count = 0usize;
    for q in q_world_from_sensor {
        let d = cal.neutral_from_now(*q).canonical();
        let v = [d.x, d.y, d.z];
        let s = crate::frames::norm(v);
        let angle = 2.0 * s.atan2(d.w);
        if angle < AXIS_MIN_ANGLE_RAD || s == 0.0 {
            continue;
        }
        // Sign-align with the current head-ward axis (+y).
        let sign = if v[1] < 0.0 { -1.0 } else { 1.0 };
        for k in 0..3 {
            sum[k] += sign * v[k] / s * angle;
        }
        count += 1;
    }
    if count < 100 {
        return *cal;
    }
    let psi = (-sum[0]).atan2(sum[1]);
    if !psi.is_finite() || psi.abs() > AXIS_MAX_CORRECTION_RAD {
        return *cal;
    }
    SegmentCalibration {
        q_world_from_sensor_neutral: cal.q_world_from_sensor_neutral,
        q_sensor_from_body: cal.q_sensor_from_body * Quat::from_axis_angle([0.0, 0.0, 1.0], psi),
    }
}

/// Why a segment could not be calibrated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CalibrationError {
    #[error(
        "the sensor's {axis} axis (from the wear convention or --mount) is nearly vertical in the neutral posture; \
         check how it is worn or give --mount"
    )]
    AxisAlongGravity { axis: &'static str },
}

/// Calibrate one sensor from its orientations over the still window.
///
/// Upright variations: gravity gives the head-ward axis and the wear convention the front
/// (out of the chest, or into the back for posterior placements). Supine: gravity gives
/// the front and the wear convention the head-ward direction.
pub fn calibrate_segment(
    q_world_from_sensor_window: &[Quat],
    variation: Variation,
    placement: Placement,
    mount: &Mount,
) -> Option<Result<SegmentCalibration, CalibrationError>> {
    let q_neutral = mean_quat(q_world_from_sensor_window.iter().copied())?;
    let up_sensor: Vec3 = q_neutral.conj().rotate([0.0, 0.0, 1.0]);
    let head_wear = BodyDirection::Head.in_wear_frame(placement);
    let out_wear = BodyDirection::Out.in_wear_frame(placement);
    let front_sign = if placement.is_posterior() { -1.0 } else { 1.0 };
    let head_sensor = mount.to_sensor(head_wear);
    let front_sensor = mount.to_sensor(out_wear).map(|v| v * front_sign);
    let q_sensor_from_body = match variation {
        Variation::Supine => sensor_from_body(head_sensor, up_sensor, BodyAxis::Front)
            .ok_or(CalibrationError::AxisAlongGravity { axis: "head-ward" }),
        Variation::Seated | Variation::Standing => sensor_from_body(up_sensor, front_sensor, BodyAxis::Head)
            .ok_or(CalibrationError::AxisAlongGravity { axis: "front" }),
    };
    Some(q_sensor_from_body.map(|q_sensor_from_body| SegmentCalibration {
        q_world_from_sensor_neutral: q_neutral,
        q_sensor_from_body,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::twist::{FRONT_BODY, HEAD_BODY, segment_twist_rad};
    use approx::assert_abs_diff_eq;
    use proptest::prelude::*;

    /// Wear frame of a chest sensor for a person standing facing world +y: head = world z,
    /// out = front = world +y, sensor x = left = world -x.
    fn upright_chest(slope_rad: f64, about_normal_rad: f64, heading_rad: f64) -> Quat {
        let q_world_from_wear_level =
            crate::body::twist::quat_from_columns([-1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]);
        Quat::from_axis_angle([0.0, 0.0, 1.0], heading_rad)
            * q_world_from_wear_level
            * Quat::from_axis_angle([1.0, 0.0, 0.0], slope_rad)
            * Quat::from_axis_angle([0.0, 0.0, 1.0], about_normal_rad)
    }

    proptest! {
        /// Upright: a twist about the world vertical reads back exactly, whatever the
        /// sternum's slope (10–30°) and the ±15° about the surface normal.
        #[test]
        fn upright_twist_is_exact_despite_misalignment(
            slope in 0.17..0.53f64, about_normal in -0.26..0.26f64, heading in -3.0..3.0f64, twist in -1.4..1.4f64
        ) {
            let q0 = upright_chest(slope, about_normal, heading);
            let cal = calibrate_segment(&[q0], Variation::Seated, Placement::Chest, &Mount::default()).unwrap().unwrap();
            let q_now = Quat::from_axis_angle([0.0, 0.0, 1.0], twist) * q0;
            assert_abs_diff_eq!(segment_twist_rad(cal.neutral_from_now(q_now)), twist, epsilon = 1e-9);
            // Body axes: head = up, front = world +y rotated by heading.
            let q_wb = q0 * cal.q_sensor_from_body;
            assert_abs_diff_eq!(q_wb.rotate(HEAD_BODY)[2], 1.0, epsilon = 1e-9);
            let f = q_wb.rotate(FRONT_BODY);
            assert_abs_diff_eq!(f[1], heading.cos(), epsilon = 1e-9);
        }
    }

    #[test]
    fn supine_front_is_up_and_head_from_the_wear_convention() {
        // Lying on the back: sensor x -> world -y, sensor y (head) -> world +x, z (out) -> up.
        let q0 = crate::body::twist::quat_from_columns([0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]);
        // Tilt the sensor 20° about its own x (a pelvis is not flat): front is still up.
        let q0 = q0 * Quat::from_axis_angle([1.0, 0.0, 0.0], 0.35);
        let cal = calibrate_segment(&[q0], Variation::Supine, Placement::Pelvis, &Mount::default())
            .unwrap()
            .unwrap();
        let q_wb = q0 * cal.q_sensor_from_body;
        assert_abs_diff_eq!(q_wb.rotate(FRONT_BODY)[2], 1.0, epsilon = 1e-9);
        assert_abs_diff_eq!(q_wb.rotate(HEAD_BODY)[0], 1.0, epsilon = 1e-9);
        // The person's left is world -y; knees to the left roll the pelvis about +x.
        assert_abs_diff_eq!(q_wb.rotate([1.0, 0.0, 0.0])[1], -1.0, epsilon = 1e-9);
        let q_now = Quat::from_axis_angle([1.0, 0.0, 0.0], 0.5) * q0;
        assert_abs_diff_eq!(segment_twist_rad(cal.neutral_from_now(q_now)), 0.5, epsilon = 1e-9);
    }

    #[test]
    fn supine_twist_axis_is_refined_from_the_reps() {
        // Lying on the back, sensor worn 12° off about the surface normal: the true head
        // axis is world +x, the convention's is rotated 12° about world z.
        let q_wear = crate::body::twist::quat_from_columns([0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]);
        let q0 = Quat::from_axis_angle([0.0, 0.0, 1.0], 12f64.to_radians()) * q_wear;
        let cal = calibrate_segment(&[q0], Variation::Supine, Placement::Pelvis, &Mount::default())
            .unwrap()
            .unwrap();
        // Knee drops of ±70° about the true head axis (world +x).
        let qs: Vec<Quat> = (0..2000)
            .map(|i| {
                let a = 70f64.to_radians() * (i as f64 / 2000.0 * std::f64::consts::TAU).sin();
                Quat::from_axis_angle([1.0, 0.0, 0.0], a) * q0
            })
            .collect();
        let probe = Quat::from_axis_angle([1.0, 0.0, 0.0], 70f64.to_radians()) * q0;
        let before = segment_twist_rad(cal.neutral_from_now(probe)).to_degrees();
        let refined = refine_twist_axis(&cal, &qs);
        let after = segment_twist_rad(refined.neutral_from_now(probe)).to_degrees();
        assert!((before - 70.0).abs() > 1.0, "the misaligned axis reads {before:.2}°");
        assert_abs_diff_eq!(after, 70.0, epsilon = 0.05);
    }

    #[test]
    fn still_window_prefers_the_earliest_two_seconds() {
        let t: Vec<f64> = (0..1000).map(|i| i as f64 * 0.01).collect();
        let rate: Vec<f64> = t
            .iter()
            .map(|t| if *t < 1.0 || (3.5..4.0).contains(t) { 20.0 } else { 1.0 })
            .collect();
        let sig = StillSignals {
            rate_dps: rate,
            acc_norm_mps2: None,
        };
        let w = find_still_window(&t, &[sig], &StillSettings::default()).unwrap();
        assert!(w.full);
        assert_abs_diff_eq!(w.start_s, 1.0, epsilon = 1e-9);
        assert!(w.end_s - w.start_s >= 1.99);
    }

    #[test]
    fn short_still_window_is_a_fallback_and_none_is_none() {
        let t: Vec<f64> = (0..4000).map(|i| i as f64 * 0.01).collect();
        let rate: Vec<f64> = t
            .iter()
            .map(|t| if (5.0..6.5).contains(t) { 1.0 } else { 30.0 })
            .collect();
        let sig = StillSignals {
            rate_dps: rate.clone(),
            acc_norm_mps2: None,
        };
        let w = find_still_window(&t, &[sig], &StillSettings::default()).unwrap();
        assert!(!w.full);
        assert_abs_diff_eq!(w.start_s, 5.0, epsilon = 1e-9);
        let rate: Vec<f64> = t
            .iter()
            .map(|t| if (5.0..5.5).contains(t) { 1.0 } else { 30.0 })
            .collect();
        let sig = StillSignals {
            rate_dps: rate,
            acc_norm_mps2: None,
        };
        assert!(find_still_window(&t, &[sig], &StillSettings::default()).is_none());
    }

    #[test]
    fn acceleration_jump_breaks_stillness() {
        let t: Vec<f64> = (0..600).map(|i| i as f64 * 0.01).collect();
        let acc: Vec<f64> = t
            .iter()
            .map(|t| if (1.0..1.05).contains(t) { 11.5 } else { 9.81 })
            .collect();
        let sig = StillSignals {
            rate_dps: vec![0.0; t.len()],
            acc_norm_mps2: Some(acc),
        };
        let w = find_still_window(&t, &[sig], &StillSettings::default()).unwrap();
        assert!(w.start_s >= 1.05 - 1e-9, "{w:?}");
    }

    #[test]
    fn rate_of_a_steady_rotation() {
        let t: Vec<f64> = (0..100).map(|i| i as f64 * 0.02).collect();
        let q: Vec<Quat> = t
            .iter()
            .map(|t| Quat::from_axis_angle([0.0, 0.0, 1.0], (30.0f64 * t).to_radians()))
            .collect();
        let r = orientation_rate_dps(&t, &q, 0.1, 10);
        for v in &r[10..90] {
            assert_abs_diff_eq!(*v, 30.0, epsilon = 1e-6);
        }
    }
}
