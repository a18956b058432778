//! The rep/hold extractor (spec §7) as a small state machine: `Settings`, `State`,
//! `update(sample)`, sample by sample, so the same code runs offline and live.
//!
//! It owns the definitions of an excursion, a rep, the stay, `level`, `band`, the hold and
//! the rep's peak; it emits live [`Event`]s (neutral / turning / holding / returning) and
//! each finished rep as a [`MeasuredRep`]. Flags and cues live in `session::flags`; this
//! module knows nothing about targets except `rep_min_deg`.
//!
//! Outline: while at neutral the rest level is the running median of the angle over the
//! rest window (lagged by half a second so a turn's first degrees do not drag it along).
//! An excursion starts when the angle leaves the ±3° band around it and ends when it
//! comes back into the band, crosses to the other side, or settles at a new neutral. One
//! second later (the rest window after it), the rep is measured from the buffered
//! samples with the spec's offline definitions, so live and offline agree exactly.

use std::collections::VecDeque;

/// Thresholds, with the spec's values as defaults (`rep_min_deg` comes from the protocol).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// An excursion is more than this away from the rest level, °.
    pub excursion_deg: f64,
    /// The rest level is the median over this long, s.
    pub rest_window_s: f64,
    /// While at neutral, the rest window ends this long before now, s (so a slow turn's
    /// start does not drag the rest level along).
    pub rest_lag_s: f64,
    /// The stay: centred speed over `stay_window_s` below this, °/s.
    pub stay_speed_dps: f64,
    pub stay_window_s: f64,
    /// The live hold also needs the speed over this last stretch below `stay_speed_dps`
    /// (the slow start of a turn after a pause is not a hold), s.
    pub stay_recent_s: f64,
    /// A stay shorter than this uses the peak as `level`, s.
    pub min_stay_s: f64,
    /// `band = max(band_min_deg, band_fraction × |level|)`.
    pub band_min_deg: f64,
    pub band_fraction: f64,
    /// Excursions whose peak is below this are not reps, °.
    pub rep_min_deg: f64,
    /// A sensor gap longer than this inside a rep adds the note `interrupted`, s.
    pub gap_s: f64,
    /// The centred window of the `too_fast` speed, s.
    pub fast_window_s: f64,
    /// Settling at a new neutral: an excursion also ends when, after its peak, the angle
    /// stays within ±`settle_range_deg` for `settle_s` at less than `settle_fraction` of
    /// the peak's distance from the rest level.
    pub settle_s: f64,
    pub settle_range_deg: f64,
    pub settle_fraction: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            excursion_deg: 3.0,
            rest_window_s: 1.0,
            rest_lag_s: 0.5,
            stay_speed_dps: 10.0,
            stay_window_s: 1.0,
            stay_recent_s: 0.25,
            min_stay_s: 1.0,
            band_min_deg: 3.0,
            band_fraction: 0.1,
            rep_min_deg: 15.0,
            gap_s: 1.0,
            fast_window_s: 0.5,
            settle_s: 2.0,
            settle_range_deg: 1.5,
            settle_fraction: 0.25,
        }
    }
}

/// One sample of the primary angle and the quantities flags look at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub t_s: f64,
    /// Primary angle, ° (positive = front turned left).
    pub angle_deg: f64,
    /// The compensation quantity (secondary segment's |twist|), ° — two sensors only.
    pub compensation_deg: Option<f64>,
    /// Chest flexion, ° (forward positive) — when the chest is measured.
    pub flexion_deg: Option<f64>,
}

