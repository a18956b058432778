//! Progress figures (plotters): PNG or SVG, text in DejaVu Sans embedded in the binary (no
//! system fonts needed).
//!
//! Owns drawing only. What is drawn is computed in `series` (pure); the sessions come
//! from `history`. See docs/plots.md for how to read the figure and where the
//! measurement-uncertainty band comes from.

pub mod series;

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

pub use series::{ANGLE_UNCERTAINTY_P90_DEG, Progress, progress};

/// DejaVu Sans (Bitstream Vera licence, notice in assets/fonts/LICENSE-DejaVu.txt).
const FONT_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const FONT: &str = "sans-serif";

pub const WIDTH_PX: u32 = 1400;
const TITLE_H: u32 = 64;
const HEADLINE_H: u32 = 30;
const ROM_H: u32 = 320;
const ASYM_H: u32 = 170;
const WEEK_H: u32 = 190;
const GAP_H: u32 = 18;
const CAL_MAX_CELL: u32 = 34;
const EMPTY_H: u32 = 300;
const Y_LABEL_W: u32 = 70;
const RIGHT_LABEL_W: u32 = 70;

const LEFT_COLOR: RGBColor = RGBColor(31, 119, 180);
const RIGHT_COLOR: RGBColor = RGBColor(230, 110, 0);
const PAIN_COLOR: RGBColor = RGBColor(170, 30, 90);
const TARGET_COLOR: RGBColor = RGBColor(60, 150, 80);
const FLAG_COLOR: RGBColor = RGBColor(110, 80, 160);
const DONE_MORNING: RGBColor = RGBColor(70, 160, 90);
const DONE_EVENING: RGBColor = RGBColor(30, 110, 60);
const MISSED: RGBColor = RGBColor(225, 225, 225);
const TEXT: RGBColor = RGBColor(30, 30, 30);
const MUTED: RGBColor = RGBColor(110, 110, 110);

static FONT_ONCE: Once = Once::new();

fn register_font() {
    FONT_ONCE.call_once(|| {
        // The embedded font is valid; if registration ever failed, drawing text would
        // report FontUnavailable, which `plot` turns into an error.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, FONT_TTF);
    });
}

/// Errors drawing a figure.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("{}: unknown image type; end the file name in .png or .svg", path.display())]
    UnknownFormat { path: std::path::PathBuf },
    #[error("{}: cannot draw the figure: {detail}", path.display())]
    Draw { path: std::path::PathBuf, detail: String },
}

/// Image format, from the output's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Png,
    Svg,
}

pub fn format_of(path: &Path) -> Result<Format, PlotError> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("png") => Ok(Format::Png),
        Some("svg") => Ok(Format::Svg),
        _ => Err(PlotError::UnknownFormat {
            path: path.to_path_buf(),
        }),
    }
}

/// The figure's size in pixels for this data.
pub fn figure_size(p: &Progress) -> (u32, u32) {
    if p.sessions == 0 {
        return (WIDTH_PX, EMPTY_H);
    }
    let per_variation = HEADLINE_H + ROM_H + HEADLINE_H + ASYM_H + HEADLINE_H + WEEK_H + GAP_H;
    (
        WIDTH_PX,
        TITLE_H + per_variation * p.variations.len() as u32 + calendar_height(p),
    )
}

fn calendar_cell(p: &Progress) -> u32 {
    let weeks = ((series::monday_of(p.last_day) - series::monday_of(p.first_day)) / 7 + 1).max(1) as u32;
    ((WIDTH_PX - Y_LABEL_W - 40) / weeks).clamp(6, CAL_MAX_CELL)
}

fn calendar_height(p: &Progress) -> u32 {
    HEADLINE_H + 22 + 7 * calendar_cell(p) + 40
}

/// Draw `progress` to `path` (PNG or SVG by extension). `source` names the database in
/// the title.
pub fn plot(progress: &Progress, source: &str, path: &Path) -> Result<(u32, u32), PlotError> {
    register_font();
    let size = figure_size(progress);
    let draw_err = |detail: String| PlotError::Draw {
        path: path.to_path_buf(),
        detail,
    };
    match format_of(path)? {
        Format::Png => {
            let area = BitMapBackend::new(path, size).into_drawing_area();
            draw(&area, progress, source).map_err(draw_err)?;
            area.present().map_err(|e| draw_err(e.to_string()))?;
        }
        Format::Svg => {
            let area = SVGBackend::new(path, size).into_drawing_area();
            draw(&area, progress, source).map_err(draw_err)?;
            area.present().map_err(|e| draw_err(e.to_string()))?;
        }
    }
    Ok(size)
}

