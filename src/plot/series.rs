//! What the progress figure shows, computed from stored sessions (pure: no drawing, no
//! files). `render` draws it.

use crate::body::Variation;
use crate::history::SessionRecord;
use crate::history::time::LocalTime;
use crate::session::report::Side;

/// How far one session's hold angle can be off without anything having changed (90th
/// percentile of the analysis' |hold_mean_deg| error), in degrees. Measured on simulated
/// sessions with ground truth (tests/plot_uncertainty.rs: p90 1.4° in normal sessions,
/// 2.3° with the hard cases); kept at the analysis' accuracy target of 3° because real
/// wear adds errors the simulator does not model. docs/plots.md says how to update it.
pub const ANGLE_UNCERTAINTY_P90_DEG: f64 = 3.0;

/// Uncertainty of a difference of two such measurements (before/after, left/right),
/// assuming independent errors: √2 × the single-measurement value.
pub fn difference_uncertainty_deg() -> f64 {
    std::f64::consts::SQRT_2 * ANGLE_UNCERTAINTY_P90_DEG
}

/// Half-width of the centred window of the rolling trend, in days.
pub const TREND_HALF_WINDOW_DAYS: f64 = 7.0;

/// Sessions starting before this local hour count as the morning session of the plan.
pub const MORNING_BEFORE_HOUR: f64 = 14.0;

