//! Heading jumps in orientation streams from on-board fusion: a magnetometer correction
//! or a filter reset turns the fusion's world frame about the vertical by a few degrees
//! from one sample to the next. Inside a hold such a jump is read as twist, and the rests
//! around the rep cannot see it (the heading before and after may agree). A jump is a
//! single-sample rotation much larger than its neighbours' and about the world vertical;
//! it is cut out by turning every later sample back by the jump's heading change.

use crate::body::twist::twist_angle_rad;
use crate::frames::Quat;

/// A step this large (deg) can be a jump…
const JUMP_MIN_DEG: f64 = 2.0;
/// …if it is this many times the largest of the neighbouring steps…
const JUMP_RATIO: f64 = 3.0;
/// …and mostly about the world vertical (heading share of the step's angle).
const HEADING_SHARE: f64 = 0.8;
/// Neighbouring steps compared on each side.
const NEIGHBOURS: usize = 3;

fn step(q: &[Quat], i: usize) -> Quat {
    // World-frame increment from sample i-1 to i.
    q[i] * q[i - 1].conj()
}

/// The stream with heading jumps removed, and how many were found.
pub fn remove_heading_jumps(t_s: &[f64], q_world_from_sensor: &[Quat]) -> (Vec<Quat>, usize) {
    let n = q_world_from_sensor.len();
    if n < 2 * NEIGHBOURS + 2 {
        return (q_world_from_sensor.to_vec(), 0);
    }
    let mut dts: Vec<f64> = t_s.windows(2).map(|w| w[1] - w[0]).collect();
    dts.sort_by(f64::total_cmp);
    let dt_nominal = dts[dts.len() / 2];
    let angles: Vec<f64> = (0..n)
        .map(|i| {
            if i == 0 {
                0.0
            } else {
                step(q_world_from_sensor, i).angle_rad().to_degrees()
            }
        })
        .collect();
    let mut correction_rad = 0.0;
    let mut jumps = 0;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        if i > NEIGHBOURS && i + NEIGHBOURS < n && angles[i] > JUMP_MIN_DEG && t_s[i] - t_s[i - 1] < 2.5 * dt_nominal {
            let neighbours = (i - NEIGHBOURS..i)
                .chain(i + 1..=i + NEIGHBOURS)
                .map(|k| angles[k])
                .fold(0.0, f64::max);
            let s = step(q_world_from_sensor, i);
            let heading = twist_angle_rad(s, [0.0, 0.0, 1.0]);
            if angles[i] > JUMP_RATIO * neighbours && heading.abs().to_degrees() > HEADING_SHARE * angles[i] {
                // Keep the motion the neighbours suggest; remove the rest of the heading.
                let typical = 0.5 * (angles[i - 1] + angles[i + 1]).to_radians() * heading.signum();
                correction_rad += heading - typical.clamp(-heading.abs(), heading.abs());
                jumps += 1;
            }
        }
        out.push(Quat::from_axis_angle([0.0, 0.0, 1.0], -correction_rad) * q_world_from_sensor[i]);
    }
    (out, jumps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    fn yaw_deg(q: Quat) -> f64 {
        twist_angle_rad(q, [0.0, 0.0, 1.0]).to_degrees()
    }

    #[test]
    fn jumps_are_removed_and_turns_are_kept() {
        // 30 Hz; a 40° turn at up to ~60°/s, a +6° jump in the hold, a -4° jump at rest.
        let t: Vec<f64> = (0..900).map(|i| i as f64 / 30.0).collect();
        let truth = |t: f64| {
            let x = ((t - 5.0) / 1.5).clamp(0.0, 1.0);
            40.0 * (10.0 * x.powi(3) - 15.0 * x.powi(4) + 6.0 * x.powi(5))
        };
        let jump = |t: f64| if t >= 12.0 { 6.0 } else { 0.0 } + if t >= 25.0 { -4.0 } else { 0.0 };
        let tilt = Quat::from_axis_angle([1.0, 0.0, 0.0], 1.2);
        let q: Vec<Quat> = t
            .iter()
            .map(|&t| Quat::from_axis_angle([0.0, 0.0, 1.0], (truth(t) + jump(t)).to_radians()) * tilt)
            .collect();
        let (fixed, n) = remove_heading_jumps(&t, &q);
        assert_eq!(n, 2);
        for (i, &ti) in t.iter().enumerate() {
            assert_abs_diff_eq!(yaw_deg(fixed[i]), truth(ti), epsilon = 0.3);
        }
        // A clean stream is left alone.
        let clean: Vec<Quat> = t
            .iter()
            .map(|&t| Quat::from_axis_angle([0.0, 0.0, 1.0], truth(t).to_radians()) * tilt)
            .collect();
        assert_eq!(remove_heading_jumps(&t, &clean).1, 0);
    }
}