/// A finished rep, measured per spec §7 (before flags).
#[derive(Debug, Clone, PartialEq)]
pub struct MeasuredRep {
    /// +1 = left, −1 = right.
    pub sign: f64,
    pub start_s: f64,
    pub hold_start_s: f64,
    pub hold_end_s: f64,
    pub end_s: f64,
    pub peak_deg: f64,
    pub hold_mean_deg: f64,
    /// The stay's mean (or the signed peak), °.
    pub level_deg: f64,
    pub rest_before_deg: f64,
    pub rest_after_deg: f64,
    /// Largest centred `fast_window_s` speed in the turn in and out, °/s.
    pub max_turn_speed_dps: f64,
    pub max_compensation_deg: Option<f64>,
    pub max_flexion_deg: Option<f64>,
    /// The longest sensor gap inside the rep, s.
    pub longest_gap_s: f64,
}

impl MeasuredRep {
    pub fn hold_s(&self) -> f64 {
        self.hold_end_s - self.hold_start_s
    }
}

/// Live phase changes, for cues.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Back at neutral (an excursion ended).
    Neutral { t_s: f64 },
    /// Left the neutral band toward `sign` (+1 left, −1 right), or moved on from a hold
    /// further into the turn.
    Turning { t_s: f64, sign: f64 },
    /// The angle has been steady for the stay window (the hold is running).
    Holding { t_s: f64, angle_deg: f64 },
    /// Left the hold toward neutral.
    Returning { t_s: f64 },
    /// A rep finished (about a second after it ended).
    Rep(MeasuredRep),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Neutral,
    Excursion {
        sign: f64,
        rest_before_deg: f64,
        /// Absolute index of the peak (largest |angle − rest| on the side).
        peak_index: usize,
        /// The live hold: the angle from the rest level where it began, ° (`None`: not
        /// holding).
        holding: Option<f64>,
        returning: bool,
    },
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    rest_before_deg: f64,
    peak_index: usize,
    /// First sample after the excursion (absolute index).
    end_index: usize,
    /// Whether the recording ended inside the excursion.
    open: bool,
    /// Where the next excursion began (absolute index), if it began before this one was
    /// measured: the rest after this one ends there.
    next_start: Option<usize>,
}

/// The extractor's state.
#[derive(Debug, Clone)]
pub struct State {
    settings: Settings,
    /// Buffered samples; `buf[i]` has absolute index `base + i`.
    buf: VecDeque<Sample>,
    base: usize,
    phase: Phase,
    rest_deg: Option<f64>,
    rest_updated_s: f64,
    /// The rest level only looks at samples since the last excursion ended.
    neutral_since_s: f64,
    /// The rest level before the last excursion.
    prev_rest_deg: Option<f64>,
    pending: Vec<Pending>,
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    })
}

