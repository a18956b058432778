//! Live accuracy against the simulator's truth: a simulated session (`source::sim`, every
//! device's real notification bytes) through the live [`Pipeline`], and through `analyze`
//! from the decoded samples the live run would record, both compared with the true report
//! (`simulate::eval`'s one-to-one rep matching and metrics). It also checks the live phase
//! and cues against the rep sides: a cue for the left side during a right rep is a
//! contradiction.
//!
//! Pure (no files, no clock). The `live_accuracy` example prints the table of docs/live.md;
//! the tests of `live` use it for many seeds.

use std::fmt::Write as _;
use std::path::Path;

use super::{Cue, LiveEvent, Output, Phase, Pipeline, SensorSetup, Settings};
use crate::body::mount::parse_mount_arg;
use crate::body::{Placement, Variation};
use crate::device::DeviceKind;
use crate::record::{self, Metadata, Record, Recording, StreamInfo};
use crate::session::report::{Report, Side};
use crate::simulate::eval::{Metrics, par_map, quantile};
use crate::source::sim::{Outage, SimSession, SimSettings};
use crate::source::{BackoffSettings, SensorId};

/// The live set-up of a device kind worn by its registry mounting, at its default rate.
pub fn default_setup(placement: Placement, kind: DeviceKind) -> SensorSetup {
    let mount = parse_mount_arg(&format!("{}={}", placement.name(), kind.info().mount))
        .map(|(_, m)| m)
        .unwrap_or_default();
    SensorSetup {
        placement,
        kind,
        mount,
        rate_hz: kind.info().default_rate_hz,
    }
}

/// One simulated live session.
#[derive(Debug, Clone)]
pub struct Case {
    pub variation: Variation,
    /// Command-line order: (placement, kind).
    pub sensors: Vec<(Placement, DeviceKind)>,
    pub seed: u64,
    pub reps: usize,
    pub outages: Vec<Outage>,
}

impl Case {
    pub fn new(variation: Variation, sensors: Vec<(Placement, DeviceKind)>, seed: u64) -> Case {
        Case {
            variation,
            sensors,
            seed,
            reps: 4,
            outages: Vec::new(),
        }
    }

    /// The set-up, for grouping: "seated, chest" or "seated, chest + pelvis, outage".
    pub fn setup_label(&self) -> String {
        let placements: Vec<&str> = self.sensors.iter().map(|(p, _)| p.name()).collect();
        format!(
            "{}, {}{}",
            self.variation.name(),
            placements.join(" + "),
            if self.outages.is_empty() { "" } else { ", outage" }
        )
    }

    pub fn name(&self) -> String {
        let s: Vec<String> = self
            .sensors
            .iter()
            .map(|(p, k)| format!("{}={}", p.name(), k.name()))
            .collect();
        let outages: Vec<String> = self
            .outages
            .iter()
            .map(|o| format!(" outage {:.0}+{:.0} s", o.at_s, o.duration_s))
            .collect();
        format!(
            "{} {} seed {}{}",
            self.variation.name(),
            s.join(" "),
            self.seed,
            outages.concat()
        )
    }

    /// The simulated session (events and truth).
    pub fn simulate(&self) -> SimSession {
        SimSession::build(&SimSettings {
            variation: self.variation,
            sensors: self
                .sensors
                .iter()
                .enumerate()
                .map(|(i, (p, k))| (i as SensorId, *p, *k))
                .collect(),
            two_sensors: self.sensors.len() == 2,
            seed: self.seed,
            reps: Some(self.reps),
            max_duration_s: None,
            outages: self.outages.clone(),
            backoff: BackoffSettings::default(),
        })
    }

    /// A live pipeline for this case's sensors, with the default settings.
    pub fn pipeline(&self) -> Pipeline {
        Pipeline::new(
            self.sensors.iter().map(|(p, k)| default_setup(*p, *k)).collect(),
            Settings::new(self.variation),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", self.name()))
    }
}

/// A side shown while a rep of the other side was under way (from its start to the end of
/// its hold).
#[derive(Debug, Clone, PartialEq)]
pub struct Contradiction {
    pub t_s: f64,
    /// What was shown ("phase holding left", "cue turn slowly left").
    pub shown: String,
    pub rep_side: Side,
}

/// What one case gave.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub case: Case,
    /// Length of the simulated session, s.
    pub duration_s: f64,
    pub truth: Report,
    pub live: Result<Report, String>,
    /// `analyze` of the decoded samples (as `analyze RECORDING` would read them).
    pub offline: Result<Report, String>,
    /// Phases and cues whose side contradicts the live rep they fall in.
    pub contradictions: Vec<Contradiction>,
    /// (time, live primary angle, true primary angle), °, every processed sample.
    pub trace: Vec<(f64, f64, f64)>,
}

