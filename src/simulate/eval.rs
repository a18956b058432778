//! Evaluation: how well an analysis recovers the true report of simulated sessions.
//!
//! Reps are matched one-to-one by time overlap of `[start_s, end_s]` (largest overlap
//! first). A match with the same side is a true positive for the rep F1; side accuracy is
//! over all overlap matches. Peak and hold errors are over matched reps; each rep flag's
//! precision/recall over matched reps (a flag on an unmatched rep is already counted by
//! the F1); `unpaired_side` per session. An analysis that panics or fails counts its
//! session's true reps as missed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::{Format, HardCases, Settings, SimSession, simulate};
use crate::body::{Placement, Variation};
use crate::session::report::{Rep, Report, SessionFlag};

/// One simulated session of the batch.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub settings: Settings,
    /// "normal" or the hard case's name.
    pub group: String,
}

/// The standard batch: every variation with one and two sensors, raw and orientation
/// input, `per_combo` seeds each, plus `per_hard` sessions of each hard case, plus six
/// sessions worn on the back (upper-back, sacrum).
pub fn batch_cases(per_combo: u64, per_hard: u64) -> Vec<Case> {
    let mut cases = Vec::new();
    let sensor_sets = |v: Variation| -> [Vec<Placement>; 2] {
        match v {
            Variation::Supine => [vec![Placement::Pelvis], vec![Placement::Pelvis, Placement::Chest]],
            _ => [vec![Placement::Chest], vec![Placement::Chest, Placement::Pelvis]],
        }
    };
    let mut seed = 1000;
    for v in Variation::ALL {
        for sensors in sensor_sets(v) {
            for format in [Format::Raw, Format::Orientation] {
                for _ in 0..per_combo {
                    seed += 1;
                    let s = Settings::new(v, sensors.clone(), seed, format);
                    cases.push(case(s, "normal"));
                }
            }
        }
    }
    let hard: [(&str, Format); 9] = [
        ("bias-steps", Format::Raw),
        ("scale-errors", Format::Raw),
        ("mag-disturbance", Format::Raw),
        ("low-rate", Format::Orientation),
        ("dropouts", Format::Raw),
        ("long", Format::Raw),
        ("heading-jumps", Format::Orientation),
        ("skin-motion", Format::Raw),
        ("short-still", Format::Raw),
    ];
    let mut k = 0usize;
    for (name, format) in hard {
        for _ in 0..per_hard {
            seed += 1;
            let v = Variation::ALL[k % 3];
            let sensors = sensor_sets(v)[(k / 3) % 2].clone();
            k += 1;
            let mut s = Settings::new(v, sensors, seed, format);
            if name == "long" {
                s.long_session = true;
            } else if name == "short-still" {
                s.short_still = true;
            } else {
                let mut h = HardCases::default();
                HardCases::parse(name, &mut h);
                s.hard = h;
            }
            if name == "mag-disturbance" {
                s.with_mag = Some(true);
            }
            cases.push(case(s, name));
        }
    }
    // Posterior placements (upper-back for the chest, sacrum for the pelvis; +z backwards).
    for (k, v) in Variation::ALL.into_iter().enumerate() {
        for two in [false, true] {
            seed += 1;
            let primary = if v == Variation::Supine {
                Placement::Sacrum
            } else {
                Placement::UpperBack
            };
            let mut sensors = vec![primary];
            if two {
                sensors.push(if v == Variation::Supine {
                    Placement::UpperBack
                } else {
                    Placement::Sacrum
                });
            }
            let format = if (k + usize::from(two)) % 2 == 0 {
                Format::Raw
            } else {
                Format::Orientation
            };
            cases.push(case(Settings::new(v, sensors, seed, format), "posterior"));
        }
    }
    cases
}

