//! Causal heading-drift removal for live sessions: the live counterpart of `drift.rs`.
//!
//! Upright (seated, standing) the twist is the heading, and a 6D filter's heading drifts
//! at the rate of the gyroscope bias about the vertical, which no accelerometer sees. The
//! live filter runs with VQF's rest-bias estimation off when upright (as `analyze` does):
//! that estimate learns a person's breathing during "rests" as bias, and its swings made
//! the drift wander (±0.5 °/s, 15–35° over a session in simulated seeds). With the bias
//! left alone, the drift is a straight line: `drift(t) = c + r·t`.
//!
//! What the movement tells us about that line: between reps the person is back at the
//! same neutral (spec §3: an analysis may use the rests to cancel its own drift). Each
//! rest (at neutral for more than `settle_s`) gives one point, its mean time and mean
//! angle, weighted by its duration; the line is the weighted least-squares fit of those
//! points, its rate pulled toward its prior (0 at the start) by `rate_prior_s3`. Only the
//! spread between rests sets the rate: within one rest, breathing (±0.5°, 3–7 s a breath)
//! would fake one (a first try that fitted every sample found 0.25 °/s in a 3 s rest of a
//! drift-free sensor). Between rests the line is extrapolated, so a long hold is
//! corrected by the rate the rests showed; offline, `drift.rs` interpolates between rests
//! on both sides instead.
//!
//! Where the person is comes from the rep state machine (the caller), with one exception:
//! when the first hold drifted, the return overshoots neutral, the state machine starts a
//! new excursion there and would never see neutral again. So a small excursion (no rep
//! yet: its peak below `rep_min_deg`) that is still and within `away_deg` of the line is
//! a rest too; once the line follows it, the angle is back in the neutral band.
//!
//! A sensor gap of a raw IMU loses the rotation during it: the offset may step, so after a
//! gap the fit starts again from the last line (its rate kept as the prior, with the weight
//! it had) and the next rest re-anchors the offset whatever its size.
//!
//! Pure: angles in, corrected angles out. It owns nothing about reps: the caller says
//! whether the person is at neutral (the rep state machine knows).

/// Where the rep state machine says the person is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whereabouts {
    /// Between reps.
    Neutral,
    /// Away from neutral, but not (yet) as far as a rep.
    SmallExcursion,
    /// In a rep.
    Away,
}

/// Thresholds, with units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Samples count as a rest after this long at neutral, s.
    pub settle_s: f64,
    /// Weight of the rate's prior, in the units of `Σ w·(t − t̄)²` over the rests (w: a
    /// rest's duration), s³: two 5 s rests 10 s apart weigh as much as the prior.
    pub rate_prior_s3: f64,
    /// Rates beyond this are not a gyroscope's bias, °/s.
    pub max_rate_dps: f64,
    /// A rest further than this from the line is a new posture, not drift, °.
    pub new_posture_deg: f64,
    /// Older rests weigh less with this time constant (a warming gyroscope's bias moves), s.
    pub memory_s: f64,
    /// A small excursion is a rest when the angle's range over `still_s` is below
    /// `still_range_deg` and it is within `away_deg` of the line, s and °.
    pub still_s: f64,
    pub still_range_deg: f64,
    pub away_deg: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            settle_s: 1.5,
            rate_prior_s3: 250.0,
            max_rate_dps: 2.0,
            new_posture_deg: 15.0,
            memory_s: 600.0,
            still_s: 1.0,
            still_range_deg: 2.5,
            away_deg: 10.0,
        }
    }
}

/// Weighted sums of the rest points (a rest's mean time and angle, weighted by its
/// duration), times relative to `t_ref_s`.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    w: f64,
    t: f64,
    y: f64,
    tt: f64,
    ty: f64,
}

/// The drift estimator's state.
#[derive(Debug, Clone)]
pub struct LiveDrift {
    settings: Settings,
    t_ref_s: f64,
    /// Finished rests.
    sums: Sums,
    /// The rest under way: its duration and its duration-weighted time and angle sums.
    current: (f64, f64, f64),
    /// The rate's prior and its weight (s³).
    rate_prior_dps: f64,
    rate_prior_weight: f64,
    /// The line while there are no points: drift `anchor_deg` at `anchor_t_s`.
    anchor_t_s: f64,
    anchor_deg: f64,
    /// After a gap, the next rest re-anchors whatever its distance from the line.
    reanchor: bool,
    neutral_since_s: Option<f64>,
    last_t_s: Option<f64>,
    recent: std::collections::VecDeque<(f64, f64)>,
}

