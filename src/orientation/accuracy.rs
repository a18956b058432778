//! Orientation error metrics of the BROAD benchmark (Laidig et al., Data 2021), so that
//! tests, benches and the demo can score an estimate without Python.
//!
//! Error quaternion in the world frame `q_err = q_est ⊗ q_truth⁻¹`; total error
//! `2·acos(|w|)`, heading `2·atan(|z/w|)`, inclination `2·acos(√(w²+z²))`; RMSE over the
//! samples marked as movement that have ground truth. 6D scoring first removes the
//! constant heading offset (circular mean of the signed heading error), as
//! `shared/data/broad/score.py --mode 6d` does.

use crate::frames::Quat;

/// Per-trial RMSE in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Rmse {
    pub total_deg: f64,
    pub heading_deg: f64,
    pub inclination_deg: f64,
}

impl std::fmt::Display for Rmse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.2} / {:.2} / {:.2}",
            self.total_deg, self.heading_deg, self.inclination_deg
        )
    }
}

/// One ground-truth row: `None` where the optical system had no truth.
#[derive(Debug, Clone, Copy)]
pub struct TruthSample {
    pub q_world_from_sensor: Option<Quat>,
    pub movement: bool,
}

/// Score `estimate` against `truth` (same length, same time grid).
/// `remove_heading_offset`: the 6D scoring variant.
pub fn rmse(estimate: &[Quat], truth: &[TruthSample], remove_heading_offset: bool) -> Rmse {
    let pairs: Vec<(Quat, Quat)> = estimate
        .iter()
        .zip(truth)
        .filter(|(_, t)| t.movement)
        .filter_map(|(e, t)| t.q_world_from_sensor.map(|q| (e.normalized(), q.normalized())))
        .collect();
    if pairs.is_empty() {
        return Rmse {
            total_deg: f64::NAN,
            heading_deg: f64::NAN,
            inclination_deg: f64::NAN,
        };
    }
    let err = |e: Quat, t: Quat| e * t.conj();
    let offset = if remove_heading_offset {
        let (s, c) = pairs.iter().fold((0.0, 0.0), |(s, c), &(e, t)| {
            let h = signed_heading_rad(err(e, t));
            (s + h.sin(), c + h.cos())
        });
        f64::atan2(s, c)
    } else {
        0.0
    };
    let correction = Quat::from_axis_angle([0.0, 0.0, 1.0], -offset);
    let (mut st, mut sh, mut si) = (0.0, 0.0, 0.0);
    for &(e, t) in &pairs {
        let q = err(correction * e, t);
        let w = q.w.abs().min(1.0);
        let total = 2.0 * w.acos();
        let heading = 2.0 * (q.z / q.w).abs().atan();
        let incl = 2.0 * (q.w * q.w + q.z * q.z).sqrt().min(1.0).acos();
        st += total * total;
        sh += heading * heading;
        si += incl * incl;
    }
    let n = pairs.len() as f64;
    Rmse {
        total_deg: (st / n).sqrt().to_degrees(),
        heading_deg: (sh / n).sqrt().to_degrees(),
        inclination_deg: (si / n).sqrt().to_degrees(),
    }
}

/// Signed heading angle of a world-frame error quaternion (rotation about z of its
/// heading part), in (−π, π].
fn signed_heading_rad(q: Quat) -> f64 {
    let q = q.canonical();
    2.0 * q.z.atan2(q.w)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn truth(q: Quat) -> TruthSample {
        TruthSample {
            q_world_from_sensor: Some(q),
            movement: true,
        }
    }

    #[test]
    fn perfect_estimate_scores_zero() {
        let q = Quat::from_axis_angle([1.0, 2.0, 3.0], 0.7);
        let r = rmse(&[q, q], &[truth(q), truth(q)], false);
        assert!(r.total_deg < 1e-6);
    }

    #[test]
    fn heading_error_is_split_out_and_removable_in_6d() {
        let t = Quat::from_axis_angle([1.0, 0.0, 0.0], 0.5);
        let e = Quat::from_axis_angle([0.0, 0.0, 1.0], 10f64.to_radians()) * t;
        let r = rmse(&[e], &[truth(t)], false);
        assert!((r.total_deg - 10.0).abs() < 1e-9 && (r.heading_deg - 10.0).abs() < 1e-9);
        assert!(r.inclination_deg < 1e-6);
        assert!(rmse(&[e], &[truth(t)], true).total_deg < 1e-6);
    }

    #[test]
    fn samples_outside_movement_or_without_truth_do_not_count() {
        let t = Quat::IDENTITY;
        let bad = Quat::from_axis_angle([1.0, 0.0, 0.0], 1.0);
        let rows = [
            truth(t),
            TruthSample {
                q_world_from_sensor: Some(t),
                movement: false,
            },
            TruthSample {
                q_world_from_sensor: None,
                movement: true,
            },
        ];
        assert!(rmse(&[t, bad, bad], &rows, false).total_deg < 1e-9);
    }
}