fn case(s: Settings, group: &str) -> Case {
    let sensors: Vec<&str> = s.sensors.iter().map(|p| p.name()).collect();
    let name = format!(
        "{}-{}-{}-{}{}",
        s.variation.name(),
        sensors.join("+"),
        match s.format {
            Format::Raw => "raw",
            Format::Orientation => "orientation",
        },
        s.seed,
        if group == "normal" {
            String::new()
        } else {
            format!("-{group}")
        }
    );
    Case {
        name,
        settings: s,
        group: group.to_string(),
    }
}

/// What happened to one case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub case: Case,
    pub truth: Report,
    pub analyzed: Option<Report>,
    pub error: Option<String>,
    pub panicked: bool,
}

/// Simulate every case and run `analyze` on it (in parallel threads), catching panics.
pub fn run_batch<F>(cases: &[Case], analyze: F) -> Vec<CaseResult>
where
    F: Fn(&SimSession) -> Result<Report, String> + Sync,
{
    par_map(cases, |c| run_case(c, &analyze))
}

/// `f` of every item on up to 8 threads (as many as the machine has cores), in item order.
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 8);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    if let Ok(mut v) = results.lock() {
                        v.push((i, r));
                    }
                }
            });
        }
    });
    let mut v = results.into_inner().unwrap_or_default();
    v.sort_by_key(|(i, _)| *i);
    v.into_iter().map(|(_, r)| r).collect()
}

fn run_case<F>(c: &Case, analyze: &F) -> CaseResult
where
    F: Fn(&SimSession) -> Result<Report, String>,
{
    let session = match simulate(&c.settings) {
        Ok(s) => s,
        Err(e) => {
            return CaseResult {
                case: c.clone(),
                truth: empty_report(&c.settings),
                analyzed: None,
                error: Some(format!("simulation: {e}")),
                panicked: false,
            };
        }
    };
    let truth = session.truth.report.clone();
    match catch_unwind(AssertUnwindSafe(|| analyze(&session))) {
        Ok(Ok(r)) => CaseResult {
            case: c.clone(),
            truth,
            analyzed: Some(r),
            error: None,
            panicked: false,
        },
        Ok(Err(e)) => CaseResult {
            case: c.clone(),
            truth,
            analyzed: None,
            error: Some(e),
            panicked: false,
        },
        Err(p) => CaseResult {
            case: c.clone(),
            truth,
            analyzed: None,
            error: Some(
                p.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "panic".into()),
            ),
            panicked: true,
        },
    }
}

fn empty_report(s: &Settings) -> Report {
    Report {
        schema: crate::session::report::REPORT_SCHEMA.into(),
        variation: s.variation,
        caution: None,
        sensors: s.sensors.clone(),
        targets: super::truth::default_targets(s.variation),
        reps: Vec::new(),
        flags: Vec::new(),
        notes: Vec::new(),
        warnings: Vec::new(),
    }
}

/// The project's analysis of a simulated session, as `twistcoach analyze` runs it on the
/// written files (default settings).
pub fn analysis_of(session: &SimSession) -> Result<Report, String> {
    let streams = session.parsed_streams().map_err(|e| e.to_string())?;
    analyze_streams(session.settings.variation, &streams)
}

/// The project's analysis of parsed streams (placements in command-line order).
pub fn analyze_streams(variation: Variation, streams: &[(Placement, crate::stream::Stream)]) -> Result<Report, String> {
    analyze_streams_with(streams, &crate::analysis::Config::new(variation))
}

/// As [`analyze_streams`], with a given analysis configuration.
pub fn analyze_streams_with(
    streams: &[(Placement, crate::stream::Stream)],
    config: &crate::analysis::Config,
) -> Result<Report, String> {
    let input: Vec<crate::analysis::SensorStream> = streams
        .iter()
        .map(|(p, s)| crate::analysis::SensorStream {
            placement: *p,
            path: super::stream_file_name(*p).into(),
            stream: s.clone(),
            mount: Default::default(),
        })
        .collect();
    crate::analysis::analyze(&input, config).map_err(|e| e.to_string())
}

/// Counts for one flag.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FlagCounts {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
}

