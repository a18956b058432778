//! Offline (non-causal) orientation: may use the whole recording.
//!
//! `estimate_offline` is what `twistcoach orientation --offline` runs:
//! 1. 6D (inclination and a gyro-propagated heading) as the offline VQF computes it
//!    (`offline_vqf`: forward and backward VQF passes fuse the gyro bias, zero-phase
//!    filtered acceleration corrects the inclination);
//! 2. gyro self-calibration (`gyro_calibration`): a scale/axis correction of the rates,
//!    used only when it clearly explains how gravity wanders in the integrated frame and
//!    both halves of the recording agree on it; then step 1's 6D is recomputed with it;
//! 3. 9D: the heading offset of that 6D frame is estimated by a Kalman smoother (forward
//!    filter + Rauch–Tung–Striebel backward pass) instead of VQF's fixed-gain filter. The
//!    gyro heading drifts while the sensor turns (and through the remaining bias
//!    uncertainty), so the offset is a random walk whose variance grows with the angle
//!    turned; each magnetometer sample measures it with a noise that grows with how far
//!    the field's norm and dip are from the recording's typical (densest) values.
//!
//! Irregular sampling: every step uses its own interval (gyro integration, VQF passes,
//! the smoother's noise); only the acceleration low-pass and VQF's internal filters use
//! the nominal sample time. The faithful offline VQF stays available in `offline_vqf`.
//! The methods tried and their BROAD scores are in docs/offline-orientation.md.
//!
//! Pure: no I/O. Does not change the causal path.

use super::gyro_calibration::{self, GyroCalibrationSettings, calibrate_gyro};
use super::offline_vqf::{self, HeadingFilter, offline_vqf_with_steps};
use super::{OrientationFilter, Settings, nominal_sample_time_s, vqf_params};
use crate::frames::{Quat, Vec3, norm, sub};
use crate::stream::ImuSample;