impl LiveDrift {
    pub fn new(settings: Settings) -> LiveDrift {
        LiveDrift {
            settings,
            t_ref_s: 0.0,
            sums: Sums::default(),
            current: (0.0, 0.0, 0.0),
            rate_prior_dps: 0.0,
            rate_prior_weight: settings.rate_prior_s3,
            anchor_t_s: 0.0,
            anchor_deg: 0.0,
            reanchor: false,
            neutral_since_s: None,
            last_t_s: None,
            recent: std::collections::VecDeque::new(),
        }
    }

    /// The line's rate and its value at `t_s`, °/s and °.
    fn line(&self, t_s: f64) -> (f64, f64) {
        let s = &self.all_sums();
        if s.w <= 0.0 {
            return (
                self.rate_prior_dps,
                self.anchor_deg + self.rate_prior_dps * (t_s - self.anchor_t_s),
            );
        }
        let t_mean = s.t / s.w;
        let y_mean = s.y / s.w;
        let sxx = (s.tt - s.w * t_mean * t_mean).max(0.0);
        let sxy = s.ty - s.w * t_mean * y_mean;
        let max = self.settings.max_rate_dps;
        let r =
            ((sxy + self.rate_prior_weight * self.rate_prior_dps) / (sxx + self.rate_prior_weight)).clamp(-max, max);
        (r, y_mean + r * (t_s - self.t_ref_s - t_mean))
    }

    /// The drift the line gives at `t_s`, °.
    pub fn drift_deg(&self, t_s: f64) -> f64 {
        self.line(t_s).1
    }

    /// The estimated drift rate, °/s.
    pub fn rate_dps(&self) -> f64 {
        self.line(self.last_t_s.unwrap_or(0.0)).0
    }

    /// The data had a gap long enough to lose rotation: keep the line, let the next rest
    /// re-anchor it.
    pub fn gap(&mut self) {
        let Some(t) = self.last_t_s else {
            return;
        };
        let (r, d) = self.line(t);
        let s = &self.all_sums();
        let sxx = if s.w > 0.0 {
            (s.tt - s.t * s.t / s.w).max(0.0)
        } else {
            0.0
        };
        self.rate_prior_weight += sxx;
        self.rate_prior_dps = r;
        self.anchor_t_s = t;
        self.anchor_deg = d;
        self.sums = Sums::default();
        self.current = (0.0, 0.0, 0.0);
        self.reanchor = true;
    }

    /// The finished rests and the one under way.
    fn all_sums(&self) -> Sums {
        let mut s = self.sums;
        let (w, wt, wy) = self.current;
        if w > 0.0 {
            let (t, y) = (wt / w, wy / w);
            s.w += w;
            s.t += w * t;
            s.y += w * y;
            s.tt += w * t * t;
            s.ty += w * t * y;
        }
        s
    }

    fn close_rest(&mut self) {
        self.sums = self.all_sums();
        self.current = (0.0, 0.0, 0.0);
    }