impl FlagCounts {
    pub fn precision(&self) -> Option<f64> {
        let d = self.tp + self.fp;
        (d > 0).then(|| self.tp as f64 / d as f64)
    }
    pub fn recall(&self) -> Option<f64> {
        let d = self.tp + self.fn_;
        (d > 0).then(|| self.tp as f64 / d as f64)
    }
}

/// Aggregated metrics over some sessions.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    pub sessions: usize,
    pub panics: usize,
    pub failures: usize,
    pub true_reps: usize,
    pub found_reps: usize,
    /// Overlap matches (any side) and those with the right side.
    pub matched: usize,
    pub matched_same_side: usize,
    pub peak_abs_err_deg: Vec<f64>,
    pub hold_abs_err_s: Vec<f64>,
    pub flags: BTreeMap<String, FlagCounts>,
}

/// Match reps one-to-one by overlap, largest first: (truth index, analysed index).
pub fn match_reps(truth: &[Rep], found: &[Rep]) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    for (i, a) in truth.iter().enumerate() {
        for (j, b) in found.iter().enumerate() {
            let overlap = a.end_s.min(b.end_s) - a.start_s.max(b.start_s);
            if overlap > 0.0 {
                pairs.push((overlap, i, j));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut used_t, mut used_f) = (vec![false; truth.len()], vec![false; found.len()]);
    let mut out = Vec::new();
    for (_, i, j) in pairs {
        if !used_t[i] && !used_f[j] {
            used_t[i] = true;
            used_f[j] = true;
            out.push((i, j));
        }
    }
    out.sort();
    out
}

fn flag_name<T: serde::Serialize>(f: &T) -> String {
    serde_json::to_value(f)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

const REP_FLAGS: [&str; 7] = [
    "short_hold",
    "over_rotation",
    "too_fast",
    "shoulders_lifted",
    "pelvis_moved",
    "hips_not_square",
    "slouch",
];

impl Metrics {
    pub fn add(&mut self, r: &CaseResult) {
        self.add_reports(&r.truth, r.analyzed.as_ref(), r.panicked);
    }

    /// Add one session: its true report and what was found (`None`: the analysis failed).
    pub fn add_reports(&mut self, truth: &Report, found: Option<&Report>, panicked: bool) {
        self.sessions += 1;
        self.true_reps += truth.reps.len();
        if panicked {
            self.panics += 1;
        }
        let Some(found) = found else {
            self.failures += 1;
            return;
        };
        self.found_reps += found.reps.len();
        for (i, j) in match_reps(&truth.reps, &found.reps) {
            let (t, f) = (&truth.reps[i], &found.reps[j]);
            self.matched += 1;
            if t.side == f.side {
                self.matched_same_side += 1;
            }
            self.peak_abs_err_deg.push((t.peak_deg - f.peak_deg).abs());
            self.hold_abs_err_s.push((t.hold_s - f.hold_s).abs());
            for name in REP_FLAGS {
                let has_t = t.flags.iter().any(|x| flag_name(x) == name);
                let has_f = f.flags.iter().any(|x| flag_name(x) == name);
                let c = self.flags.entry(name.to_string()).or_default();
                match (has_t, has_f) {
                    (true, true) => c.tp += 1,
                    (false, true) => c.fp += 1,
                    (true, false) => c.fn_ += 1,
                    _ => {}
                }
            }
        }
        let has_t = truth.flags.contains(&SessionFlag::UnpairedSide);
        let has_f = found.flags.contains(&SessionFlag::UnpairedSide);
        let c = self.flags.entry("unpaired_side".to_string()).or_default();
        match (has_t, has_f) {
            (true, true) => c.tp += 1,
            (false, true) => c.fp += 1,
            (true, false) => c.fn_ += 1,
            _ => {}
        }
    }

    /// F1 of rep detection (a match needs overlap and the same side).
    pub fn rep_f1(&self) -> f64 {
        let tp = self.matched_same_side as f64;
        let denom = self.true_reps as f64 + self.found_reps as f64;
        if denom == 0.0 { 1.0 } else { 2.0 * tp / denom }
    }

    pub fn side_accuracy(&self) -> f64 {
        if self.matched == 0 {
            return f64::NAN;
        }
        self.matched_same_side as f64 / self.matched as f64
    }

    /// The smallest precision and recall over flags that occur (in truth or analysis).
    pub fn worst_flag(&self) -> (f64, f64) {
        let p = self.flags.values().filter_map(|c| c.precision()).fold(1.0, f64::min);
        let r = self.flags.values().filter_map(|c| c.recall()).fold(1.0, f64::min);
        (p, r)
    }
}

/// The q-quantile (0..1) of some values (nearest rank); NaN when empty.
pub fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let k = ((q * s.len() as f64).ceil() as usize).clamp(1, s.len()) - 1;
    s[k]
}

/// The targets of the issue, checked per group.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    pub rep_f1: f64,
    pub side_accuracy: f64,
    pub peak_median_deg: f64,
    pub peak_p90_deg: f64,
    pub hold_median_s: f64,
    pub hold_p90_s: f64,
    pub flag_pr: f64,
}

