//! The bare causal filter over a recording, ours or `vqf-rs`, with the quaternion of every
//! sample: shared by `benches/orientation.rs` (`vqf_filter`) and `examples/vqf_speed.rs`, so
//! that the benchmark and the profiling driver time the same loops. Out of line (`run_filter*`)
//! for profilers (`valgrind --tool=callgrind --toggle-collect='*run_filter*'`).

use twistcoach::frames::Quat;
use twistcoach::orientation::{Vqf, VqfParams};
use twistcoach::stream::ImuSample;

/// Our VQF, through the one-call update `OrientationFilter` uses.
#[inline(never)]
pub fn run_filter_ours(samples: &[ImuSample], ts: f64, use_mag: bool, out: &mut Vec<Quat>) {
    let mut f = Vqf::new(ts, VqfParams::default());
    out.clear();
    out.extend(samples.iter().map(|s| {
        let mag = s.mag_sensor.filter(|_| use_mag);
        f.update(s.gyr_sensor_rps, ts, s.acc_sensor_mps2, mag);
        if mag.is_some() { f.quat_9d() } else { f.quat_6d() }
    }));
}

/// `vqf-rs`, the crate our VQF is checked against.
#[inline(never)]
pub fn run_filter_vqf_rs(samples: &[ImuSample], ts: f64, use_mag: bool, out: &mut Vec<Quat>) {
    let mut f = vqf_rs::VQF::new(ts, None, None, None);
    out.clear();
    out.extend(samples.iter().map(|s| {
        f.update_gyr_with_ts(s.gyr_sensor_rps, ts);
        f.update_acc(s.acc_sensor_mps2);
        let q = match s.mag_sensor {
            Some(m) if use_mag => {
                f.update_mag(m);
                f.quat_9d()
            }
            _ => f.quat_6d(),
        };
        Quat::new(q.0, q.1, q.2, q.3)
    }));
}