type DrawResult = Result<(), String>;

fn font(size: f64) -> TextStyle<'static> {
    (FONT, size).into_font().color(&TEXT)
}

fn e<E: std::fmt::Display>(err: E) -> String {
    err.to_string()
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn date_label(x: f64) -> String {
    let (_, m, d, _) = crate::history::time::day_parts(x.floor() as i64);
    format!("{} {d}", MONTHS[(m.clamp(1, 12) - 1) as usize])
}

/// Date ticks: every day for up to 3 weeks, Mondays up to 12 weeks, the 1st and 15th
/// up to 8 months, else the 1st of each month.
fn x_ticks(range: &std::ops::Range<f64>) -> Vec<f64> {
    let (from, to) = (range.start.ceil() as i64, range.end.floor() as i64);
    let span = to - from;
    (from..=to)
        .filter(|&day| {
            let (_, _, d, weekday) = crate::history::time::day_parts(day);
            if span <= 21 {
                true
            } else if span <= 84 {
                weekday == 0
            } else if span <= 240 {
                d == 1 || d == 15
            } else {
                d == 1
            }
        })
        .map(|d| d as f64)
        .collect()
}

/// The time axis: local days as f64, with ticks on calendar days (`x_ticks`) and labels
/// as dates. (plotters' own f64 axis puts ticks on round numbers of days.)
#[derive(Clone)]
struct DayAxis {
    range: std::ops::Range<f64>,
    ticks: Vec<f64>,
}

impl DayAxis {
    fn new(range: std::ops::Range<f64>) -> DayAxis {
        DayAxis {
            ticks: x_ticks(&range),
            range,
        }
    }
}

impl plotters::coord::ranged1d::Ranged for DayAxis {
    type FormatOption = plotters::coord::ranged1d::NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = self.range.end - self.range.start;
        let frac = if span > 0.0 {
            (value - self.range.start) / span
        } else {
            0.5
        };
        limit.0 + (frac * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: plotters::coord::ranged1d::KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Bold grid lines and labels at the date ticks; no light (minor) lines.
        if hint.max_num_points() == 0 || hint.weight().allow_light_points() {
            return Vec::new();
        }
        self.ticks.clone()
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.range.clone()
    }
}

impl plotters::coord::ranged1d::ValueFormatter<f64> for DayAxis {
    fn format(value: &f64) -> String {
        date_label(*value)
    }
}

/// The shared x range of the time panels (at least a week, so one session is readable).
/// Whole weeks, Monday to Sunday, so the weekly bars line up with the grid.
fn x_range(p: &Progress) -> std::ops::Range<f64> {
    let from = series::monday_of(p.first_day) as f64;
    let to = (series::monday_of(p.last_day) + 7) as f64;
    from..to
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, p: &Progress, source: &str) -> DrawResult {
    root.fill(&WHITE).map_err(e)?;
    if p.sessions == 0 {
        root.draw_text("No sessions to plot yet", &font(30.0), (40, 60))
            .map_err(e)?;
        root.draw_text(&format!("History: {source}"), &font(18.0).color(&MUTED), (40, 120))
            .map_err(e)?;
        root.draw_text(
            "Add sessions with `twistcoach history add REPORT.json` or `twistcoach history import DIR`,",
            &font(18.0),
            (40, 160),
        )
        .map_err(e)?;
        root.draw_text(
            "or try the figure with `twistcoach history demo-data --weeks 8 --db demo.sqlite`.",
            &font(18.0),
            (40, 190),
        )
        .map_err(e)?;
        return Ok(());
    }
    let (first, last) = (
        crate::history::time::day_label(p.first_day),
        crate::history::time::day_label(p.last_day),
    );
    root.draw_text(
        &format!(
            "Twist stretching progress, {first} to {last} ({} session{})",
            p.sessions,
            if p.sessions == 1 { "" } else { "s" }
        ),
        &font(28.0),
        (20, 12),
    )
    .map_err(e)?;
    root.draw_text(
        &format!(
            "Shaded bands: ±{ANGLE_UNCERTAINTY_P90_DEG:.0}° measurement uncertainty (90% of sessions) — \
             changes inside a band may be sensor noise, not progress.   Source: {source}"
        ),
        &font(15.0).color(&MUTED),
        (20, 44),
    )
    .map_err(e)?;
    let (_, mut rest) = root.split_vertically(TITLE_H);
    for v in &p.variations {
        let per = HEADLINE_H + ROM_H + HEADLINE_H + ASYM_H + HEADLINE_H + WEEK_H + GAP_H;
        let (block, below) = rest.split_vertically(per);
        rest = below;
        draw_variation(&block, p, v)?;
    }
    draw_calendar(&rest, p)?;
    Ok(())
}

fn headline_strip<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, text: &str, size: f64) -> DrawResult {
    area.draw_text(text, &font(size), (20, 6)).map_err(e)
}