pub const TARGETS: Thresholds = Thresholds {
    rep_f1: 0.98,
    side_accuracy: 0.99,
    peak_median_deg: 1.5,
    peak_p90_deg: 3.0,
    hold_median_s: 0.5,
    hold_p90_s: 1.5,
    flag_pr: 0.95,
};

/// Which of the targets a group misses (empty = all met).
pub fn misses(m: &Metrics, th: &Thresholds) -> Vec<String> {
    let mut out = Vec::new();
    let mut check = |ok: bool, what: String| {
        if !ok {
            out.push(what);
        }
    };
    check(m.panics == 0, format!("{} panics", m.panics));
    check(m.rep_f1() >= th.rep_f1, format!("rep F1 {:.3}", m.rep_f1()));
    let side = m.side_accuracy();
    check(
        side.is_nan() || side >= th.side_accuracy,
        format!("side accuracy {side:.3}"),
    );
    let pm = quantile(&m.peak_abs_err_deg, 0.5);
    check(pm.is_nan() || pm <= th.peak_median_deg, format!("peak median {pm:.2}°"));
    let p9 = quantile(&m.peak_abs_err_deg, 0.9);
    check(p9.is_nan() || p9 <= th.peak_p90_deg, format!("peak p90 {p9:.2}°"));
    let hm = quantile(&m.hold_abs_err_s, 0.5);
    check(hm.is_nan() || hm <= th.hold_median_s, format!("hold median {hm:.2} s"));
    let h9 = quantile(&m.hold_abs_err_s, 0.9);
    check(h9.is_nan() || h9 <= th.hold_p90_s, format!("hold p90 {h9:.2} s"));
    for (name, c) in &m.flags {
        if let Some(p) = c.precision() {
            check(p >= th.flag_pr, format!("{name} precision {p:.2}"));
        }
        if let Some(r) = c.recall() {
            check(r >= th.flag_pr, format!("{name} recall {r:.2}"));
        }
    }
    out
}

/// Which results belong to a group.
type GroupFilter = Box<dyn Fn(&CaseResult) -> bool>;

/// Metrics per group: "overall", each variation, each sensor count and format, each hard case.
pub fn grouped(results: &[CaseResult]) -> Vec<(String, Metrics)> {
    let mut groups: Vec<(String, GroupFilter)> = vec![("overall".into(), Box::new(|_| true))];
    for v in Variation::ALL {
        groups.push((
            format!("{} (normal)", v.name()),
            Box::new(move |r| r.case.settings.variation == v && r.case.group == "normal"),
        ));
    }
    groups.push((
        "one sensor (normal)".into(),
        Box::new(|r| r.case.settings.sensors.len() == 1 && r.case.group == "normal"),
    ));
    groups.push((
        "two sensors (normal)".into(),
        Box::new(|r| r.case.settings.sensors.len() == 2 && r.case.group == "normal"),
    ));
    groups.push((
        "raw (normal)".into(),
        Box::new(|r| r.case.settings.format == Format::Raw && r.case.group == "normal"),
    ));
    groups.push((
        "orientation (normal)".into(),
        Box::new(|r| r.case.settings.format == Format::Orientation && r.case.group == "normal"),
    ));
    let mut hard: Vec<String> = results
        .iter()
        .map(|r| r.case.group.clone())
        .filter(|g| g != "normal")
        .collect();
    hard.sort();
    hard.dedup();
    for h in hard {
        let kind = if h == "posterior" { "placement" } else { "hard" };
        let name = format!("{kind}: {h}");
        groups.push((name, Box::new(move |r| r.case.group == h)));
    }
    groups
        .into_iter()
        .map(|(name, f)| {
            let mut m = Metrics::default();
            for r in results.iter().filter(|r| f(r)) {
                m.add(r);
            }
            (name, m)
        })
        .collect()
}