/// Settings of the offline estimate (on top of the orientation `Settings`).
#[derive(Debug, Clone, Copy)]
pub struct OfflineSettings {
    /// How the 9D heading is found from the 6D estimate and the magnetometer.
    pub heading: HeadingMethod,
    /// Heading smoother: variance the gyro heading drift adds per radian turned, rad²/rad.
    pub heading_drift_var_rad2_per_rad: f64,
    /// Heading smoother: variance of one magnetometer heading times the sample interval,
    /// rad²·s (white-noise density of the magnetometer heading).
    pub mag_heading_var_rad2_s: f64,
    /// Relative deviation of the field norm from the recording's reference that doubles
    /// the magnetometer heading variance (the inflation grows with its square).
    pub mag_norm_tolerance: f64,
    /// Deviation of the dip angle from the recording's reference that doubles the variance, rad.
    pub mag_dip_tolerance_rad: f64,
    /// Self-calibrate the gyroscope's scale and axes from the accelerometer first.
    pub gyro_calibration: Option<GyroCalibrationSettings>,
    /// Heading smoother: the bias uncertainty σ_b (rad/s) adds `σ_b² · dt · this` (s) of
    /// heading variance per step: the drift a bias error causes over this long.
    pub bias_drift_time_s: f64,
    /// Field norm and dip reference: the densest `reference_fraction` of the recording's
    /// values (robust to a disturbed majority if it is spread out), 0.5 ≈ the median.
    pub reference_fraction: f64,
    /// Heading smoother: variance factor for samples both VQF passes flag as magnetically
    /// disturbed (1 = ignore VQF's flags).
    pub vqf_disturbed_inflation: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadingMethod {
    /// VQF's offline heading: fixed-gain filter forwards then backwards, with its magnetic
    /// disturbance rejection.
    VqfFilter,
    /// Kalman smoother with rotation-driven drift and disturbance-weighted measurements.
    Smoother,
}

impl Default for OfflineSettings {
    fn default() -> Self {
        OfflineSettings {
            heading: HeadingMethod::Smoother,
            heading_drift_var_rad2_per_rad: 1e-3,
            mag_heading_var_rad2_s: 1.0,
            mag_norm_tolerance: 0.02,
            mag_dip_tolerance_rad: 0.03,
            gyro_calibration: Some(GyroCalibrationSettings::default()),
            bias_drift_time_s: 100.0,
            vqf_disturbed_inflation: 1.0,
            reference_fraction: 0.5,
        }
    }
}

/// Non-causal estimate for a whole stream.
pub fn estimate_offline(samples: &[ImuSample], settings: Settings) -> Vec<Quat> {
    estimate_offline_with(samples, settings, &OfflineSettings::default())
}

/// Non-causal estimate with explicit offline settings.
pub fn estimate_offline_with(samples: &[ImuSample], settings: Settings, offline: &OfflineSettings) -> Vec<Quat> {
    if samples.is_empty() {
        return vec![];
    }
    let ts = nominal_sample_time_s(samples.iter().map(|s| s.t_s));
    let dt = step_times_s(samples, ts);
    let params = vqf_params();
    let base = offline_vqf_with_steps(samples, &dt, ts, settings.use_mag, &params);
    // Bias-free (and, when calibrated, corrected) rates.
    let k = match &offline.gyro_calibration {
        Some(cal) => calibrate_gyro(samples, &base.gyr_bias_sensor_rps, &dt, cal).k,
        None => gyro_calibration::IDENTITY,
    };
    let rates_rps: Vec<Vec3> = samples
        .iter()
        .zip(&base.gyr_bias_sensor_rps)
        .map(|(s, b)| gyro_calibration::apply(&k, sub(s.gyr_sensor_rps, *b)))
        .collect();
    let q6d = if k == gyro_calibration::IDENTITY {
        base.q_earth6d_from_sensor.clone()
    } else {
        let corrected: Vec<ImuSample> = samples
            .iter()
            .zip(&rates_rps)
            .map(|(s, w)| ImuSample {
                gyr_sensor_rps: *w,
                ..*s
            })
            .collect();
        offline_vqf::orientation_6d(&corrected, &vec![[0.0; 3]; samples.len()], &dt, ts, params.tau_acc_s)
    };
    let Some(mags) = offline_vqf::magnetometer(samples, settings.use_mag) else {
        return q6d;
    };
    let mut delta = offline_vqf::heading_disagreement_rad(&q6d, &mags);
    match offline.heading {
        HeadingMethod::VqfFilter => {
            let h = HeadingFilter::from_params(&params);
            h.smooth(&mut delta, &base.mag_disturbed, &dt, offline_vqf::Direction::Forward);
            h.smooth(&mut delta, &base.mag_disturbed, &dt, offline_vqf::Direction::Backward);
        }
        HeadingMethod::Smoother => {
            let per_rad = offline.heading_drift_var_rad2_per_rad;
            // Drift from turning (scale/axis errors) and from the remaining bias uncertainty.
            let drift_var: Vec<f64> = rates_rps
                .iter()
                .zip(&dt)
                .zip(&base.gyr_bias_sigma_rps)
                .map(|((w, dt), sigma)| per_rad * norm(*w) * dt + sigma * sigma * dt * offline.bias_drift_time_s)
                .collect();
            let mut mag_var = mag_heading_variance(&q6d, &mags, &dt, offline);
            for (v, disturbed) in mag_var.iter_mut().zip(&base.mag_disturbed) {
                if *disturbed {
                    *v *= offline.vqf_disturbed_inflation;
                }
            }
            delta = smooth_heading_rad(&delta, &drift_var, &mag_var);
        }
    }
    q6d.iter()
        .zip(&delta)
        .map(|(q, d)| offline_vqf::apply_heading(*q, *d))
        .collect()
}

/// Variance of each sample's magnetometer heading, rad²: the white-noise density over the
/// sample's interval, inflated quadratically by the deviation of the field's norm and dip
/// from their reference values over the recording (`densest_value`).
pub fn mag_heading_variance(
    q_earth6d_from_sensor: &[Quat],
    mag_sensor: &[Vec3],
    dt_s: &[f64],
    s: &OfflineSettings,
) -> Vec<f64> {
    let norms: Vec<f64> = mag_sensor.iter().map(|m| norm(*m)).collect();
    let dips_rad: Vec<f64> = q_earth6d_from_sensor
        .iter()
        .zip(mag_sensor)
        .map(|(q, m)| {
            let e = q.rotate(*m);
            (-e[2]).atan2(e[0].hypot(e[1]))
        })
        .collect();
    let norm_ref = densest_value(&norms, s.reference_fraction);
    let dip_ref_rad = densest_value(&dips_rad, s.reference_fraction);
    norms
        .iter()
        .zip(&dips_rad)
        .zip(dt_s)
        .map(|((n, dip), dt)| {
            let dn = if norm_ref > 0.0 { (n - norm_ref) / norm_ref } else { 0.0 };
            let dd = dip - dip_ref_rad;
            let inflation = 1.0 + (dn / s.mag_norm_tolerance).powi(2) + (dd / s.mag_dip_tolerance_rad).powi(2);
            s.mag_heading_var_rad2_s / dt.max(1e-9) * inflation
        })
        .collect()
}

/// Fixed-interval Kalman smoother of a heading offset (random walk, angles wrapped):
/// `drift_var_rad2[i]` is the variance the offset gains before sample `i`,
/// `meas_var_rad2[i]` the variance of measurement `measured_rad[i]`.
pub fn smooth_heading_rad(measured_rad: &[f64], drift_var_rad2: &[f64], meas_var_rad2: &[f64]) -> Vec<f64> {
    let n = measured_rad.len();
    if n == 0 {
        return vec![];
    }
    // Forward Kalman filter, keeping the predicted and filtered moments.
    let (mut x, mut p) = (measured_rad[0], 1.0);
    let mut pred = Vec::with_capacity(n);
    let mut filt = Vec::with_capacity(n);
    for i in 0..n {
        p += drift_var_rad2[i];
        pred.push((x, p));
        let k = p / (p + meas_var_rad2[i]);
        x = wrap_pi(x + k * wrap_pi(measured_rad[i] - x));
        p *= 1.0 - k;
        filt.push((x, p));
    }
    // Rauch–Tung–Striebel backward pass.
    let mut out = vec![0.0; n];
    out[n - 1] = filt[n - 1].0;
    for i in (0..n - 1).rev() {
        let (xf, pf) = filt[i];
        let (xp, pp) = pred[i + 1];
        let gain = if pp > 0.0 { pf / pp } else { 0.0 };
        out[i] = wrap_pi(xf + gain * wrap_pi(out[i + 1] - xp));
    }
    out
}

fn wrap_pi(a: f64) -> f64 {
    use std::f64::consts::{PI, TAU};
    (a + PI).rem_euclid(TAU) - PI
}

/// The middle of the shortest interval that holds `fraction` of the values (the "shorth"):
/// where the values are densest. Finite values only; 0 for none.
fn densest_value(v: &[f64], fraction: f64) -> f64 {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return 0.0;
    }
    s.sort_by(f64::total_cmp);
    let w = ((s.len() as f64 * fraction.clamp(0.0, 1.0)).ceil() as usize).clamp(1, s.len());
    let start = (0..=s.len() - w)
        .min_by(|&a, &b| (s[a + w - 1] - s[a]).total_cmp(&(s[b + w - 1] - s[b])))
        .unwrap_or(0);
    s[start + (w - 1) / 2]
}