/// The side a phase or cue shows, if any (a cue at neutral names the next side to do, not
/// the current rep's: it is not checked).
fn shown_side(phase: Phase, cue: &Cue) -> Option<(Side, String)> {
    let word = |s: Side| if s == Side::Left { "left" } else { "right" };
    match phase {
        Phase::Turning(s) | Phase::Holding(s) | Phase::Returning(s) => {
            if let Cue::Turn { side, .. } = cue
                && *side != s
            {
                return Some((*side, format!("cue turn {} while turning {}", word(*side), word(s))));
            }
            Some((s, format!("phase {phase:?}")))
        }
        Phase::Calibrating | Phase::Neutral => None,
    }
}

fn truth_at(a: &crate::simulate::truth::TruthAngles, t: f64) -> f64 {
    let i = a.t_s.partition_point(|x| *x < t).min(a.t_s.len().saturating_sub(1));
    a.primary_deg.get(i).copied().unwrap_or(f64::NAN)
}

/// Run one case live and offline.
pub fn run_case(case: &Case) -> CaseResult {
    run_case_with(case, |_, _| {})
}

/// As [`run_case`]; `observe` sees the live events of every source event (and of the
/// session's end) with the source event's receive time, s.
pub fn run_case_with(case: &Case, mut observe: impl FnMut(f64, &[LiveEvent])) -> CaseResult {
    let session = case.simulate();
    let mut p = case.pipeline();
    let mut out = Output::default();
    let mut records = vec![Record::Metadata(metadata(case))];
    let mut shown: Vec<(f64, Side, String)> = Vec::new();
    let mut trace = Vec::new();
    let mut last_t = None;
    let mut last_receive_s = 0.0;
    for e in &session.events {
        p.update(e, &mut out);
        for (sensor, receive_s, sample) in out.samples.drain(..) {
            records.push(Record::Sample {
                stream: sensor,
                receive_s,
                sample,
            });
        }
        last_receive_s = e.receive_s();
        if !out.events.is_empty() {
            observe(last_receive_s, &out.events);
        }
        out.events.clear();
        let snap = p.snapshot();
        if let (Some(t), Some(a)) = (snap.t_s, snap.primary_deg)
            && last_t != Some(t)
        {
            last_t = Some(t);
            trace.push((t, a, truth_at(&session.truth_angles, t)));
            if let Some((side, what)) = shown_side(snap.phase, &snap.cue) {
                shown.push((t, side, what));
            }
        }
    }
    let live = p.finish(&mut out).map_err(|e| e.to_string());
    observe(last_receive_s, &out.events);
    let mut contradictions = Vec::new();
    if let Ok(r) = &live {
        for rep in &r.reps {
            for (t, side, what) in &shown {
                // From the rep's start to the end of its hold: the return may overlap the
                // next excursion when it crosses neutral straight into the other side.
                if *t >= rep.start_s && *t <= rep.hold_end_s && *side != rep.side {
                    contradictions.push(Contradiction {
                        t_s: *t,
                        shown: what.clone(),
                        rep_side: rep.side,
                    });
                }
            }
        }
    }
    let recording = Recording {
        format_major: record::FORMAT_MAJOR,
        format_minor: record::FORMAT_MINOR,
        records,
        tail: None,
        unknown_records: 0,
    };
    let offline = crate::analysis::recording::from_recording(Path::new("(simulated live session)"), &recording)
        .and_then(|input| crate::analysis::analyze(&input.streams, &input.config))
        .map_err(|e| e.to_string());
    CaseResult {
        case: case.clone(),
        duration_s: session.duration_s,
        truth: session.truth,
        live,
        offline,
        contradictions,
        trace,
    }
}

fn metadata(case: &Case) -> Metadata {
    Metadata {
        schema: record::METADATA_SCHEMA.to_string(),
        program_version: env!("CARGO_PKG_VERSION").to_string(),
        started_utc: None,
        variation: case.variation,
        protocol_toml: None,
        caution: None,
        streams: case
            .sensors
            .iter()
            .enumerate()
            .map(|(i, (p, k))| StreamInfo {
                id: i as u16,
                placement: *p,
                device_kind: format!("sim:{}", k.name()),
                device_address: None,
                device_name: None,
                mount: k.info().mount.to_string(),
                protocol: None,
                rate_hz: Some(k.info().default_rate_hz),
                calibration: None,
            })
            .collect(),
        extra: Default::default(),
    }
}

/// Run cases on all cores (at most 8 threads), in case order.
pub fn run_cases(cases: &[Case]) -> Vec<CaseResult> {
    par_map(cases, run_case)
}