fn pct(x: Option<f64>) -> String {
    x.map_or("   –".into(), |v| format!("{:>4.0}", v * 100.0))
}

/// A plain-text table of the grouped metrics.
pub fn table(results: &[CaseResult]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<24} {:>4} {:>5} {:>5} {:>6} {:>6} {:>7} {:>7} {:>7} {:>7} {:>6}  misses",
        "group", "sess", "reps", "F1", "side%", "panic", "pk med", "pk p90", "hd med", "hd p90", "fail"
    );
    for (name, m) in grouped(results) {
        let miss = misses(&m, &TARGETS);
        let _ = writeln!(
            s,
            "{:<24} {:>4} {:>5} {:>5.3} {:>6.1} {:>6} {:>7.2} {:>7.2} {:>7.2} {:>7.2} {:>6}  {}",
            name,
            m.sessions,
            m.true_reps,
            m.rep_f1(),
            m.side_accuracy() * 100.0,
            m.panics,
            quantile(&m.peak_abs_err_deg, 0.5),
            quantile(&m.peak_abs_err_deg, 0.9),
            quantile(&m.hold_abs_err_s, 0.5),
            quantile(&m.hold_abs_err_s, 0.9),
            m.failures,
            if miss.is_empty() {
                "—".to_string()
            } else {
                miss.join("; ")
            }
        );
    }
    let all = grouped(results).into_iter().next().map(|g| g.1).unwrap_or_default();
    let _ = writeln!(
        s,
        "\nflag precision / recall (%) over matched reps, overall (tp/fp/fn):"
    );
    for (name, c) in &all.flags {
        let _ = writeln!(
            s,
            "  {:<18} P {} R {}   ({}/{}/{})",
            name,
            pct(c.precision()),
            pct(c.recall()),
            c.tp,
            c.fp,
            c.fn_
        );
    }
    s
}

