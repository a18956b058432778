//! The oracle: the true report of a simulated session, computed from the true body motion
//! by spec §7 taken literally, offline and array-based.
//!
//! This code is deliberately independent of the analysis (`session`/`analysis`): no state
//! machine, no shared helpers beyond quaternion math, so that comparing the two tests the
//! analysis rather than repeating it. Two steps:
//!
//! 1. [`angles`]: true segment orientations → the primary angle (spec §3: swing–twist
//!    about the segment's head-ward axis, relative to the mean orientation over the first
//!    2 s; with two sensors the twist of the relative rotation), the compensation quantity
//!    and chest flexion, on a fine uniform grid.
//! 2. [`report_from_angles`]: those arrays → reps, holds, flags (spec §4, §7).
//!
//! Pure: no I/O.

use crate::body::{Placement, Segment, Variation};
use crate::frames::Quat;
use crate::session::report::{REPORT_SCHEMA, Rep, RepFlag, Report, SessionFlag, Side, Targets};

const DEG: f64 = std::f64::consts::PI / 180.0;

/// Twist angle (deg, in (−180, 180]) of `q` about the unit `axis` (swing–twist).
pub fn twist_deg(q: Quat, axis: [f64; 3]) -> f64 {
    let p = q.x * axis[0] + q.y * axis[1] + q.z * axis[2];
    let mut a = 2.0 * p.atan2(q.w) / DEG;
    if a > 180.0 {
        a -= 360.0;
    } else if a <= -180.0 {
        a += 360.0;
    }
    a
}

/// Forward flexion (deg) of a segment whose rotation from its neutral is `q_neutral_from_now`:
/// asin(−f·u) with f the current front axis and u the neutral head-ward axis.
pub fn flexion_deg(q_neutral_from_now: Quat) -> f64 {
    let f = q_neutral_from_now.rotate([0.0, 0.0, 1.0]);
    (-f[1]).clamp(-1.0, 1.0).asin() / DEG
}

/// Mean of nearby unit quaternions (sign-aligned, normalised sum).
pub fn mean_quat(qs: &[Quat]) -> Quat {
    let Some(first) = qs.first() else {
        return Quat::IDENTITY;
    };
    let mut s = Quat::new(0.0, 0.0, 0.0, 0.0);
    for q in qs {
        let q = q.same_hemisphere_as(*first);
        s = Quat::new(s.w + q.w, s.x + q.x, s.y + q.y, s.z + q.z);
    }
    s.normalized()
}

/// The true angle signals of one session for one sensor set.
#[derive(Debug, Clone, Default)]
pub struct TruthAngles {
    pub t_s: Vec<f64>,
    /// The variation's primary angle (spec §3), deg, positive = front turns left.
    pub primary_deg: Vec<f64>,
    /// The secondary segment's |twist| (only with two sensors), deg.
    pub compensation_deg: Option<Vec<f64>>,
    /// Chest flexion (only when the chest is measured), deg, forward positive.
    pub chest_flexion_deg: Option<Vec<f64>>,
}

/// Compute the true angles on the grid `t_s` from `q_world_from_segment(segment, t)`.
/// `measured` lists the segments that carry a sensor; the primary one must be among them.
pub fn angles(
    variation: Variation,
    measured: &[Segment],
    t_s: &[f64],
    q_world_from_segment: impl Fn(Segment, f64) -> Quat,
) -> TruthAngles {
    let primary = variation.primary_segment();
    let secondary = match primary {
        Segment::Pelvis => Segment::Thorax,
        Segment::Thorax => Segment::Pelvis,
    };
    let two = measured.contains(&secondary);
    let chest = measured.contains(&Segment::Thorax);
    // Neutral: mean orientation over the first 2 s.
    let t_first = t_s.first().copied().unwrap_or(0.0);
    let neutral = |seg: Segment| {
        let qs: Vec<Quat> = t_s
            .iter()
            .take_while(|t| **t <= t_first + 2.0)
            .map(|t| q_world_from_segment(seg, *t))
            .collect();
        mean_quat(&qs)
    };
    let n_primary = neutral(primary);
    let n_secondary = neutral(secondary);
    let y = [0.0, 1.0, 0.0];
    let mut out = TruthAngles {
        t_s: t_s.to_vec(),
        compensation_deg: two.then(Vec::new),
        chest_flexion_deg: chest.then(Vec::new),
        ..TruthAngles::default()
    };
    for &t in t_s {
        let a_m = n_primary.conj() * q_world_from_segment(primary, t);
        let a_s = n_secondary.conj() * q_world_from_segment(secondary, t);
        let primary_deg = if two {
            // e.g. q_pelvis_from_chest for the chest, about the chest's head-ward axis.
            twist_deg(a_s.conj() * a_m, y)
        } else {
            twist_deg(a_m, y)
        };
        out.primary_deg.push(primary_deg);
        if let Some(c) = out.compensation_deg.as_mut() {
            c.push(twist_deg(a_s, y).abs());
        }
        if let Some(f) = out.chest_flexion_deg.as_mut() {
            let a_c = if primary == Segment::Thorax { a_m } else { a_s };
            f.push(flexion_deg(a_c));
        }
    }
    out
}

