//! Offline (non-causal) orientation: may use the whole recording.
//!
//! First version: a backward VQF pass over the time-reversed recording converges the gyro
//! bias estimate at the start, and the forward pass starts from it, so the first seconds
//! are not spent converging.

use super::{OrientationFilter, Settings, nominal_sample_time_s, vqf_params};
use crate::frames::Quat;
use crate::stream::ImuSample;

/// Non-causal estimate for a whole stream.
pub fn estimate_offline(samples: &[ImuSample], settings: Settings) -> Vec<Quat> {
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
    forward.vqf.set_bias_estimate(bias_at_start, None);
    samples.iter().map(|s| forward.update(s)).collect()
}