/// The interval ending at each sample (the first gets the nominal sample time).
pub fn step_times_s(samples: &[ImuSample], nominal_ts_s: f64) -> Vec<f64> {
    std::iter::once(nominal_ts_s)
        .chain(samples.windows(2).map(|w| w[1].t_s - w[0].t_s))
        .collect()
}

/// The first version: a backward VQF pass over the time-reversed recording converges the
/// gyro bias estimate at the start, and a causal forward pass starts from it.
pub fn estimate_backward_bias_init(samples: &[ImuSample], settings: Settings) -> Vec<Quat> {
    let dt = nominal_sample_time_s(samples.iter().map(|s| s.t_s));
    // Time-reversed stream: negated rates, negated times; the bias it sees is negated too.
    let reversed: Vec<ImuSample> = samples
        .iter()
        .rev()
        .map(|s| ImuSample {
            t_s: -s.t_s,
            gyr_sensor_rps: s.gyr_sensor_rps.map(|g| -g),
            ..*s
        })
        .collect();
    let mut backward = OrientationFilter::new(dt, settings);
    for s in &reversed {
        backward.update(s);
    }
    let bias_at_start = backward.gyr_bias_sensor_rps().map(|b| -b);
    let mut forward = OrientationFilter::with_params(dt, settings, vqf_params());
    forward.vqf.set_bias_rps(bias_at_start);
    samples.iter().map(|s| forward.update(s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_turning_the_smoother_averages_the_whole_recording() {
        // Alternating ±0.2 rad noise around 0.5 rad: with no rotation the offset cannot drift,
        // so every sample gets (nearly) the overall mean.
        let z: Vec<f64> = (0..2000).map(|i| 0.5 + if i % 2 == 0 { 0.2 } else { -0.2 }).collect();
        let out = smooth_heading_rad(&z, &vec![0.0; 2000], &vec![0.04; 2000]);
        assert!(out.iter().all(|d| (d - 0.5).abs() < 0.01), "{:?}", &out[..4]);
    }

    #[test]
    fn the_smoother_follows_a_step_while_turning_and_crosses_pi_the_short_way() {
        // Heading offset jumps from +3.1 to −3.1 rad (0.08 rad apart across ±π) mid-turn.
        let z: Vec<f64> = (0..4000).map(|i| if i < 2000 { 3.1 } else { -3.1 }).collect();
        let out = smooth_heading_rad(&z, &vec![1e-5; 4000], &vec![1.0; 4000]);
        assert!(out.iter().all(|d| d.abs() > 3.0), "went the long way round");
        assert!((out[0] - 3.1).abs() < 1e-3 && (out[3999] + 3.1).abs() < 1e-3);
    }

    #[test]
    fn the_reference_is_where_the_values_are_densest() {
        // 40 % tight cluster at 44, 60 % spread between 20 and 80: the median (≈ 47) is
        // pulled away, the densest fifth is not.
        let mut v: Vec<f64> = (0..400).map(|i| 44.0 + (i % 5) as f64 * 0.01).collect();
        v.extend((0..600).map(|i| 20.0 + i as f64 * 0.1));
        assert!((densest_value(&v, 0.2) - 44.0).abs() < 0.05);
        assert_eq!(densest_value(&[3.0, 1.0, 2.0], 1.0), 2.0);
    }

    #[test]
    fn disturbed_field_samples_get_a_larger_variance() {
        let q = vec![Quat::IDENTITY; 3];
        let mags = [[0.0, 20.0, -40.0], [0.0, 20.0, -40.0], [0.0, 30.0, -40.0]];
        let v = mag_heading_variance(&q, &mags, &[0.01; 3], &OfflineSettings::default());
        assert!((v[0] - 100.0).abs() < 1e-9 && v[2] > 10.0 * v[0], "{v:?}");
    }

    #[test]
    fn tiny_recordings_give_one_finite_estimate_per_sample() {
        for n in 0..4 {
            let samples: Vec<ImuSample> = (0..n)
                .map(|i| ImuSample {
                    t_s: i as f64 * 0.01,
                    acc_sensor_mps2: [0.0, 9.81, 0.0],
                    gyr_sensor_rps: [0.1, 0.0, 0.0],
                    mag_sensor: Some([0.0, 20.0, -40.0]),
                })
                .collect();
            for use_mag in [true, false] {
                let q = estimate_offline(
                    &samples,
                    Settings {
                        use_mag,
                        ..Settings::default()
                    },
                );
                assert_eq!(q.len(), n);
                assert!(q.iter().all(|q| q.to_array().iter().all(|v| v.is_finite())));
            }
        }
    }

    #[test]
    fn jittered_still_recording_stays_level_and_north() {
        // 60 s still, 100 Hz with ±3 ms jitter and a 0.5 s gap; gyro bias 1 °/s on z.
        let mut t = 0.0;
        let samples: Vec<ImuSample> = (0..6000)
            .map(|i| {
                t += 0.01 + 0.003 * ((i * 7919 % 13) as f64 / 6.0 - 1.0) + if i == 3000 { 0.5 } else { 0.0 };
                ImuSample {
                    t_s: t,
                    acc_sensor_mps2: [0.0, 0.0, 9.81],
                    gyr_sensor_rps: [0.0, 0.0, 1f64.to_radians()],
                    mag_sensor: Some([0.0, 20.0, -40.0]),
                }
            })
            .collect();
        let q = estimate_offline(&samples, Settings::default());
        let worst_deg = q
            .iter()
            .map(|q| q.angle_to_rad(Quat::IDENTITY).to_degrees())
            .fold(0.0, f64::max);
        assert!(worst_deg < 0.5, "{worst_deg}°");
    }
}