/// What the report depends on besides the angles.
#[derive(Debug, Clone)]
pub struct ReportContext {
    pub variation: Variation,
    pub sensors: Vec<Placement>,
    pub targets: Targets,
    pub rep_min_deg: f64,
    /// Times (start, end) where the primary sensor's stream has a gap over 1 s.
    pub gaps_s: Vec<(f64, f64)>,
}

/// Per-rep intermediate values of the truth: how far each flag's quantity is from its limit.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RepDetail {
    pub rest_before_deg: f64,
    pub rest_after_deg: f64,
    pub level_deg: f64,
    pub stay_s: f64,
    pub max_turn_speed_dps: f64,
    /// Largest change of `hold_s` when the level moves by ±0.75°.
    pub hold_sensitivity_s: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compensation_max_deg: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chest_flexion_max_deg: Option<f64>,
}

/// The true report plus what it was computed from.
#[derive(Debug, Clone)]
pub struct TruthReport {
    pub report: Report,
    pub details: Vec<RepDetail>,
    /// Peaks (deg) of excursions too small to be reps (false starts, fidgeting).
    pub small_excursion_peaks_deg: Vec<f64>,
}

/// Default targets of a variation (spec §4).
pub fn default_targets(variation: Variation) -> Targets {
    let (hold_min_s, hold_max_s, over_rotation_deg) = match variation {
        Variation::Supine => (20.0, 30.0, 75.0),
        Variation::Seated => (15.0, 30.0, 60.0),
        Variation::Standing => (10.0, 20.0, 45.0),
    };
    Targets {
        hold_min_s,
        hold_max_s,
        over_rotation_deg,
        too_fast_dps: 60.0,
    }
}

/// Compensation limit and its flag (spec §3 table), used with two sensors.
pub fn compensation_limit(variation: Variation) -> (f64, RepFlag) {
    match variation {
        Variation::Supine => (15.0, RepFlag::ShouldersLifted),
        Variation::Seated => (10.0, RepFlag::PelvisMoved),
        Variation::Standing => (10.0, RepFlag::HipsNotSquare),
    }
}

pub const SLOUCH_LIMIT_DEG: f64 = 20.0;
const EXCURSION_DEG: f64 = 3.0;
const STAY_SPEED_DPS: f64 = 10.0;
/// Level offset used to probe how sensitive a hold is to a small measurement error.
const HOLD_PROBE_DEG: f64 = 0.75;

/// Linear interpolation of `x` at time `t` (clamped to the ends).
fn interp(t_s: &[f64], x: &[f64], t: f64) -> f64 {
    let n = t_s.len();
    if n == 0 {
        return 0.0;
    }
    if t <= t_s[0] {
        return x[0];
    }
    if t >= t_s[n - 1] {
        return x[n - 1];
    }
    let i = t_s.partition_point(|v| *v <= t);
    let (t0, t1) = (t_s[i - 1], t_s[i]);
    x[i - 1] + (x[i] - x[i - 1]) * (t - t0) / (t1 - t0)
}