    /// Whether the angle has been still over the last `still_s`.
    fn still(&mut self, t_s: f64, raw_deg: f64) -> bool {
        let st = self.settings;
        self.recent.push_back((t_s, raw_deg));
        while self.recent.front().is_some_and(|&(t, _)| t < t_s - st.still_s) {
            self.recent.pop_front();
        }
        let span = self.recent.front().map_or(0.0, |&(t, _)| t_s - t);
        let (lo, hi) = self
            .recent
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &(_, a)| {
                (lo.min(a), hi.max(a))
            });
        span >= 0.9 * st.still_s && hi - lo < st.still_range_deg
    }

    /// Feed one raw (drifting) angle and where the person is. Returns the corrected
    /// angle, °.
    pub fn update(&mut self, t_s: f64, raw_deg: f64, whereabouts: Whereabouts) -> f64 {
        let st = self.settings;
        let still = self.still(t_s, raw_deg);
        let at_neutral = match whereabouts {
            Whereabouts::Neutral => true,
            Whereabouts::SmallExcursion => still && (raw_deg - self.line(t_s).1).abs() < st.away_deg,
            Whereabouts::Away => false,
        };
        let dt = self.last_t_s.map_or(0.0, |last| (t_s - last).max(0.0));
        if self.last_t_s.is_none() {
            self.t_ref_s = t_s;
            self.anchor_t_s = t_s;
        }
        self.last_t_s = Some(t_s);
        if dt > 0.0 && st.memory_s.is_finite() {
            let k = (-dt / st.memory_s).exp();
            let s = &mut self.sums;
            for v in [&mut s.w, &mut s.t, &mut s.y, &mut s.tt, &mut s.ty] {
                *v *= k;
            }
        }
        let since = if at_neutral {
            *self.neutral_since_s.get_or_insert(t_s)
        } else {
            self.neutral_since_s = None;
            self.close_rest();
            t_s
        };
        let (_, drift) = self.line(t_s);
        if at_neutral && t_s - since >= st.settle_s && dt > 0.0 && dt < 1.0 {
            let far = (raw_deg - drift).abs() > st.new_posture_deg;
            if self.reanchor || !far {
                self.reanchor = false;
                let x = t_s - self.t_ref_s;
                let c = &mut self.current;
                c.0 += dt;
                c.1 += dt * x;
                c.2 += dt * raw_deg;
            }
        }
        raw_deg - self.line(t_s).1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A session with a constant drift of `rate` °/s: rests at 0 (with breathing), holds
    /// at 40° (true); `neutral` as the rep state machine would say.
    fn run(rate: f64, gap_at: Option<(f64, f64)>) -> Vec<(f64, f64, f64)> {
        let mut d = LiveDrift::new(Settings::default());
        let mut out = Vec::new();
        let mut step = 0.0;
        for i in 0..12000 {
            let t = i as f64 * 0.01;
            if let Some((at, size)) = gap_at
                && (t - at).abs() < 0.005
            {
                d.gap();
                step = size;
            }
            // 10 s rest, 20 s at 40°, repeat.
            let resting = (t % 30.0) < 10.0;
            let truth = if resting { 0.3 * (t * 1.5).sin() } else { 40.0 };
            let w = if resting {
                Whereabouts::Neutral
            } else {
                Whereabouts::Away
            };
            let corrected = d.update(t, truth + rate * t + step, w);
            out.push((t, truth, corrected));
        }
        out
    }

    #[test]
    fn a_constant_drift_is_removed_from_the_second_rep_on() {
        let out = run(0.3, None);
        // Uncorrected, the last hold would be 0.3 * 115 = 35° off. The first hold only has
        // the first rest's slope (pulled toward 0); from the second rest on, the line is
        // known to a few hundredths of a degree per second.
        for &(t, truth, corrected) in out.iter().filter(|x| x.0 > 40.0) {
            assert!((corrected - truth).abs() < 1.0, "t {t}: {corrected} vs {truth}");
        }
        let first_hold_worst = out
            .iter()
            .filter(|x| x.0 > 10.0 && x.0 < 30.0)
            .map(|x| (x.2 - x.1).abs())
            .fold(0.0, f64::max);
        assert!(first_hold_worst < 0.3 * 30.0, "{first_hold_worst}");
    }

    #[test]
    fn no_drift_stays_close() {
        for (t, truth, corrected) in run(0.0, None) {
            assert!((corrected - truth).abs() < 0.5, "t {t}: {corrected} vs {truth}");
        }
    }

    #[test]
    fn a_step_across_a_gap_is_re_anchored_at_the_next_rest() {
        // A 25° step (more than a new posture) during the second hold.
        let out = run(0.1, Some((45.0, 25.0)));
        for &(t, truth, corrected) in out.iter().filter(|x| x.0 > 63.0) {
            assert!((corrected - truth).abs() < 1.5, "t {t}: {corrected} vs {truth}");
        }
    }

    #[test]
    fn without_a_gap_a_far_rest_is_a_new_posture() {
        let mut d = LiveDrift::new(Settings::default());
        for i in 0..500 {
            d.update(i as f64 * 0.01, 0.0, Whereabouts::Neutral);
        }
        for i in 500..3000 {
            d.update(i as f64 * 0.01, 30.0, Whereabouts::Neutral);
        }
        assert!(d.drift_deg(30.0).abs() < 1e-9);
    }
}
