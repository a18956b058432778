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
    let dt = nominal_sample_time_s(samples.iter().map(|s| s.t_s));
    let mut backward = OrientationFilter::new(dt, settings);
    for s in samples.iter().rev() {
        backward.update(&ImuSample {
            t_s: -s.t_s,
            gyr_sensor_rps: s.gyr_sensor_rps.map(|g| -g),
            ..*s
        });
    }
    let mut forward = OrientationFilter::new(dt, settings);
    let mut state = *backward.vqf.state();
    state.bias = state.bias.map(|b| -b);
    // Low-pass states of the rates restart from the next sample rather than carrying the
    // reversed sign.
    state.rest_gyr_lp_state = [[f64::NAN; 2]; 3];
    state.rest_last_gyr_lp = [0.0; 3];
    state.rest_t = 0.0;
    state.motion_bias_est_rlp_state = [[f64::NAN; 2]; 9];
    state.motion_bias_est_bias_lp_state = [[f64::NAN; 2]; 2];
    *forward.vqf.state_mut() = state;
    samples.iter().map(|s| forward.update(s)).collect()
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