/// |x(t + h) − x(t − h)| / 2h at every sample.
fn window_speed(t_s: &[f64], x: &[f64], half_s: f64) -> Vec<f64> {
    t_s.iter()
        .map(|&t| (interp(t_s, x, t + half_s) - interp(t_s, x, t - half_s)).abs() / (2.0 * half_s))
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Median of the samples with `a <= t < b` (or `a < t <= b` when `after`); falls back to
/// the nearest sample when the window holds none.
fn median_in(t_s: &[f64], x: &[f64], a: f64, b: f64, after: bool) -> f64 {
    let v: Vec<f64> = t_s
        .iter()
        .zip(x)
        .filter(|(t, _)| {
            if after {
                **t > a && **t <= b
            } else {
                **t >= a && **t < b
            }
        })
        .map(|(_, x)| *x)
        .collect();
    if v.is_empty() {
        let t = if after { a } else { b };
        return interp(t_s, x, t);
    }
    median(v)
}

/// Time at which the linear interpolation between samples i and j (adjacent) crosses
/// `|x − centre| = band`; falls back to sample j's time.
fn crossing(t_s: &[f64], x: &[f64], i: usize, j: usize, centre: f64, band: f64) -> f64 {
    let (di, dj) = ((x[i] - centre).abs() - band, (x[j] - centre).abs() - band);
    if (di > 0.0) == (dj > 0.0) || (di - dj).abs() < 1e-12 {
        return t_s[j];
    }
    t_s[i] + (t_s[j] - t_s[i]) * di / (di - dj)
}

/// Time-weighted mean of `f(x)` over [a, b] (trapezoid on the samples plus interpolated ends).
fn time_mean(t_s: &[f64], x: &[f64], a: f64, b: f64, f: impl Fn(f64) -> f64) -> f64 {
    if b <= a {
        return f(interp(t_s, x, a));
    }
    let mut pts: Vec<(f64, f64)> = vec![(a, f(interp(t_s, x, a)))];
    for (t, v) in t_s.iter().zip(x) {
        if *t > a && *t < b {
            pts.push((*t, f(*v)));
        }
    }
    pts.push((b, f(interp(t_s, x, b))));
    let area: f64 = pts
        .windows(2)
        .map(|w| 0.5 * (w[0].1 + w[1].1) * (w[1].0 - w[0].0))
        .sum();
    area / (b - a)
}

fn round_to(x: f64, decimals: i32) -> f64 {
    let s = 10f64.powi(decimals);
    (x * s).round() / s
}

/// Spec §7, literally, on the arrays of `a`.
pub fn report_from_angles(ctx: &ReportContext, a: &TruthAngles) -> TruthReport {
    let t = &a.t_s;
    let x = &a.primary_deg;
    let n = t.len();
    let speed1 = window_speed(t, x, 0.5);
    let speed05 = window_speed(t, x, 0.25);
    let mut reps = Vec::new();
    let mut details = Vec::new();
    let mut small = Vec::new();

    // Excursions: maximal runs more than 3° from the rest level (0 = calibrated neutral as
    // the provisional level; each rep's own rest levels are then taken as the spec says),
    // a change of sign ending a run.
    let mut i = 0;
    while i < n {
        let sign = if x[i] > EXCURSION_DEG {
            1.0
        } else if x[i] < -EXCURSION_DEG {
            -1.0
        } else {
            i += 1;
            continue;
        };
        let first = i;
        while i < n && x[i] * sign > EXCURSION_DEG {
            i += 1;
        }
        let last = i - 1;
        let peak_i = (first..=last)
            .max_by(|&p, &q| x[p].abs().total_cmp(&x[q].abs()))
            .unwrap_or(first);
        if x[peak_i].abs() < ctx.rep_min_deg {
            small.push(x[peak_i].abs());
            continue;
        }
        // Start: last time before the peak within 3° of the rest level before, that level
        // being the median over the 1 s of rest just before the start (iterated to agree).
        let mut start_s = t[first];
        let mut rest_before = 0.0;
        for _ in 0..4 {
            rest_before = median_in(t, x, start_s - 1.0, start_s, false);
            let j = (0..peak_i).rev().find(|&j| (x[j] - rest_before).abs() <= EXCURSION_DEG);
            start_s = match j {
                Some(j) => crossing(t, x, j, j + 1, rest_before, EXCURSION_DEG),
                None => t[0],
            };
        }
        let mut end_s = t[last];
        let mut rest_after = 0.0;
        for _ in 0..4 {
            rest_after = median_in(t, x, end_s, end_s + 1.0, true);
            let j = (peak_i + 1..n).find(|&j| (x[j] - rest_after).abs() <= EXCURSION_DEG);
            end_s = match j {
                Some(j) => crossing(t, x, j, j - 1, rest_after, EXCURSION_DEG),
                None => t[n - 1],
            };
        }
        let in_rep: Vec<usize> = (0..n).filter(|&k| t[k] >= start_s && t[k] <= end_s).collect();
        let (Some(&k0), Some(&k1)) = (in_rep.first(), in_rep.last()) else {
            continue;
        };
        let peak_k = (k0..=k1)
            .max_by(|&p, &q| x[p].abs().total_cmp(&x[q].abs()))
            .unwrap_or(peak_i);
        let peak_deg = x[peak_k].abs();
        let side = Side::of_angle(x[peak_k]);

        // The stay: longest stretch with the 1 s-window speed below 10°/s.
        let mut best: Option<(usize, usize)> = None;
        let mut k = k0;
        while k <= k1 {
            if speed1[k] < STAY_SPEED_DPS {
                let s = k;
                while k <= k1 && speed1[k] < STAY_SPEED_DPS {
                    k += 1;
                }
                let e = k - 1;
                if best.is_none_or(|(bs, be)| t[e] - t[s] > t[be] - t[bs]) {
                    best = Some((s, e));
                }
            }
            k += 1;
        }
        let stay_s = best.map_or(0.0, |(s, e)| t[e] - t[s]);
        let level = match best {
            Some((s, e)) if stay_s >= 1.0 => time_mean(t, x, t[s], t[e], |v| v),
            _ => x[peak_k],
        };
        let band = EXCURSION_DEG.max(0.1 * level.abs());
        let hold_with = |level: f64, band: f64| {
            let hs = (k0..=k1).find(|&k| (x[k] - level).abs() <= band).unwrap_or(peak_k);
            let he = (k0..=k1)
                .rev()
                .find(|&k| (x[k] - level).abs() <= band)
                .unwrap_or(peak_k);
            let start = if hs > k0 {
                crossing(t, x, hs - 1, hs, level, band)
            } else {
                t[hs]
            };
            let end = if he < k1 {
                crossing(t, x, he + 1, he, level, band)
            } else {
                t[he]
            };
            (start, end)
        };
        let (hold_start_s, hold_end_s) = hold_with(level, band);
        // How much the hold would change if the level were a little off (a measurement
        // could not decide a hold that sits on the edge of its band).
        let hold_sensitivity_s = [-HOLD_PROBE_DEG, HOLD_PROBE_DEG]
            .iter()
            .map(|d| {
                let (a, b) = hold_with(level + d, band);
                ((b - a) - (hold_end_s - hold_start_s)).abs()
            })
            .fold(0.0, f64::max);
        let hold_s = (hold_end_s - hold_start_s).max(0.0);
        let hold_mean_deg = time_mean(t, x, hold_start_s, hold_end_s.max(hold_start_s), f64::abs);

        // Flags.
        let mut flags = Vec::new();
        if hold_s < ctx.targets.hold_min_s {
            flags.push(RepFlag::ShortHold);
        }
        if peak_deg > ctx.targets.over_rotation_deg {
            flags.push(RepFlag::OverRotation);
        }
        let max_turn_speed_dps = (k0..=k1)
            .filter(|&k| t[k] <= hold_start_s || t[k] >= hold_end_s)
            .map(|k| speed05[k])
            .fold(0.0, f64::max);
        if max_turn_speed_dps > ctx.targets.too_fast_dps {
            flags.push(RepFlag::TooFast);
        }
        let compensation_max_deg = a
            .compensation_deg
            .as_ref()
            .map(|c| (k0..=k1).map(|k| c[k]).fold(0.0, f64::max));
        if let Some(c) = compensation_max_deg {
            let (limit, flag) = compensation_limit(ctx.variation);
            if c > limit {
                flags.push(flag);
            }
        }
        let chest_flexion_max_deg = a
            .chest_flexion_deg
            .as_ref()
            .filter(|_| ctx.variation == Variation::Seated)
            .map(|f| (k0..=k1).map(|k| f[k]).fold(f64::NEG_INFINITY, f64::max));
        if chest_flexion_max_deg.is_some_and(|f| f > SLOUCH_LIMIT_DEG) {
            flags.push(RepFlag::Slouch);
        }
        flags.sort();
        let mut notes = Vec::new();
        if hold_s > ctx.targets.hold_max_s {
            notes.push("hold longer than the target's maximum".to_string());
        }
        if ctx.gaps_s.iter().any(|(g0, g1)| *g1 > start_s && *g0 < end_s) {
            notes.push("interrupted".to_string());
        }
        reps.push(Rep {
            side,
            start_s: round_to(start_s, 4),
            hold_start_s: round_to(hold_start_s, 4),
            hold_end_s: round_to(hold_end_s, 4),
            end_s: round_to(end_s, 4),
            hold_s: round_to(hold_s, 4),
            peak_deg: round_to(peak_deg, 3),
            hold_mean_deg: round_to(hold_mean_deg, 3),
            flags,
            notes,
            cues: Vec::new(),
        });
        details.push(RepDetail {
            rest_before_deg: round_to(rest_before, 3),
            rest_after_deg: round_to(rest_after, 3),
            level_deg: round_to(level, 3),
            stay_s: round_to(stay_s, 3),
            max_turn_speed_dps: round_to(max_turn_speed_dps, 2),
            hold_sensitivity_s: round_to(hold_sensitivity_s, 3),
            compensation_max_deg: compensation_max_deg.map(|v| round_to(v, 3)),
            chest_flexion_max_deg: chest_flexion_max_deg.map(|v| round_to(v, 3)),
        });
    }
    let lefts = reps.iter().filter(|r| r.side == Side::Left).count();
    let flags = if lefts * 2 != reps.len() {
        vec![SessionFlag::UnpairedSide]
    } else {
        Vec::new()
    };
    TruthReport {
        report: Report {
            schema: REPORT_SCHEMA.to_string(),
            variation: ctx.variation,
            caution: None,
            sensors: ctx.sensors.clone(),
            targets: ctx.targets,
            reps,
            flags,
            notes: Vec::new(),
            warnings: Vec::new(),
        },
        details,
        small_excursion_peaks_deg: small,
    }
}

/// Reasons the true report sits too close to a threshold for a fair test (empty = clear).
pub fn ambiguities(variation: Variation, truth: &TruthReport) -> Vec<String> {
    let targets = truth.report.targets;
    let mut out = Vec::new();
    for p in &truth.small_excursion_peaks_deg {
        if *p > 12.0 {
            out.push(format!("a small excursion of {p:.1}° is close to rep_min"));
        }
    }
    for (r, d) in truth.report.reps.iter().zip(&truth.details) {
        let near = |v: f64, limit: f64, margin: f64| (v - limit).abs() < margin;
        if r.peak_deg < 18.0 {
            out.push(format!(
                "rep at {:.1} s: peak {:.1}° close to rep_min",
                r.start_s, r.peak_deg
            ));
        }
        if near(r.peak_deg, targets.over_rotation_deg, 3.0) {
            out.push(format!(
                "rep at {:.1} s: peak close to the over-rotation limit",
                r.start_s
            ));
        }
        if d.hold_sensitivity_s > 1.0 {
            out.push(format!(
                "rep at {:.1} s: hold changes by {:.1} s if the level is 0.75° off",
                r.start_s, d.hold_sensitivity_s
            ));
        }
        if near(r.hold_s, targets.hold_min_s, 1.5) {
            out.push(format!("rep at {:.1} s: hold close to the target", r.start_s));
        }
        if near(d.max_turn_speed_dps, targets.too_fast_dps, 12.0) {
            out.push(format!("rep at {:.1} s: turn speed close to the limit", r.start_s));
        }
        if let Some(c) = d.compensation_max_deg
            && near(c, compensation_limit(variation).0, 3.0)
        {
            out.push(format!("rep at {:.1} s: compensation close to the limit", r.start_s));
        }
        if let Some(f) = d.chest_flexion_max_deg
            && near(f, SLOUCH_LIMIT_DEG, 3.0)
        {
            out.push(format!("rep at {:.1} s: flexion close to the slouch limit", r.start_s));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::motion::{Profile, rx, ry, rz};
    use approx::assert_abs_diff_eq;

    const DT: f64 = 0.005;

    fn grid(t_end: f64) -> Vec<f64> {
        (0..=(t_end / DT).round() as usize).map(|i| i as f64 * DT).collect()
    }

    fn ctx(variation: Variation) -> ReportContext {
        ReportContext {
            variation,
            sensors: vec![Placement::Chest],
            targets: default_targets(variation),
            rep_min_deg: 15.0,
            gaps_s: Vec::new(),
        }
    }

    fn signal(t: &[f64], f: impl Fn(f64) -> f64) -> TruthAngles {
        TruthAngles {
            t_s: t.to_vec(),
            primary_deg: t.iter().map(|t| f(*t)).collect(),
            compensation_deg: None,
            chest_flexion_deg: None,
        }
    }

    /// 0 → `level` between t_in0 and t_in1, hold to t_out0, back to `rest` by t_out1.
    fn rep_profile(t_in0: f64, t_in1: f64, level: f64, t_out0: f64, t_out1: f64, rest: f64) -> Profile {
        let mut p = Profile::new(0.0);
        p.hold_until(t_in0);
        p.move_to(t_in1, level);
        p.hold_until(t_out0);
        p.move_to(t_out1, rest);
        p
    }

    /// Time at which a min-jerk move from a to b over [t0, t1] reaches `v` (bisection).
    fn reach(p: &Profile, t0: f64, t1: f64, v: f64) -> f64 {
        let (mut lo, mut hi) = (t0, t1);
        let rising = p.value(t1) > p.value(t0);
        for _ in 0..60 {
            let m = 0.5 * (lo + hi);
            if (p.value(m) < v) == rising {
                lo = m;
            } else {
                hi = m;
            }
        }
        0.5 * (lo + hi)
    }

    #[test]
    fn a_plain_rep_has_the_defined_phases() {
        let t = grid(40.0);
        let p = rep_profile(5.0, 8.0, 40.0, 20.0, 23.0, 0.0);
        let r = report_from_angles(&ctx(Variation::Seated), &signal(&t, |t| p.value(t)));
        assert_eq!(r.report.reps.len(), 1);
        let rep = &r.report.reps[0];
        assert_eq!(rep.side, Side::Left);
        // start: within 3° of rest; hold: within band = max(3, 4) = 4° of level 40. The rest
        // level is the median over the second before the start, which includes the slow
        // first part of the turn: a little above 0, so the start is a few ms later.
        assert!(r.details[0].rest_before_deg >= 0.0 && r.details[0].rest_before_deg < 0.2);
        assert_abs_diff_eq!(rep.start_s, reach(&p, 5.0, 8.0, 3.0), epsilon = 0.01);
        assert_abs_diff_eq!(rep.end_s, reach(&p, 20.0, 23.0, 3.0), epsilon = 0.01);
        // The stay starts while the turn slows below 10°/s, so level is a hair under 40°.
        assert!(r.details[0].level_deg > 39.8 && r.details[0].level_deg < 40.0);
        assert_abs_diff_eq!(rep.hold_start_s, reach(&p, 5.0, 8.0, 36.0), epsilon = 0.01);
        assert_abs_diff_eq!(rep.hold_end_s, reach(&p, 20.0, 23.0, 36.0), epsilon = 0.01);
        assert_abs_diff_eq!(rep.hold_s, rep.hold_end_s - rep.hold_start_s, epsilon = 2e-4);
        assert_abs_diff_eq!(rep.peak_deg, 40.0, epsilon = 1e-9);
        assert!(rep.hold_mean_deg > 39.0 && rep.hold_mean_deg < 40.0);
        // Seated: hold 12.x s < 15 → short_hold; mean speed 13°/s, peak 25°/s: not too fast.
        assert_eq!(rep.flags, vec![RepFlag::ShortHold]);
        assert!(r.report.flags.contains(&SessionFlag::UnpairedSide));
    }

    #[test]
    fn right_turns_are_right_and_magnitudes_stay_positive() {
        let t = grid(60.0);
        let p = rep_profile(5.0, 8.0, -50.0, 30.0, 33.0, 0.0);
        let q = rep_profile(38.0, 41.0, 50.0, 45.0, 48.0, 0.0);
        let r = report_from_angles(&ctx(Variation::Standing), &signal(&t, |t| p.value(t) + q.value(t)));
        let reps = &r.report.reps;
        assert_eq!(reps.len(), 2);
        assert_eq!(reps[0].side, Side::Right);
        assert!(reps[0].peak_deg > 0.0 && reps[0].hold_mean_deg > 0.0);
        assert_eq!(reps[0].flags, vec![RepFlag::OverRotation]);
        assert_eq!(reps[1].side, Side::Left);
        assert_eq!(reps[1].flags, vec![RepFlag::ShortHold, RepFlag::OverRotation]);
        assert!(r.report.flags.is_empty(), "one left and one right are paired");
    }

    #[test]
    fn excursions_below_rep_min_are_not_reps() {
        let t = grid(30.0);
        let small = rep_profile(3.0, 4.0, 14.0, 6.0, 7.0, 0.0);
        let big = rep_profile(12.0, 13.0, 16.0, 18.0, 19.0, 0.0);
        let r = report_from_angles(&ctx(Variation::Seated), &signal(&t, |t| small.value(t) + big.value(t)));
        assert_eq!(r.report.reps.len(), 1);
        assert_abs_diff_eq!(r.report.reps[0].peak_deg, 16.0, epsilon = 1e-9);
        assert_eq!(r.small_excursion_peaks_deg.len(), 1);
    }

    #[test]
    fn rest_levels_come_from_the_second_before_and_after() {
        let t = grid(40.0);
        // Rests at +2° before and −1° after.
        let mut p = Profile::new(2.0);
        p.hold_until(5.0);
        p.move_to(8.0, 40.0);
        p.hold_until(25.0);
        p.move_to(28.0, -1.0);
        let r = report_from_angles(&ctx(Variation::Seated), &signal(&t, |t| p.value(t)));
        let rep = &r.report.reps[0];
        assert_abs_diff_eq!(r.details[0].rest_before_deg, 2.0, epsilon = 0.2);
        assert_abs_diff_eq!(r.details[0].rest_after_deg, -1.0, epsilon = 0.2);
        assert_abs_diff_eq!(rep.start_s, reach(&p, 5.0, 8.0, 5.0), epsilon = 0.02);
        assert_abs_diff_eq!(rep.end_s, reach(&p, 25.0, 28.0, 2.0), epsilon = 0.02);
        // Measured from 0 instead, the start would be clearly earlier.
        assert!(rep.start_s > reach(&p, 5.0, 8.0, 3.0) + 0.1);
    }

    #[test]
    fn a_quick_out_and_back_uses_the_peak_as_level() {
        let t = grid(20.0);
        let p = rep_profile(5.0, 6.5, -30.0, 6.6, 8.1, 0.0);
        let r = report_from_angles(&ctx(Variation::Standing), &signal(&t, |t| p.value(t)));
        let (rep, d) = (&r.report.reps[0], &r.details[0]);
        assert!(d.stay_s < 1.0, "{}", d.stay_s);
        assert_abs_diff_eq!(d.level_deg, -30.0, epsilon = 1e-9);
        // band 3°: within 27° of ... i.e. |θ| ≥ 27°.
        assert_abs_diff_eq!(rep.hold_start_s, reach(&p, 5.0, 6.5, -27.0), epsilon = 2e-3);
        assert_abs_diff_eq!(rep.hold_end_s, reach(&p, 6.6, 8.1, -27.0), epsilon = 2e-3);
        assert!(rep.flags.contains(&RepFlag::ShortHold));
    }

    #[test]
    fn breathing_inside_the_hold_does_not_end_it() {
        let t = grid(50.0);
        let p = rep_profile(5.0, 8.0, 45.0, 35.0, 38.0, 0.0);
        let breathe = |t: f64| {
            let depth = (p.value(t) / 45.0).clamp(0.0, 1.0);
            2.0 * depth * (std::f64::consts::TAU * 0.3 * t).sin()
        };
        let r = report_from_angles(&ctx(Variation::Supine), &signal(&t, |t| p.value(t) + breathe(t)));
        assert_eq!(r.report.reps.len(), 1);
        let rep = &r.report.reps[0];
        assert!(rep.hold_s > 27.0 && rep.hold_s < 31.0, "{}", rep.hold_s);
        assert!(r.details[0].stay_s > 25.0);
        assert!(rep.flags.is_empty(), "{:?}", rep.flags);
    }

    #[test]
    fn too_fast_uses_the_centred_half_second_window_on_the_turns_only() {
        let t = grid(40.0);
        // 60° in 0.8 s: min-jerk peak 140°/s, 0.5 s-window speed ≈ 110°/s.
        let fast = rep_profile(5.0, 5.8, 60.0, 25.0, 29.0, 0.0);
        let r = report_from_angles(&ctx(Variation::Supine), &signal(&t, |t| fast.value(t)));
        assert!(r.report.reps[0].flags.contains(&RepFlag::TooFast));
        assert!(r.details[0].max_turn_speed_dps > 100.0);
        // 40° in 2 s: peak 37.5°/s, never too fast.
        let slow = rep_profile(5.0, 7.0, 40.0, 25.0, 27.0, 0.0);
        let r = report_from_angles(&ctx(Variation::Supine), &signal(&t, |t| slow.value(t)));
        assert!(!r.report.reps[0].flags.contains(&RepFlag::TooFast));
        assert!(r.details[0].max_turn_speed_dps < 37.5);
    }

    #[test]
    fn compensation_and_slouch_use_the_largest_value_within_the_rep() {
        let t = grid(40.0);
        let p = rep_profile(5.0, 8.0, 40.0, 25.0, 28.0, 0.0);
        let mut a = signal(&t, |t| p.value(t));
        // 12° of pelvis turn during the rep; 25° of flexion *after* it (not counted).
        a.compensation_deg = Some(t.iter().map(|t| 12.0 * p.value(*t) / 40.0).collect());
        a.chest_flexion_deg = Some(t.iter().map(|t| if *t > 32.0 { 25.0 } else { 18.0 }).collect());
        let r = report_from_angles(&ctx(Variation::Seated), &a);
        assert_eq!(r.report.reps[0].flags, vec![RepFlag::PelvisMoved]);
        let r = report_from_angles(&ctx(Variation::Standing), &a);
        assert_eq!(r.report.reps[0].flags, vec![RepFlag::HipsNotSquare]);
        // Supine limit is 15°.
        let r = report_from_angles(&ctx(Variation::Supine), &a);
        assert_eq!(r.report.reps[0].flags, vec![RepFlag::ShortHold]);
        a.chest_flexion_deg = Some(
            t.iter()
                .map(|t| if *t > 20.0 && *t < 22.0 { 21.0 } else { 5.0 })
                .collect(),
        );
        let r = report_from_angles(&ctx(Variation::Seated), &a);
        assert_eq!(r.report.reps[0].flags, vec![RepFlag::PelvisMoved, RepFlag::Slouch]);
    }

    #[test]
    fn twist_sign_and_swing_twist_split() {
        // Front turns left (+x) under a positive rotation about the head-ward axis.
        assert_abs_diff_eq!(twist_deg(ry(30.0), [0.0, 1.0, 0.0]), 30.0, epsilon = 1e-9);
        // Flexion or side bend added after the twist does not change it.
        assert_abs_diff_eq!(twist_deg(ry(-40.0) * rx(25.0), [0.0, 1.0, 0.0]), -40.0, epsilon = 1e-9);
        assert_abs_diff_eq!(twist_deg(rz(20.0) * ry(35.0), [0.0, 1.0, 0.0]), 35.0, epsilon = 1e-9);
        assert_abs_diff_eq!(flexion_deg(ry(30.0) * rx(22.0)), 22.0, epsilon = 1e-9);
        assert_abs_diff_eq!(flexion_deg(rx(-10.0)), -10.0, epsilon = 1e-9);
    }

    #[test]
    fn two_sensor_primary_is_the_twist_of_the_relative_rotation() {
        let t = grid(6.0);
        // Pelvis turned 20° left, then flexed 30°; chest flexed 30° and turned 50° about
        // its own axis. Relative twist ≠ difference of the two twists.
        let q_pelvis = ry(20.0) * rx(30.0);
        let q_chest = rx(30.0) * ry(50.0);
        let q = |seg: Segment, _t: f64| match seg {
            Segment::Pelvis => q_pelvis,
            Segment::Thorax => q_chest,
        };
        // Neutral = the first 2 s, so make the motion start after them.
        let q_t = |seg: Segment, t: f64| if t <= 2.0 { Quat::IDENTITY } else { q(seg, t) };
        let a = angles(Variation::Seated, &[Segment::Thorax, Segment::Pelvis], &t, q_t);
        let last = a.primary_deg.len() - 1;
        let relative = twist_deg(q_pelvis.conj() * q_chest, [0.0, 1.0, 0.0]);
        assert_abs_diff_eq!(a.primary_deg[last], relative, epsilon = 1e-9);
        assert!((relative - 30.0).abs() > 1.0, "{relative}");
        assert_abs_diff_eq!(a.compensation_deg.as_ref().unwrap()[last], 20.0, epsilon = 1e-9);
        // The chest alone: its own twist.
        let one = angles(Variation::Seated, &[Segment::Thorax], &t, q_t);
        assert_abs_diff_eq!(one.primary_deg[last], 50.0, epsilon = 1e-9);
        assert!(one.compensation_deg.is_none());
        // Flexion is measured in the current sagittal plane: the turned front tilts less.
        let expected = (50f64.to_radians().cos() * 30f64.to_radians().sin())
            .asin()
            .to_degrees();
        assert_abs_diff_eq!(one.chest_flexion_deg.as_ref().unwrap()[last], expected, epsilon = 1e-9);
        // Pure twists: relative = difference.
        let pure = angles(Variation::Standing, &[Segment::Pelvis, Segment::Thorax], &t, |s, t| {
            if t <= 2.0 {
                Quat::IDENTITY
            } else if s == Segment::Pelvis {
                ry(12.0)
            } else {
                ry(-28.0)
            }
        });
        assert_abs_diff_eq!(pure.primary_deg[last], -40.0, epsilon = 1e-9);
        // Supine: pelvis relative to chest, positive when the pelvis's front turns left.
        let sup = angles(Variation::Supine, &[Segment::Pelvis, Segment::Thorax], &t, |s, t| {
            if t <= 2.0 {
                Quat::IDENTITY
            } else if s == Segment::Pelvis {
                ry(-60.0)
            } else {
                ry(-10.0)
            }
        });
        assert_abs_diff_eq!(sup.primary_deg[last], -50.0, epsilon = 1e-9);
        assert_abs_diff_eq!(sup.compensation_deg.as_ref().unwrap()[last], 10.0, epsilon = 1e-9);
    }

    #[test]
    fn a_hold_on_the_edge_of_its_band_is_reported_as_ambiguous() {
        let t = grid(50.0);
        // Holds at 37.3°, then deepens slowly to 44°: level ≈ 41.6°, band ≈ 4.2°, so the
        // first part sits right on the band's edge.
        let mut p = Profile::new(0.0);
        p.hold_until(3.0);
        p.move_to(6.0, 37.3);
        p.hold_until(12.0);
        p.move_to(16.0, 44.0);
        p.hold_until(32.0);
        p.move_to(35.0, 0.0);
        let r = report_from_angles(&ctx(Variation::Seated), &signal(&t, |t| p.value(t)));
        assert!(r.details[0].hold_sensitivity_s > 1.0, "{:?}", r.details[0]);
        assert!(!ambiguities(Variation::Seated, &r).is_empty());
        // A plain hold is not.
        let q = rep_profile(3.0, 6.0, 40.0, 30.0, 33.0, 0.0);
        let r = report_from_angles(&ctx(Variation::Seated), &signal(&t, |t| q.value(t)));
        assert!(r.details[0].hold_sensitivity_s < 0.2, "{:?}", r.details[0]);
        assert!(ambiguities(Variation::Seated, &r).is_empty());
    }
}