/// One figure's worth of data.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// x range (local days since 1970-01-01), shared by every time panel.
    pub first_day: i64,
    pub last_day: i64,
    pub variations: Vec<VariationProgress>,
    pub adherence: Adherence,
    pub sessions: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VariationProgress {
    pub variation: Variation,
    /// Each session's best hold angle per side (x = local day, fractional).
    pub left: Vec<(f64, f64)>,
    pub right: Vec<(f64, f64)>,
    /// Rolling mean of the above, evaluated at each session.
    pub left_trend: Vec<(f64, f64)>,
    pub right_trend: Vec<(f64, f64)>,
    /// Left − right per session (sessions with both sides) and its trend.
    pub asymmetry: Vec<(f64, f64)>,
    pub asymmetry_trend: Vec<(f64, f64)>,
    /// Pain before the session (0–10), where rated.
    pub pain: Vec<(f64, f64)>,
    pub weeks: Vec<WeekStats>,
    /// The one-sentence answer shown above the panels.
    pub headline: String,
    pub asymmetry_headline: String,
    pub sessions: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeekStats {
    /// Local day number of the week's Monday.
    pub monday: i64,
    pub sessions: usize,
    pub reps: usize,
    pub holds_on_target: usize,
    pub rep_flags: usize,
}

impl WeekStats {
    pub fn on_target_pct(&self) -> Option<f64> {
        (self.reps > 0).then(|| 100.0 * self.holds_on_target as f64 / self.reps as f64)
    }
}

/// Sessions per day against the plan (one morning + one evening session).
#[derive(Debug, Clone, PartialEq)]
pub struct Adherence {
    pub first_day: i64,
    /// (morning sessions, evening sessions) for each day from `first_day`.
    pub days: Vec<(u8, u8)>,
    pub headline: String,
}

/// Monday of the week containing `day` (day 0 = 1970-01-01, a Thursday).
pub fn monday_of(day: i64) -> i64 {
    day - (day + 3).rem_euclid(7)
}

fn rolling_mean(points: &[(f64, f64)], half_window: f64) -> Vec<(f64, f64)> {
    // Points are sorted by x: a two-pointer window keeps this linear.
    let mut out = Vec::with_capacity(points.len());
    let (mut lo, mut hi, mut sum) = (0usize, 0usize, 0.0);
    for &(x, _) in points {
        while hi < points.len() && points[hi].0 <= x + half_window {
            sum += points[hi].1;
            hi += 1;
        }
        while points[lo].0 < x - half_window {
            sum -= points[lo].1;
            lo += 1;
        }
        out.push((x, sum / (hi - lo) as f64));
    }
    out
}

/// Mean of the points with x in [from, to].
fn mean_between(points: &[(f64, f64)], from: f64, to: f64) -> Option<f64> {
    let v: Vec<f64> = points
        .iter()
        .filter(|p| p.0 >= from && p.0 <= to)
        .map(|p| p.1)
        .collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Compare the first and last two weeks of a side's values.
fn side_change(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let first = points.first()?.0;
    let last = points.last()?.0;
    if last - first < 7.0 {
        return None;
    }
    let window = 14.0_f64.min((last - first) / 3.0);
    Some((
        mean_between(points, first, first + window)?,
        mean_between(points, last - window, last)?,
    ))
}

fn headline(variation: Variation, left: &[(f64, f64)], right: &[(f64, f64)]) -> String {
    let name = variation.name();
    let mut title = format!("{}{}", name[..1].to_uppercase(), &name[1..]);
    let threshold = difference_uncertainty_deg();
    let parts: Vec<(&str, Option<(f64, f64)>)> = vec![("left", side_change(left)), ("right", side_change(right))];
    if parts.iter().all(|(_, c)| c.is_none()) {
        let latest = |pts: &[(f64, f64)]| pts.last().map(|p| format!("{:.0}°", p.1)).unwrap_or("–".into());
        title.push_str(&format!(
            ": latest best hold left {}, right {} (too short a history to see a trend)",
            latest(left),
            latest(right)
        ));
        return title;
    }
    let mut phrases = Vec::new();
    let mut verdicts = Vec::new();
    for (side, change) in parts {
        if let Some((a, b)) = change {
            let d = b - a;
            phrases.push(format!("{side} {a:.0}° → {b:.0}° ({d:+.0}°)"));
            verdicts.push(if d > threshold {
                "better"
            } else if d < -threshold {
                "worse"
            } else {
                "same"
            });
        }
    }
    let verdict = if verdicts.iter().all(|v| *v == "better") {
        format!("real gain (more than the ±{threshold:.0}° that measurement noise could explain)")
    } else if verdicts.iter().all(|v| *v == "same") {
        format!("no change beyond the ±{threshold:.0}° that measurement noise could explain")
    } else if verdicts.iter().all(|v| *v == "worse") {
        format!("range has decreased (more than the ±{threshold:.0}° that noise could explain)")
    } else {
        format!("mixed: only changes over ±{threshold:.0}° are more than measurement noise")
    };
    title.push_str(&format!(": {} — {verdict}", phrases.join(", ")));
    title
}

fn asymmetry_headline(trend: &[(f64, f64)]) -> String {
    let Some(&(last_x, _)) = trend.last() else {
        return "Left − right: no session with both sides".into();
    };
    let recent = mean_between(trend, last_x - 14.0, last_x).unwrap_or(0.0);
    let band = difference_uncertainty_deg();
    if recent.abs() <= band {
        format!("Left − right, last 2 weeks: {recent:+.0}° — sides equal within measurement uncertainty (±{band:.0}°)")
    } else {
        let stiffer = if recent > 0.0 { "right" } else { "left" };
        format!("Left − right, last 2 weeks: {recent:+.0}° — the {stiffer} side turns less")
    }
}

/// Compute everything the figure shows. `sessions` in any order; `variation` filters.
pub fn progress(sessions: &[&SessionRecord], only: Option<Variation>) -> Progress {
    let mut sorted: Vec<&SessionRecord> = sessions
        .iter()
        .copied()
        .filter(|s| only.is_none_or(|v| s.report.variation == v))
        .collect();
    sorted.sort_by_key(|s| s.started);
    // Adherence counts every session, whatever the variation filter: the plan is a
    // morning and an evening session of any variation.
    let mut everything: Vec<&SessionRecord> = sessions.to_vec();
    everything.sort_by_key(|s| s.started);
    let (first_day, last_day) = if sorted.is_empty() {
        (0, 0)
    } else {
        (
            everything.first().map_or(0, |s| s.started.local_day()),
            everything.last().map_or(0, |s| s.started.local_day()),
        )
    };

    let mut variations = Vec::new();
    for variation in Variation::ALL {
        let of_v: Vec<&SessionRecord> = sorted
            .iter()
            .copied()
            .filter(|s| s.report.variation == variation)
            .collect();
        if of_v.is_empty() {
            continue;
        }
        let mut left = Vec::new();
        let mut right = Vec::new();
        let mut asymmetry = Vec::new();
        let mut pain = Vec::new();
        let mut weeks: Vec<WeekStats> = Vec::new();
        for s in &of_v {
            let x = s.started.local_days_f64();
            let best = |side: Side| {
                s.report
                    .reps
                    .iter()
                    .filter(|r| r.side == side)
                    .map(|r| r.hold_mean_deg)
                    .fold(None, |b: Option<f64>, v| Some(b.map_or(v, |b| b.max(v))))
            };
            let (l, r) = (best(Side::Left), best(Side::Right));
            if let Some(l) = l {
                left.push((x, l));
            }
            if let Some(r) = r {
                right.push((x, r));
            }
            if let (Some(l), Some(r)) = (l, r) {
                asymmetry.push((x, l - r));
            }
            if let Some(p) = s.user.pain_before {
                pain.push((x, f64::from(p)));
            }
            let monday = monday_of(s.started.local_day());
            if weeks.last().is_none_or(|w| w.monday != monday) {
                weeks.push(WeekStats {
                    monday,
                    sessions: 0,
                    reps: 0,
                    holds_on_target: 0,
                    rep_flags: 0,
                });
            }
            if let Some(w) = weeks.last_mut() {
                w.sessions += 1;
                w.reps += s.report.reps.len();
                w.holds_on_target += s
                    .report
                    .reps
                    .iter()
                    .filter(|r| crate::history::hold_on_target(r, &s.report.targets))
                    .count();
                w.rep_flags += s.report.reps.iter().map(|r| r.flags.len()).sum::<usize>();
            }
        }
        let left_trend = rolling_mean(&left, TREND_HALF_WINDOW_DAYS);
        let right_trend = rolling_mean(&right, TREND_HALF_WINDOW_DAYS);
        let asymmetry_trend = rolling_mean(&asymmetry, TREND_HALF_WINDOW_DAYS);
        variations.push(VariationProgress {
            variation,
            headline: headline(variation, &left, &right),
            asymmetry_headline: asymmetry_headline(&asymmetry_trend),
            left,
            right,
            left_trend,
            right_trend,
            asymmetry,
            asymmetry_trend,
            pain,
            weeks,
            sessions: of_v.len(),
        });
    }

    let n_days = (last_day - first_day + 1).max(0) as usize;
    let mut days = vec![(0u8, 0u8); if sorted.is_empty() { 0 } else { n_days }];
    for s in &everything {
        let i = (s.started.local_day() - first_day) as usize;
        if let Some(d) = days.get_mut(i) {
            if s.started.local_hour() < MORNING_BEFORE_HOUR {
                d.0 = d.0.saturating_add(1);
            } else {
                d.1 = d.1.saturating_add(1);
            }
        }
    }
    let adherence_headline = if days.is_empty() {
        String::new()
    } else {
        let mornings = days.iter().filter(|d| d.0 > 0).count();
        let evenings = days.iter().filter(|d| d.1 > 0).count();
        let n = days.len();
        format!(
            "Plan: a morning and an evening session every day — done {:.0}% over {n} day{} (mornings {:.0}%, evenings {:.0}%)",
            100.0 * (mornings + evenings) as f64 / (2 * n) as f64,
            if n == 1 { "" } else { "s" },
            100.0 * mornings as f64 / n as f64,
            100.0 * evenings as f64 / n as f64
        )
    };
    Progress {
        first_day,
        last_day,
        variations,
        adherence: Adherence {
            first_day,
            days,
            headline: adherence_headline,
        },
        sessions: sorted.len(),
    }
}

/// Keep only sessions in the last `weeks` weeks before `now`.
pub fn within_weeks(sessions: &[SessionRecord], weeks: Option<u32>, now: LocalTime) -> Vec<&SessionRecord> {
    match weeks {
        None => sessions.iter().collect(),
        Some(w) => {
            let from = now.unix_s - i64::from(w) * 7 * 86_400;
            sessions.iter().filter(|s| s.started.unix_s >= from).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolling_mean_is_centred_and_windowed() {
        let pts: Vec<(f64, f64)> = (0..30).map(|d| (d as f64, d as f64)).collect();
        let t = rolling_mean(&pts, 7.0);
        assert_eq!(t.len(), 30);
        // Interior: symmetric window, mean = centre.
        assert!((t[15].1 - 15.0).abs() < 1e-9);
        // Start: days 0..=7 only.
        assert!((t[0].1 - 3.5).abs() < 1e-9);
    }

    #[test]
    fn within_weeks_keeps_only_recent_sessions() {
        let plans = crate::history::demo::plan_programme(&crate::history::demo::ProgrammeSettings {
            weeks: 6,
            first_day: 20_000,
            utc_offset_s: 0,
            seed: 1,
        });
        let mut pipeline = crate::history::demo::DirectReports::new(1);
        let records: Vec<SessionRecord> = plans
            .iter()
            .map(|p| {
                use crate::history::demo::SessionPipeline;
                let report = pipeline.run(p).unwrap();
                crate::history::import::record_from_report(&report, p.started, "demo", p.user.clone())
            })
            .collect();
        let now = LocalTime {
            unix_s: (20_000 + 42) * 86_400,
            utc_offset_s: 0,
        };
        let recent = within_weeks(&records, Some(2), now);
        assert!(!recent.is_empty() && recent.len() < records.len() / 2);
        assert!(recent.iter().all(|r| r.started.unix_s >= now.unix_s - 14 * 86_400));
        assert_eq!(within_weeks(&records, None, now).len(), records.len());
        let p = progress(&recent, Some(Variation::Supine));
        assert_eq!(p.variations.len(), 1);
        assert!(p.sessions < recent.len());
        // Adherence still counts the mornings (seated) when only supine is plotted.
        assert!(p.adherence.days.iter().any(|d| d.0 > 0));
    }

    #[test]
    fn monday_of_known_days() {
        // 1970-01-05 was a Monday (day 4); 1970-01-01 (day 0) was a Thursday.
        assert_eq!(monday_of(0), -3);
        assert_eq!(monday_of(4), 4);
        assert_eq!(monday_of(10), 4);
        assert_eq!(monday_of(11), 11);
    }

    #[test]
    fn headline_says_gain_only_beyond_uncertainty() {
        let flat: Vec<(f64, f64)> = (0..40)
            .map(|d| (d as f64, 40.0 + if d % 2 == 0 { 1.0 } else { -1.0 }))
            .collect();
        let rising: Vec<(f64, f64)> = (0..40).map(|d| (d as f64, 30.0 + d as f64 * 0.5)).collect();
        assert!(headline(Variation::Seated, &flat, &flat).contains("no change"));
        assert!(headline(Variation::Seated, &rising, &rising).contains("real gain"));
        assert!(headline(Variation::Seated, &rising, &flat).contains("mixed"));
        assert!(headline(Variation::Seated, &flat[..3], &flat[..3]).contains("too short"));
    }
}
