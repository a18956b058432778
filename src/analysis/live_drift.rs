//! Causal heading-drift removal for live sessions: the live counterpart of `drift.rs`.
//!
//! A yaw-based twist (seated, standing) measured by a 6D filter drifts: VQF cannot observe
//! the gyro bias about the vertical in motion, and a person breathing during a "rest" keeps
//! its rest-bias estimate from settling. What the movement tells us instead: between reps
//! the person is back at the same neutral. So each still moment at neutral is an anchor
//! (the angle there is the drift), held until the next one. Only the past is used, so
//! this runs sample by sample; offline, `drift.rs` interpolates between anchors on both
//! sides instead. Extrapolating the drift at the rate of the last two anchors was tried
//! and made things worse: the filter's own bias estimate changes between rests, so the
//! drift is not linear over a minute (on the demo session a hold read 25° too deep).
//!
//! Pure: angles in, corrected angles out. It owns nothing about reps: the caller says
//! whether the person is at neutral (the extractor knows).

use std::collections::VecDeque;

/// Thresholds, with units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// A rest anchor needs the angle still for this long, s.
    pub still_s: f64,
    /// Still: the angle's range over `still_s` stays below this, °.
    pub still_range_deg: f64,
    /// A still moment this far from the predicted drift is away from neutral (a hold or
    /// a pause), °: well below the smallest rep (15°), well above a rest's drift.
    pub away_deg: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            still_s: 1.0,
            still_range_deg: 2.5,
            away_deg: 10.0,
        }
    }
}

/// The drift estimator's state.
#[derive(Debug, Clone)]
pub struct LiveDrift {
    settings: Settings,
    recent: VecDeque<(f64, f64)>,
    /// The drift at the last rest, °.
    drift_deg: f64,
    /// The raw level of the last still moment away from neutral, while away.
    away_level_deg: Option<f64>,
}

impl LiveDrift {
    pub fn new(settings: Settings) -> LiveDrift {
        LiveDrift {
            settings,
            recent: VecDeque::new(),
            drift_deg: 0.0,
            away_level_deg: None,
        }
    }

    /// The drift measured at the last rest, °.
    pub fn drift_deg(&self) -> f64 {
        self.drift_deg
    }

    /// Whether the person is taken to be at neutral (between reps).
    pub fn at_neutral(&self) -> bool {
        self.away_level_deg.is_none()
    }

    /// Feed one raw (drifting) angle; returns the corrected angle, °.
    ///
    /// Neutral is judged by movements between still moments, not by the drifting angle
    /// itself: a still moment more than `away_deg` from the predicted drift means the
    /// person is away (holding); a still moment back by at least half the way is neutral
    /// again, and becomes an anchor.
    pub fn update(&mut self, t_s: f64, raw_deg: f64) -> f64 {
        let s = self.settings;
        self.recent.push_back((t_s, raw_deg));
        while self.recent.front().is_some_and(|&(t, _)| t < t_s - s.still_s) {
            self.recent.pop_front();
        }
        let span = self.recent.front().map_or(0.0, |&(t, _)| t_s - t);
        let (lo, hi) = self
            .recent
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &(_, a)| {
                (lo.min(a), hi.max(a))
            });
        if span >= 0.9 * s.still_s && hi - lo < s.still_range_deg {
            let mean = self.recent.iter().map(|&(_, a)| a).sum::<f64>() / self.recent.len() as f64;
            let predicted = self.drift_deg;
            let neutral = match self.away_level_deg {
                None => (mean - predicted).abs() < s.away_deg,
                Some(away) => (mean - predicted).abs() <= 0.5 * (away - predicted).abs(),
            };
            if neutral {
                self.away_level_deg = None;
                self.drift_deg = mean;
            } else {
                self.away_level_deg = Some(mean);
            }
        }
        raw_deg - self.drift_deg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A session with a constant drift of `rate` °/s: rests at 0, holds at 40° (true).
    fn run(rate: f64) -> Vec<(f64, f64, f64)> {
        let mut d = LiveDrift::new(Settings::default());
        let mut out = Vec::new();
        for i in 0..12000 {
            let t = i as f64 * 0.01;
            // 10 s rest, 20 s at 40°, repeat.
            let truth = if (t % 30.0) < 10.0 { 0.0 } else { 40.0 };
            let corrected = d.update(t, truth + rate * t);
            out.push((t, truth, corrected));
        }
        out
    }

    #[test]
    fn drift_is_reset_at_every_rest() {
        let out = run(0.5);
        // Uncorrected, the last hold would be 0.5 * 115 = 57° off; corrected, at most the
        // drift since the last rest ended (0.5°/s over 20 s) and ~0 at rest.
        for &(t, truth, corrected) in out.iter().filter(|x| x.0 > 12.0) {
            let since_rest_s = t % 30.0 - 10.0;
            let bound = match t % 30.0 {
                // The first second back at rest still carries the last hold's drift.
                x if x < 1.2 => 0.5 * 20.0 + 1.5,
                _ if since_rest_s < 0.0 => 1.5,
                _ => 0.5 * since_rest_s + 1.5,
            };
            assert!((corrected - truth).abs() <= bound, "t {t}: {corrected} vs {truth}");
        }
    }

    #[test]
    fn no_drift_stays_untouched() {
        for (t, truth, corrected) in run(0.0) {
            assert!((corrected - truth).abs() < 1e-9, "t {t}");
        }
    }

    #[test]
    fn a_long_still_hold_is_not_an_anchor() {
        let mut d = LiveDrift::new(Settings::default());
        for i in 0..500 {
            d.update(i as f64 * 0.01, 0.0);
        }
        assert!(d.at_neutral());
        for i in 500..3000 {
            d.update(i as f64 * 0.01, 30.0);
        }
        assert!(!d.at_neutral());
        assert!(d.drift_deg().abs() < 1e-9);
    }
}
