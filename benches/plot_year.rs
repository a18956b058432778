//! Time to plot a year of twice-daily sessions (730, none missed): load from SQLite,
//! compute the series, draw PNG and SVG.
//!
//! Run: `cargo bench --bench plot_year -- --warm-up-time 1 --measurement-time 3`

use criterion::{Criterion, criterion_group, criterion_main};
use twistcoach::history::demo::{DirectReports, SessionPipeline, SessionPlan};
use twistcoach::history::{LocalTime, Store, UserNotes, import};
use twistcoach::plot;

/// 365 days × (morning seated + evening supine), taken from the demo programme's plans
/// and re-timed so that no session is missed.
fn year_db(path: &std::path::Path) {
    let settings = twistcoach::history::demo::ProgrammeSettings {
        weeks: 53,
        first_day: 20_000,
        utc_offset_s: 0,
        seed: 3,
    };
    let plans = twistcoach::history::demo::plan_programme(&settings);
    let seated: Vec<&SessionPlan> = plans.iter().filter(|p| p.variation.name() == "seated").collect();
    let supine: Vec<&SessionPlan> = plans.iter().filter(|p| p.variation.name() == "supine").collect();
    let mut pipeline = DirectReports::new(3);
    let mut store = Store::open(path).unwrap();
    for day in 0..365i64 {
        for (plans, hour) in [(&seated, 7), (&supine, 20)] {
            let mut plan = plans[day as usize % plans.len()].clone();
            plan.started = LocalTime {
                unix_s: (20_000 + day) * 86_400 + hour * 3600,
                utc_offset_s: 0,
            };
            let report = pipeline.run(&plan).unwrap();
            let user = UserNotes {
                pain_before: Some((day % 5) as u8),
                ..plan.user.clone()
            };
            store
                .save(&import::record_from_report(&report, plan.started, "bench", user))
                .unwrap();
        }
    }
    assert_eq!(store.count().unwrap(), 730);
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("year.sqlite");
    year_db(&db);
    let png = dir.path().join("year.png");
    let svg = dir.path().join("year.svg");
    let mut group = c.benchmark_group("plot_year_730_sessions");
    group.sample_size(10);
    group.bench_function("load_sessions", |b| {
        b.iter(|| Store::open(&db).unwrap().sessions().unwrap().len())
    });
    let records: Vec<_> = Store::open(&db)
        .unwrap()
        .sessions()
        .unwrap()
        .into_iter()
        .map(|s| s.record)
        .collect();
    let refs: Vec<_> = records.iter().collect();
    group.bench_function("series", |b| b.iter(|| plot::progress(&refs, None).sessions));
    let progress = plot::progress(&refs, None);
    group.bench_function("draw_png", |b| {
        b.iter(|| plot::plot(&progress, "year.sqlite", &png).unwrap())
    });
    group.bench_function("draw_svg", |b| {
        b.iter(|| plot::plot(&progress, "year.sqlite", &svg).unwrap())
    });
    group.bench_function("end_to_end_png", |b| {
        b.iter(|| {
            let records: Vec<_> = Store::open(&db)
                .unwrap()
                .sessions()
                .unwrap()
                .into_iter()
                .map(|s| s.record)
                .collect();
            let refs: Vec<_> = records.iter().collect();
            plot::plot(&plot::progress(&refs, None), "year.sqlite", &png).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
