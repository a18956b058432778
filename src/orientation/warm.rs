//! Whole-recording orientation for `analyze`: a forward pass that starts converged.
//!
//! A causal filter spends its first seconds converging (inclination, and the gyro bias
//! that makes a 6D heading drift), which is exactly when the neutral posture is
//! calibrated. Offline we know the whole recording, so a backward VQF pass over the
//! time-reversed stream ends at the first sample with a converged orientation and bias;
//! the forward pass continues from that state (bias sign flipped, since time reversal
//! negates the measured rates). The forward pass is then an ordinary causal VQF, so the
//! estimate at each sample still uses the past plus this converged start.

use super::{OrientationFilter, Settings, nominal_sample_time_s};
use crate::frames::Quat;
use crate::stream::ImuSample;

/// Orientation of every sample, forward pass started from a backward pass's end state.
pub fn estimate_warm_started(samples: &[ImuSample], settings: Settings) -> Vec<Quat> {
    estimate_warm_started_with(samples, settings, super::vqf_params())
}

/// As [`estimate_warm_started`], with explicit VQF parameters. `analyze` turns VQF's
/// rest-bias estimation off for upright twists: a person holding a twist is still enough
/// for VQF to call it rest, and its bias re-estimates there bend the heading mid-hold
/// (a bump of up to 5° that no linear drift removal can undo), while the analysis
/// removes the heading drift from the rests at neutral itself.
pub fn estimate_warm_started_with(samples: &[ImuSample], settings: Settings, params: super::VqfParams) -> Vec<Quat> {
    let dt = nominal_sample_time_s(samples.iter().map(|s| s.t_s));
    let mut backward = OrientationFilter::with_params(dt, settings, params);
    for s in samples.iter().rev() {
        backward.update(&ImuSample {
            t_s: -s.t_s,
            gyr_sensor_rps: s.gyr_sensor_rps.map(|g| -g),
            ..*s
        });
    }
    let mut forward = OrientationFilter::with_params(dt, settings, params);
    // Same sample time and parameters: continue from the backward pass's state, bias sign
    // flipped and the low-passes of rates restarted (`Vqf::reverse_time`).
    forward.vqf = backward.vqf;
    forward.vqf.reverse_time();
    let mut out = Vec::with_capacity(samples.len());
    let mut prev_t: Option<f64> = None;
    for s in samples {
        let gap = prev_t.is_some_and(|p| s.t_s - p > SNAP_AFTER_GAP_S);
        prev_t = Some(s.t_s);
        if gap {
            // Whatever turned during the gap is unknown; integrate nothing over it and take
            // the inclination straight from the accelerometer (heading jumps are the
            // analysis's to remove, from the rests around the gap).
            let mut quiet = *s;
            quiet.gyr_sensor_rps = [0.0; 3];
            forward.update(&quiet);
            snap_inclination(&mut forward, s.acc_sensor_mps2);
            out.push(forward.quat(forward.settings.use_mag && s.mag_sensor.is_some()));
        } else {
            out.push(forward.update(s));
        }
    }
    out
}

/// After a sensor gap longer than this, the inclination is re-taken from gravity, s.
pub const SNAP_AFTER_GAP_S: f64 = 0.5;

/// Rotate VQF's inclination correction so the accelerometer reads straight up now, and
/// restart its accelerometer low-pass from the next sample.
fn snap_inclination(filter: &mut OrientationFilter, acc_sensor_mps2: [f64; 3]) {
    let vqf = &mut filter.vqf;
    let acc_earth = (vqf.inclination_correction() * vqf.quat_3d()).rotate(acc_sensor_mps2);
    let n = crate::frames::norm(acc_earth);
    if n < 1e-6 {
        return;
    }
    let a = acc_earth.map(|v| v / n);
    // The rotation taking a onto +z: about a × z by acos(a·z).
    let axis = [a[1], -a[0], 0.0];
    let angle = a[2].clamp(-1.0, 1.0).acos();
    let corr = Quat::from_axis_angle(axis, angle);
    vqf.set_inclination_correction((corr * vqf.inclination_correction()).normalized());
    vqf.restart_acc_lowpass();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upright_sensor_is_upright_from_the_first_sample() {
        // A still sensor with +y up (as on the chest): a cold VQF starts at identity
        // (+z up) and needs seconds; the warm start is right at once.
        let samples: Vec<ImuSample> = (0..1000)
            .map(|i| ImuSample {
                t_s: i as f64 * 0.01,
                acc_sensor_mps2: [0.0, 9.81, 0.0],
                gyr_sensor_rps: [0.0; 3],
                mag_sensor: None,
            })
            .collect();
        let q = estimate_warm_started(&samples, Settings::default());
        let up_sensor = q[0].conj().rotate([0.0, 0.0, 1.0]);
        assert!(up_sensor[1] > 0.999, "{up_sensor:?}");
    }
}