impl State {
    pub fn new(settings: Settings) -> Self {
        State {
            settings,
            buf: VecDeque::new(),
            base: 0,
            phase: Phase::Neutral,
            rest_deg: None,
            rest_updated_s: f64::NEG_INFINITY,
            neutral_since_s: f64::NEG_INFINITY,
            prev_rest_deg: None,
            pending: Vec::new(),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    fn at(&self, abs: usize) -> &Sample {
        &self.buf[abs - self.base]
    }

    fn next_index(&self) -> usize {
        self.base + self.buf.len()
    }

    /// Median of buffered angles with `from_s <= t <= to_s`.
    fn median_between(&self, from_s: f64, to_s: f64) -> Option<f64> {
        let mut v: Vec<f64> = self
            .buf
            .iter()
            .rev()
            .skip_while(|s| s.t_s > to_s)
            .take_while(|s| s.t_s >= from_s)
            .map(|s| s.angle_deg)
            .collect();
        median(&mut v)
    }

    /// Feed one sample (times strictly increasing); phase changes and finished reps are
    /// pushed to `events`.
    pub fn update(&mut self, sample: Sample, events: &mut Vec<Event>) {
        if !(sample.t_s.is_finite() && sample.angle_deg.is_finite()) {
            return;
        }
        if let Some(last) = self.buf.back()
            && sample.t_s <= last.t_s
        {
            return;
        }
        let s = self.settings;
        let index = self.next_index();
        self.buf.push_back(sample);
        let t = sample.t_s;
        let a = sample.angle_deg;

        match self.phase {
            Phase::Neutral => {
                // Refresh the lagged rest level every 0.1 s.
                if t - self.rest_updated_s >= 0.1 || self.rest_deg.is_none() {
                    let since = self.neutral_since_s;
                    let lagged = if t - s.rest_lag_s - since >= 0.5 * s.rest_window_s {
                        self.median_between((t - s.rest_lag_s - s.rest_window_s).max(since), t - s.rest_lag_s)
                    } else {
                        None
                    };
                    let recent = || self.median_between((t - s.rest_window_s).max(since), t);
                    // Right after an excursion there is too little rest to judge: keep
                    // the level from before it for half a rest window.
                    let fresh = t - since < 0.5 * s.rest_window_s;
                    self.rest_deg = if fresh && self.prev_rest_deg.is_some() {
                        self.prev_rest_deg
                    } else {
                        lagged.or_else(recent).or(Some(a))
                    };
                    self.rest_updated_s = t;
                }
                let rest = self.rest_deg.unwrap_or(a);
                if (a - rest).abs() > s.excursion_deg {
                    let sign = (a - rest).signum();
                    self.mark_next_start(index);
                    self.phase = Phase::Excursion {
                        sign,
                        rest_before_deg: rest,
                        peak_index: index,
                        holding: None,
                        returning: false,
                    };
                    events.push(Event::Turning { t_s: t, sign });
                }
            }
            Phase::Excursion {
                sign,
                rest_before_deg,
                mut peak_index,
                mut holding,
                mut returning,
            } => {
                let rel = (a - rest_before_deg) * sign;
                if rel > (self.at(peak_index).angle_deg - rest_before_deg) * sign {
                    peak_index = index;
                }
                let peak_rel = (self.at(peak_index).angle_deg - rest_before_deg) * sign;
                let back_in_band = rel <= s.excursion_deg;
                let settled = !back_in_band && self.settled_at_new_neutral(index, peak_index, rel, peak_rel);
                if back_in_band || settled {
                    let end_index = if settled { self.settle_start(index) } else { index };
                    self.pending.push(Pending {
                        rest_before_deg,
                        peak_index,
                        end_index,
                        open: false,
                        next_start: None,
                    });
                    self.phase = Phase::Neutral;
                    self.rest_deg = None;
                    self.prev_rest_deg = Some(rest_before_deg);
                    self.neutral_since_s = self.at(end_index).t_s;
                    events.push(Event::Neutral { t_s: t });
                    // A change of sign starts the other side's excursion at once.
                    if rel < -s.excursion_deg {
                        self.mark_next_start(index);
                        self.phase = Phase::Excursion {
                            sign: -sign,
                            rest_before_deg,
                            peak_index: index,
                            holding: None,
                            returning: false,
                        };
                        events.push(Event::Turning { t_s: t, sign: -sign });
                    }
                } else {
                    // Live phase: holding when steady for the stay window past the rep
                    // threshold (a pause below it is a hesitation or a false start, not a
                    // hold: no rep could come of it); turning again when it moves on past
                    // the hold's band; returning when it leaves the hold toward neutral.
                    let speed_over = |w: f64| self.angle_at(t - w).map(|b| (a - b).abs() / w);
                    let steady = speed_over(s.stay_window_s).is_some_and(|v| v < s.stay_speed_dps);
                    let still_now = speed_over(s.stay_recent_s).is_some_and(|v| v < s.stay_speed_dps);
                    match holding {
                        None if steady && still_now && rel >= s.rep_min_deg => {
                            holding = Some(rel);
                            events.push(Event::Holding { t_s: t, angle_deg: a });
                        }
                        Some(level)
                            if !returning && !steady && rel > level + s.band_min_deg.max(s.band_fraction * level) =>
                        {
                            holding = None;
                            events.push(Event::Turning { t_s: t, sign });
                        }
                        Some(_) if !returning && rel < 0.75 * peak_rel && !steady => {
                            returning = true;
                            events.push(Event::Returning { t_s: t });
                        }
                        _ => {}
                    }
                    self.phase = Phase::Excursion {
                        sign,
                        rest_before_deg,
                        peak_index,
                        holding,
                        returning,
                    };
                }
            }
        }
        self.finalize_ready(t, events);
        self.trim();
    }

    /// The recording ended: finish an open excursion and any pending rep.
    pub fn finish(&mut self, events: &mut Vec<Event>) {
        if let Phase::Excursion {
            rest_before_deg,
            peak_index,
            ..
        } = self.phase
        {
            self.pending.push(Pending {
                rest_before_deg,
                peak_index,
                end_index: self.next_index().saturating_sub(1),
                open: true,
                next_start: None,
            });
            self.phase = Phase::Neutral;
        }
        self.finalize_ready(f64::INFINITY, events);
    }

    fn mark_next_start(&mut self, index: usize) {
        for p in &mut self.pending {
            p.next_start.get_or_insert(index);
        }
    }

    fn settled_at_new_neutral(&self, index: usize, peak_index: usize, rel: f64, peak_rel: f64) -> bool {
        let s = &self.settings;
        let t = self.at(index).t_s;
        if peak_rel < s.rep_min_deg || t - self.at(peak_index).t_s < s.settle_s || rel > s.settle_fraction * peak_rel {
            return false;
        }
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for smp in self.buf.iter().rev().take_while(|x| x.t_s >= t - s.settle_s) {
            lo = lo.min(smp.angle_deg);
            hi = hi.max(smp.angle_deg);
        }
        let first = self.buf.iter().rev().find(|x| x.t_s < t - s.settle_s);
        first.is_some_and(|f| f.t_s > self.at(peak_index).t_s) && hi - lo <= 2.0 * s.settle_range_deg
    }

    fn settle_start(&self, index: usize) -> usize {
        let t = self.at(index).t_s - self.settings.settle_s;
        let mut i = index;
        while i > self.base && self.at(i - 1).t_s >= t {
            i -= 1;
        }
        i
    }

    /// Linear interpolation of the buffered angle at `t_s` (`None` outside the buffer).
    fn angle_at(&self, t_s: f64) -> Option<f64> {
        let (a, b) = self.buf.as_slices();
        interp_two(a, b, t_s)
    }

    fn finalize_ready(&mut self, now_s: f64, events: &mut Vec<Event>) {
        let s = self.settings;
        let wait = s.rest_window_s + 0.5 * s.stay_window_s.max(s.fast_window_s);
        while let Some(p) = self.pending.first().copied() {
            let end_t = self.at(p.end_index).t_s;
            if now_s < end_t + wait {
                break;
            }
            self.pending.remove(0);
            let samples: Vec<Sample> = self.buf.iter().copied().collect();
            if let Some(rep) = measure_rep(&samples, self.base, &p, &s) {
                events.push(Event::Rep(rep));
            }
        }
    }

    fn trim(&mut self) {
        // While at neutral with nothing pending, keep only the last few seconds: enough for
        // the rest window, its lag and a rep's start before the crossing.
        if !matches!(self.phase, Phase::Neutral) || !self.pending.is_empty() || self.buf.len() < 1024 {
            return;
        }
        let t_last = self.buf.back().map_or(0.0, |x| x.t_s);
        let horizon = t_last - 3.0 - self.settings.rest_window_s - self.settings.rest_lag_s;
        let n = self.buf.partition_point(|x| x.t_s < horizon);
        if n > 0 {
            self.buf.drain(..n);
            self.base += n;
        }
    }
}

fn interp_two(a: &[Sample], b: &[Sample], t_s: f64) -> Option<f64> {
    let get = |i: usize| if i < a.len() { &a[i] } else { &b[i - a.len()] };
    let n = a.len() + b.len();
    if n == 0 || t_s < get(0).t_s || t_s > get(n - 1).t_s {
        return None;
    }
    // Binary search for the first sample with t >= t_s.
    let (mut lo, mut hi) = (0, n - 1);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if get(mid).t_s < t_s {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if lo == 0 {
        return Some(get(0).angle_deg);
    }
    let (p, q) = (get(lo - 1), get(lo));
    let f = (t_s - p.t_s) / (q.t_s - p.t_s);
    Some(p.angle_deg + f * (q.angle_deg - p.angle_deg))
}

/// Angle at `t_s` by linear interpolation, clamped to the ends.
fn angle_at_clamped(x: &[Sample], t_s: f64) -> f64 {
    let i = x.partition_point(|s| s.t_s < t_s);
    if i == 0 {
        return x[0].angle_deg;
    }
    if i >= x.len() {
        return x[x.len() - 1].angle_deg;
    }
    let (p, q) = (&x[i - 1], &x[i]);
    p.angle_deg + (t_s - p.t_s) / (q.t_s - p.t_s) * (q.angle_deg - p.angle_deg)
}

/// Centred speed |θ(t+w/2) − θ(t−w/2)| / w, °/s.
fn centred_speed(x: &[Sample], t_s: f64, window_s: f64) -> f64 {
    (angle_at_clamped(x, t_s + 0.5 * window_s) - angle_at_clamped(x, t_s - 0.5 * window_s)).abs() / window_s
}

/// Time-weighted (trapezoid) mean of `f(sample)` over samples `i..=j`.
fn time_mean(x: &[Sample], i: usize, j: usize, f: impl Fn(&Sample) -> f64) -> f64 {
    if j <= i {
        return f(&x[i]);
    }
    let mut area = 0.0;
    for k in i..j {
        area += 0.5 * (f(&x[k]) + f(&x[k + 1])) * (x[k + 1].t_s - x[k].t_s);
    }
    area / (x[j].t_s - x[i].t_s)
}

/// Measure one excursion with the spec's offline definitions. `x` holds the buffered
/// samples, `x[i]` having absolute index `base + i`.
fn measure_rep(x: &[Sample], base: usize, p: &Pending, s: &Settings) -> Option<MeasuredRep> {
    let peak_i = p.peak_index.checked_sub(base)?;
    let exc_end_i = p.end_index.checked_sub(base)?.min(x.len() - 1);
    let t_end = x[exc_end_i].t_s;
    // The rest after ends where the next excursion began.
    let limit_i = p
        .next_start
        .and_then(|n| n.checked_sub(base))
        .map_or(x.len() - 1, |n| n.min(x.len() - 1).max(exc_end_i));
    // Rest level after: median over the rest window just after the excursion.
    let mut after: Vec<f64> = x[exc_end_i..=limit_i]
        .iter()
        .take_while(|smp| smp.t_s <= t_end + s.rest_window_s)
        .map(|smp| smp.angle_deg)
        .collect();
    let rest_after = if p.open {
        p.rest_before_deg
    } else {
        median(&mut after).unwrap_or(p.rest_before_deg)
    };
    let within = |smp: &Sample, rest: f64| (smp.angle_deg - rest).abs() <= s.excursion_deg;
    // start: the last time before the peak within 3° of the rest level before.
    let start_i = (0..peak_i)
        .rev()
        .find(|&k| within(&x[k], p.rest_before_deg))
        .unwrap_or(0);
    // end: the first time after the peak within 3° of the rest level after (or the last
    // sample if the recording ends first).
    let end_i = if p.open {
        x.len() - 1
    } else {
        (peak_i..x.len())
            .find(|&k| within(&x[k], rest_after))
            .unwrap_or(exc_end_i)
    };
    if end_i <= start_i {
        return None;
    }
    let span = &x[start_i..=end_i];
    let (peak_k, peak_deg) = span
        .iter()
        .enumerate()
        .map(|(k, smp)| (k, smp.angle_deg.abs()))
        .fold((0, f64::NEG_INFINITY), |acc, v| if v.1 > acc.1 { v } else { acc });
    if peak_deg < s.rep_min_deg {
        return None;
    }
    // The stay: the longest stretch with centred 1 s speed below the limit.
    let slow: Vec<bool> = span
        .iter()
        .map(|smp| centred_speed(x, smp.t_s, s.stay_window_s) < s.stay_speed_dps)
        .collect();
    let mut best: Option<(usize, usize)> = None;
    let mut k = 0;
    while k < span.len() {
        if !slow[k] {
            k += 1;
            continue;
        }
        let from = k;
        while k + 1 < span.len() && slow[k + 1] {
            k += 1;
        }
        let dur = span[k].t_s - span[from].t_s;
        if best.is_none_or(|(a, b)| dur > span[b].t_s - span[a].t_s) {
            best = Some((from, k));
        }
        k += 1;
    }
    let level = match best {
        Some((a, b)) if span[b].t_s - span[a].t_s >= s.min_stay_s => time_mean(span, a, b, |smp| smp.angle_deg),
        _ => span[peak_k].angle_deg,
    };
    let band = s.band_min_deg.max(s.band_fraction * level.abs());
    let in_band = |smp: &Sample| (smp.angle_deg - level).abs() <= band;
    let hold_a = span.iter().position(in_band).unwrap_or(peak_k);
    let hold_b = span.iter().rposition(in_band).unwrap_or(peak_k);
    let (hold_a, hold_b) = if hold_b < hold_a {
        (peak_k, peak_k)
    } else {
        (hold_a, hold_b)
    };
    let hold_mean = time_mean(span, hold_a, hold_b, |smp| smp.angle_deg.abs());
    let fast = |range: &[Sample]| {
        range
            .iter()
            .map(|smp| centred_speed(x, smp.t_s, s.fast_window_s))
            .fold(0.0, f64::max)
    };
    let max_turn_speed = fast(&span[..=hold_a]).max(fast(&span[hold_b..]));
    let max_of = |f: &dyn Fn(&Sample) -> Option<f64>| {
        span.iter()
            .filter_map(f)
            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
    };
    let longest_gap = span.windows(2).map(|w| w[1].t_s - w[0].t_s).fold(0.0, f64::max);
    Some(MeasuredRep {
        sign: if span[peak_k].angle_deg >= 0.0 { 1.0 } else { -1.0 },
        start_s: span[0].t_s,
        hold_start_s: span[hold_a].t_s,
        hold_end_s: span[hold_b].t_s,
        end_s: span[span.len() - 1].t_s,
        peak_deg,
        hold_mean_deg: hold_mean,
        level_deg: level,
        rest_before_deg: p.rest_before_deg,
        rest_after_deg: rest_after,
        max_turn_speed_dps: max_turn_speed,
        max_compensation_deg: max_of(&|smp| smp.compensation_deg),
        max_flexion_deg: max_of(&|smp| smp.flexion_deg),
        longest_gap_s: longest_gap,
    })
}

/// Run the extractor over a whole signal; returns the reps in order.
pub fn extract_all(samples: &[Sample], settings: Settings) -> Vec<MeasuredRep> {
    let mut state = State::new(settings);
    let mut events = Vec::new();
    let mut reps = Vec::new();
    for s in samples {
        state.update(*s, &mut events);
        reps.extend(
            events
                .drain(..)
                .filter_map(|e| if let Event::Rep(r) = e { Some(r) } else { None }),
        );
    }
    state.finish(&mut events);
    reps.extend(
        events
            .drain(..)
            .filter_map(|e| if let Event::Rep(r) = e { Some(r) } else { None }),
    );
    reps
}