fn band_polygon(trend: &[(f64, f64)], half: f64) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> = trend.iter().map(|&(x, y)| (x, y + half)).collect();
    pts.extend(trend.iter().rev().map(|&(x, y)| (x, y - half)));
    pts
}

fn nice_floor(v: f64, step: f64) -> f64 {
    (v / step).floor() * step
}

fn nice_ceil(v: f64, step: f64) -> f64 {
    (v / step).ceil() * step
}

fn draw_variation<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &Progress,
    v: &series::VariationProgress,
) -> DrawResult {
    let xr = x_range(p);
    let band = ANGLE_UNCERTAINTY_P90_DEG;
    let (head, rest) = area.split_vertically(HEADLINE_H);
    headline_strip(&head, &v.headline, 19.0)?;
    let (rom_area, rest) = rest.split_vertically(ROM_H);

    // Range of motion per side, with pain on the right axis.
    let all: Vec<f64> = v.left.iter().chain(v.right.iter()).map(|p| p.1).collect();
    let lo = all.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (y0, y1) = if lo.is_finite() {
        (
            nice_floor((lo - band - 4.0).max(0.0), 10.0),
            nice_ceil(hi + band + 4.0, 10.0),
        )
    } else {
        (0.0, 90.0)
    };
    let mut chart = ChartBuilder::on(&rom_area)
        .margin_left(10)
        .margin_right(10)
        .margin_top(4)
        .x_label_area_size(28)
        .y_label_area_size(Y_LABEL_W)
        .right_y_label_area_size(RIGHT_LABEL_W)
        .build_cartesian_2d(DayAxis::new(xr.clone()), y0..y1)
        .map_err(e)?
        .set_secondary_coord(DayAxis::new(xr.clone()), 0.0..10.0);
    chart
        .configure_mesh()
        .y_desc("best hold angle (°)")
        .y_label_formatter(&|y| format!("{y:.0}°"))
        .label_style(font(14.0))
        .axis_desc_style(font(15.0))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08))
        .draw()
        .map_err(e)?;
    if !v.pain.is_empty() {
        chart
            .configure_secondary_axes()
            .y_desc("pain before session (0–10)")
            .y_label_formatter(&|y| format!("{y:.0}"))
            .label_style(font(14.0).color(&PAIN_COLOR))
            .axis_desc_style(font(15.0).color(&PAIN_COLOR))
            .draw()
            .map_err(e)?;
    }
    for (points, trend, color, name) in [
        (&v.left, &v.left_trend, LEFT_COLOR, "left"),
        (&v.right, &v.right_trend, RIGHT_COLOR, "right"),
    ] {
        if trend.is_empty() {
            continue;
        }
        if trend.len() >= 3 {
            let poly = band_polygon(trend, band);
            chart
                .draw_series(std::iter::once(Polygon::new(poly, color.mix(0.16).filled())))
                .map_err(e)?;
        } else {
            // Too few sessions for a band: the uncertainty as an error bar on each.
            chart
                .draw_series(points.iter().map(|&(x, y)| {
                    PathElement::new(vec![(x, y - band), (x, y + band)], color.mix(0.6).stroke_width(2))
                }))
                .map_err(e)?;
        }
        chart
            .draw_series(
                points
                    .iter()
                    .map(|&(x, y)| Circle::new((x, y), 3, color.mix(0.55).filled())),
            )
            .map_err(e)?;
        let line_style = color.stroke_width(3);
        chart
            .draw_series(LineSeries::new(trend.iter().copied(), line_style))
            .map_err(e)?
            .label(format!("{name} side (dots: sessions, line: 2-week trend)"))
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 18, y + 5)], color.filled()));
    }
    if !v.pain.is_empty() {
        chart
            .draw_secondary_series(
                v.pain
                    .iter()
                    .map(|&(x, y)| Cross::new((x, y), 3, PAIN_COLOR.mix(0.5).stroke_width(1))),
            )
            .map_err(e)?;
        chart
            .draw_secondary_series(LineSeries::new(
                series_rolling(&v.pain, series::TREND_HALF_WINDOW_DAYS),
                PAIN_COLOR.mix(0.9).stroke_width(2),
            ))
            .map_err(e)?
            .label("pain before session (right axis; × ratings, line: 2-week mean)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], PAIN_COLOR.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(font(13.0))
        .draw()
        .map_err(e)?;

    // Asymmetry.
    let (head, rest) = rest.split_vertically(HEADLINE_H);
    headline_strip(&head, &v.asymmetry_headline, 16.0)?;
    let (asym_area, rest) = rest.split_vertically(ASYM_H);
    let sym_band = series::difference_uncertainty_deg();
    let amax = v.asymmetry.iter().map(|p| p.1.abs()).fold(sym_band + 2.0, f64::max);
    let amax = nice_ceil(amax + 1.0, 5.0);
    let mut chart = ChartBuilder::on(&asym_area)
        .margin_left(10)
        .margin_right(10 + RIGHT_LABEL_W)
        .x_label_area_size(28)
        .y_label_area_size(Y_LABEL_W)
        .build_cartesian_2d(DayAxis::new(xr.clone()), -amax..amax)
        .map_err(e)?;
    chart
        .configure_mesh()
        .y_labels(5)
        .y_desc("left − right (°)")
        .y_label_formatter(&|y| format!("{y:+.0}°"))
        .label_style(font(14.0))
        .axis_desc_style(font(15.0))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08))
        .draw()
        .map_err(e)?;
    chart
        .draw_series(std::iter::once(Rectangle::new(
            [(xr.start, -sym_band), (xr.end, sym_band)],
            BLACK.mix(0.07).filled(),
        )))
        .map_err(e)?
        .label(format!("sides equal within ±{sym_band:.1}° (√2 × {band:.0}°)"))
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 18, y + 5)], BLACK.mix(0.15).filled()));
    chart
        .draw_series(LineSeries::new([(xr.start, 0.0), (xr.end, 0.0)], BLACK.mix(0.4)))
        .map_err(e)?;
    chart
        .draw_series(
            v.asymmetry
                .iter()
                .map(|&(x, y)| Circle::new((x, y), 2, BLACK.mix(0.35).filled())),
        )
        .map_err(e)?;
    chart
        .draw_series(LineSeries::new(
            v.asymmetry_trend.iter().copied(),
            BLACK.stroke_width(2),
        ))
        .map_err(e)?
        .label("2-week trend (above 0: left turns further)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK.stroke_width(2)));
    // The legend goes in the half the points leave free, so it never hides them.
    let mostly_above = v.asymmetry.iter().filter(|&&(_, y)| y > 0.0).count() * 2 >= v.asymmetry.len();
    chart
        .configure_series_labels()
        .position(if mostly_above {
            SeriesLabelPosition::LowerRight
        } else {
            SeriesLabelPosition::UpperRight
        })
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(font(13.0))
        .draw()
        .map_err(e)?;

    // Weekly holds on target and flags.
    let (head, rest) = rest.split_vertically(HEADLINE_H);
    let recent = v.weeks.iter().rev().find_map(|w| w.on_target_pct());
    headline_strip(
        &head,
        &format!(
            "Green bars: % of each week's reps holding at least the target's minimum{}.   \
             Purple: rep flags per week (right axis)",
            recent.map(|p| format!(", latest week {p:.0}%")).unwrap_or_default()
        ),
        16.0,
    )?;
    let (week_area, _) = rest.split_vertically(WEEK_H);
    let max_flags = v.weeks.iter().map(|w| w.rep_flags).max().unwrap_or(0).max(4) as f64;
    let max_flags = nice_ceil(max_flags * 1.15, 5.0);
    let mut chart = ChartBuilder::on(&week_area)
        .margin_left(10)
        .margin_right(10)
        .x_label_area_size(28)
        .y_label_area_size(Y_LABEL_W)
        .right_y_label_area_size(RIGHT_LABEL_W)
        .build_cartesian_2d(DayAxis::new(xr.clone()), 0.0..100.0)
        .map_err(e)?
        .set_secondary_coord(DayAxis::new(xr.clone()), 0.0..max_flags);
    chart
        .configure_mesh()
        .y_labels(5)
        .y_desc("reps on target")
        .y_label_formatter(&|y| format!("{y:.0}%"))
        .label_style(font(14.0))
        .axis_desc_style(font(15.0))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08))
        .draw()
        .map_err(e)?;
    chart
        .configure_secondary_axes()
        .y_desc("flags per week")
        .y_labels(6)
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style(font(14.0).color(&FLAG_COLOR))
        .axis_desc_style(font(15.0).color(&FLAG_COLOR))
        .draw()
        .map_err(e)?;
    chart
        .draw_series(v.weeks.iter().filter_map(|w| {
            let pct = w.on_target_pct()?;
            let x0 = (w.monday as f64 + 0.6).max(xr.start);
            let x1 = (w.monday as f64 + 6.4).min(xr.end);
            Some(Rectangle::new([(x0, 0.0), (x1, pct)], TARGET_COLOR.mix(0.7).filled()))
        }))
        .map_err(e)?;
    let flag_points: Vec<(f64, f64)> = v
        .weeks
        .iter()
        .map(|w| (w.monday as f64 + 3.5, w.rep_flags as f64))
        .collect();
    chart
        .draw_secondary_series(LineSeries::new(flag_points.iter().copied(), FLAG_COLOR.stroke_width(2)))
        .map_err(e)?;
    chart
        .draw_secondary_series(
            flag_points
                .iter()
                .map(|&(x, y)| Circle::new((x, y), 3, FLAG_COLOR.filled())),
        )
        .map_err(e)?;
    Ok(())
}