/// Per-case lines for the cases an analysis got wrong (for finding where it fails).
pub fn case_lines(results: &[CaseResult]) -> String {
    let mut s = String::new();
    for r in results {
        let mut m = Metrics::default();
        m.add(r);
        let miss = misses(&m, &TARGETS);
        if miss.is_empty() {
            continue;
        }
        let _ = writeln!(
            s,
            "{:<48} truth {} reps, found {}: {}{}",
            r.case.name,
            r.truth.reps.len(),
            r.analyzed.as_ref().map_or(0, |a| a.reps.len()),
            miss.join("; "),
            r.error.as_ref().map_or(String::new(), |e| format!(" [error: {e}]"))
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::report::{RepFlag, Side};

    fn rep(side: Side, start: f64, end: f64, peak: f64, hold: f64, flags: Vec<RepFlag>) -> Rep {
        Rep {
            side,
            start_s: start,
            hold_start_s: start + 1.0,
            hold_end_s: start + 1.0 + hold,
            end_s: end,
            hold_s: hold,
            peak_deg: peak,
            hold_mean_deg: peak - 1.0,
            flags,
            notes: Vec::new(),
            cues: Vec::new(),
        }
    }

    fn result(truth: Vec<Rep>, found: Option<Vec<Rep>>) -> CaseResult {
        let s = Settings::new(Variation::Seated, vec![Placement::Chest], 1, Format::Raw);
        let mut t = empty_report(&s);
        t.reps = truth;
        CaseResult {
            case: case(s.clone(), "normal"),
            truth: t,
            analyzed: found.map(|f| {
                let mut r = empty_report(&s);
                r.reps = f;
                r
            }),
            error: None,
            panicked: false,
        }
    }

    #[test]
    fn perfect_analysis_meets_every_target() {
        let reps = vec![
            rep(Side::Left, 3.0, 20.0, 40.0, 15.0, vec![]),
            rep(
                Side::Right,
                25.0,
                40.0,
                65.0,
                10.0,
                vec![RepFlag::ShortHold, RepFlag::OverRotation],
            ),
        ];
        let mut m = Metrics::default();
        m.add(&result(reps.clone(), Some(reps)));
        assert_eq!(m.rep_f1(), 1.0);
        assert_eq!(m.side_accuracy(), 1.0);
        assert!(misses(&m, &TARGETS).is_empty());
        assert_eq!(m.flags["short_hold"], FlagCounts { tp: 1, fp: 0, fn_: 0 });
    }

    #[test]
    fn wrong_side_missing_rep_and_flag_errors_are_counted() {
        let truth = vec![
            rep(Side::Left, 3.0, 20.0, 40.0, 15.0, vec![RepFlag::TooFast]),
            rep(Side::Right, 25.0, 40.0, 40.0, 16.0, vec![]),
            rep(Side::Left, 45.0, 60.0, 40.0, 16.0, vec![]),
        ];
        let found = vec![
            rep(Side::Right, 4.0, 19.0, 43.0, 14.0, vec![]),
            rep(Side::Right, 26.0, 41.0, 41.0, 16.5, vec![RepFlag::ShortHold]),
            rep(Side::Left, 70.0, 80.0, 30.0, 5.0, vec![]),
        ];
        let mut m = Metrics::default();
        m.add(&result(truth, Some(found)));
        assert_eq!(m.matched, 2);
        assert_eq!(m.matched_same_side, 1);
        assert!((m.rep_f1() - 2.0 / 6.0).abs() < 1e-12);
        assert_eq!(m.side_accuracy(), 0.5);
        assert_eq!(m.flags["too_fast"], FlagCounts { tp: 0, fp: 0, fn_: 1 });
        assert_eq!(m.flags["short_hold"], FlagCounts { tp: 0, fp: 1, fn_: 0 });
        assert_eq!(quantile(&m.peak_abs_err_deg, 0.5), 1.0);
        assert_eq!(quantile(&m.peak_abs_err_deg, 0.9), 3.0);
        assert!(!misses(&m, &TARGETS).is_empty());
    }

    #[test]
    fn a_failed_analysis_misses_all_its_reps() {
        let mut m = Metrics::default();
        let mut r = result(vec![rep(Side::Left, 3.0, 20.0, 40.0, 15.0, vec![])], None);
        r.panicked = true;
        m.add(&r);
        assert_eq!(m.rep_f1(), 0.0);
        assert_eq!(m.panics, 1);
    }

    #[test]
    fn batch_covers_every_variation_sensor_count_format_and_hard_case() {
        let cases = batch_cases(4, 3);
        assert!(cases.len() >= 60, "{}", cases.len());
        for v in Variation::ALL {
            for n in [1, 2] {
                for f in [Format::Raw, Format::Orientation] {
                    assert!(
                        cases.iter().any(|c| c.settings.variation == v
                            && c.settings.sensors.len() == n
                            && c.settings.format == f)
                    );
                }
            }
        }
        for g in [
            "bias-steps",
            "scale-errors",
            "mag-disturbance",
            "low-rate",
            "dropouts",
            "long",
            "heading-jumps",
            "skin-motion",
            "short-still",
        ] {
            assert_eq!(cases.iter().filter(|c| c.group == g).count(), 3);
        }
        assert_eq!(cases.iter().filter(|c| c.group == "posterior").count(), 6);
    }
}