/// The batch of docs/live.md: every device kind on the chest, seated and standing, and on
/// the pelvis supine, `seeds` seeds each (seeds 1…`seeds`); and two sensors of the kind
/// (seated, chest and pelvis) whose chest sensor is out of reach for 6 s from 45 s, as in
/// the browser test.
pub fn batch(seeds: u64) -> Vec<Case> {
    let mut cases = Vec::new();
    for kind in DeviceKind::ALL {
        for seed in 1..=seeds {
            let mut c = Case::new(
                Variation::Seated,
                vec![(Placement::Chest, kind), (Placement::Pelvis, kind)],
                seed,
            );
            c.outages = vec![Outage {
                placement: Some(Placement::Chest),
                at_s: 45.0,
                duration_s: 6.0,
            }];
            cases.push(c);
        }
        for variation in Variation::ALL {
            let placement = if variation == Variation::Supine {
                Placement::Pelvis
            } else {
                Placement::Chest
            };
            for seed in 1..=seeds {
                cases.push(Case::new(variation, vec![(placement, kind)], seed));
            }
        }
    }
    cases
}

/// Live and offline metrics of some results.
pub fn metrics(results: &[&CaseResult]) -> (Metrics, Metrics) {
    let (mut live, mut offline) = (Metrics::default(), Metrics::default());
    for r in results {
        live.add_reports(&r.truth, r.live.as_ref().ok(), false);
        offline.add_reports(&r.truth, r.offline.as_ref().ok(), false);
    }
    (live, offline)
}

fn med_p90_max(v: &[f64]) -> String {
    format!(
        "{:.1} / {:.1} / {:.1}",
        quantile(v, 0.5),
        quantile(v, 0.9),
        v.iter().fold(f64::NAN, |a, b| a.max(*b))
    )
}

/// The table of docs/live.md: per device kind and set-up, the live reps against the
/// truth (one-to-one by overlap: matched, missed, extra, matched on the wrong side),
/// live peak and hold errors of the matched reps, `analyze` of the same samples for
/// comparison, and the sessions with a side shown against the rep.
pub fn table(results: &[CaseResult]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| device | raw | set-up | sessions | true reps | matched | missed | extra | wrong side | peak err med / p90 / max ° | hold err med / p90 / max s | offline F1 | offline peak err med / p90 / max ° | sessions with a side contradiction |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut labels: Vec<String> = Vec::new();
    for r in results {
        let l = r.case.setup_label();
        if !labels.contains(&l) {
            labels.push(l);
        }
    }
    for (kind, label) in DeviceKind::ALL
        .into_iter()
        .flat_map(|k| labels.iter().map(move |l| (k, l)))
    {
        let rs: Vec<&CaseResult> = results
            .iter()
            .filter(|r| r.case.sensors.first().is_some_and(|(_, k)| *k == kind) && r.case.setup_label() == *label)
            .collect();
        if rs.is_empty() {
            continue;
        }
        let (l, o) = metrics(&rs);
        let contradictions: usize = rs.iter().map(|r| r.contradictions.len().min(1)).sum();
        let raw = kind.info().output != crate::device::OutputKind::Orientation;
        let failed = if l.failures > 0 {
            format!(" ({} failed)", l.failures)
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {}{} | {} | {} | {} | {} | {} | {} | {} | {:.3} | {} | {} |",
            kind.name(),
            if raw { "yes" } else { "no" },
            label,
            l.sessions,
            failed,
            l.true_reps,
            l.matched,
            l.true_reps - l.matched,
            l.found_reps - l.matched,
            l.matched - l.matched_same_side,
            med_p90_max(&l.peak_abs_err_deg),
            med_p90_max(&l.hold_abs_err_s),
            o.rep_f1(),
            med_p90_max(&o.peak_abs_err_deg),
            contradictions
        );
    }
    s
}

/// One line per case whose live reps do not match the truth (count, sides) or whose
/// peaks are more than `peak_tol_deg` off.
pub fn case_lines(results: &[CaseResult], peak_tol_deg: f64) -> String {
    let mut s = String::new();
    for r in results {
        let mut m = Metrics::default();
        m.add_reports(&r.truth, r.live.as_ref().ok(), false);
        let worst = m.peak_abs_err_deg.iter().fold(0.0f64, |a, b| a.max(*b));
        let ok = m.matched_same_side == m.true_reps && m.found_reps == m.true_reps && worst <= peak_tol_deg;
        if ok && r.contradictions.is_empty() {
            continue;
        }
        let _ = writeln!(
            s,
            "{}: truth {} reps, live {} (same side {}), worst peak error {:.1}°, {} contradictions{}",
            r.case.name(),
            m.true_reps,
            m.found_reps,
            m.matched_same_side,
            worst,
            r.contradictions.len(),
            r.live
                .as_ref()
                .err()
                .map_or(String::new(), |e| format!(" [error: {e}]"))
        );
    }
    s
}