fn series_rolling(points: &[(f64, f64)], half_window: f64) -> Vec<(f64, f64)> {
    points
        .iter()
        .map(|&(x, _)| {
            let v: Vec<f64> = points
                .iter()
                .filter(|p| (p.0 - x).abs() <= half_window)
                .map(|p| p.1)
                .collect();
            (x, v.iter().sum::<f64>() / v.len().max(1) as f64)
        })
        .collect()
}

fn draw_calendar<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, p: &Progress) -> DrawResult {
    let a = &p.adherence;
    let (head, rest) = area.split_vertically(HEADLINE_H);
    headline_strip(&head, &a.headline, 17.0)?;
    let cell = calendar_cell(p) as i32;
    let left = Y_LABEL_W as i32 + 10;
    let top = 22;
    let first_monday = series::monday_of(p.first_day);
    let weekday_names = ["Mon", "", "Wed", "", "Fri", "", "Sun"];
    for (row, name) in weekday_names.iter().enumerate() {
        if !name.is_empty() && cell >= 10 {
            rest.draw_text(
                name,
                &font(12.0).color(&MUTED),
                (left - 40, top + row as i32 * cell + cell / 2 - 7),
            )
            .map_err(e)?;
        }
    }
    for day in first_monday..=p.last_day {
        let col = ((day - first_monday) / 7) as i32;
        let row = (day - first_monday).rem_euclid(7) as i32;
        let x = left + col * cell;
        let y = top + row * cell;
        let (_, month, dom, _) = crate::history::time::day_parts(day);
        // Label each month above its first Monday.
        if row == 0 && dom <= 7 && cell >= 8 {
            rest.draw_text(
                MONTHS[(month.clamp(1, 12) - 1) as usize],
                &font(12.0).color(&MUTED),
                (x, top - 17),
            )
            .map_err(e)?;
        }
        let index = day - a.first_day;
        if index < 0 || index as usize >= a.days.len() {
            continue;
        }
        let (morning, evening) = a.days[index as usize];
        // A day is one square (morning on top, evening below, no gap between them);
        // the gaps separate days.
        let gap = if cell >= 10 { (cell / 10).max(1) } else { 0 };
        let half = cell / 2;
        let m_color = if morning > 0 { DONE_MORNING } else { MISSED };
        let e_color = if evening > 0 { DONE_EVENING } else { MISSED };
        rest.draw(&Rectangle::new(
            [(x + gap, y + gap), (x + cell - gap, y + half)],
            m_color.filled(),
        ))
        .map_err(e)?;
        rest.draw(&Rectangle::new(
            [(x + gap, y + half), (x + cell - gap, y + cell - gap)],
            e_color.filled(),
        ))
        .map_err(e)?;
    }
    // Legend in one row below the calendar.
    let ly = top + 7 * cell + 10;
    let mut lx = left;
    let items = [
        (DONE_MORNING, "morning session done (top half of a day)"),
        (DONE_EVENING, "evening session done (bottom half)"),
        (MISSED, "planned session missed"),
    ];
    for (color, label) in items {
        rest.draw(&Rectangle::new([(lx, ly), (lx + 16, ly + 14)], color.filled()))
            .map_err(e)?;
        rest.draw_text(label, &font(13.0), (lx + 24, ly)).map_err(e)?;
        lx += 24 + 7 * label.chars().count() as i32 + 40;
    }
    Ok(())
}
