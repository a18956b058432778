//! The full-screen live view (ratatui): a twist gauge with the target band and the
//! over-rotation limit, the phase and hold countdown, reps per side, one cue, sensor
//! status and the last few events. `draw` renders a [`Snapshot`]; nothing else.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::{connection_words, side_word};
use crate::live::{Phase, Snapshot};
use crate::source::ConnectionState;

/// The gauge spans ±this many degrees.
const GAUGE_RANGE_DEG: f64 = 90.0;

/// One cell of the gauge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    Empty,
    Band,
    Limit,
    Centre,
    Needle,
}

/// The gauge's cells, left edge = +range (the person's left), right edge = −range.
fn gauge_cells(angle_deg: Option<f64>, width: usize, band_from_deg: f64, limit_deg: f64) -> Vec<Cell> {
    let width = width.max(11);
    let to_col = |deg: f64| -> usize {
        let x = (GAUGE_RANGE_DEG - deg.clamp(-GAUGE_RANGE_DEG, GAUGE_RANGE_DEG)) / (2.0 * GAUGE_RANGE_DEG);
        ((x * (width - 1) as f64).round() as usize).min(width - 1)
    };
    let mut cells = vec![Cell::Empty; width];
    for (col, cell) in cells.iter_mut().enumerate() {
        let deg = GAUGE_RANGE_DEG - 2.0 * GAUGE_RANGE_DEG * col as f64 / (width - 1) as f64;
        if deg.abs() >= band_from_deg && deg.abs() < limit_deg {
            *cell = Cell::Band;
        }
    }
    cells[to_col(limit_deg)] = Cell::Limit;
    cells[to_col(-limit_deg)] = Cell::Limit;
    cells[to_col(0.0)] = Cell::Centre;
    if let Some(a) = angle_deg {
        cells[to_col(a)] = Cell::Needle;
    }
    cells
}

fn gauge_line(s: &Snapshot, width: usize, rep_min_deg: f64) -> Line<'static> {
    let over = s.primary_deg.is_some_and(|a| a.abs() > s.targets.over_rotation_deg);
    let spans: Vec<Span> = gauge_cells(s.primary_deg, width, rep_min_deg, s.targets.over_rotation_deg)
        .into_iter()
        .map(|c| match c {
            Cell::Empty => Span::styled("·", Style::default().fg(Color::DarkGray)),
            Cell::Band => Span::styled("░", Style::default().fg(Color::Green)),
            Cell::Limit => Span::styled("!", Style::default().fg(Color::Red).add_modifier(Modifier::BOLD)),
            Cell::Centre => Span::raw("|"),
            Cell::Needle => Span::styled("█", Style::default().fg(if over { Color::Red } else { Color::Yellow })),
        })
        .collect();
    Line::from(spans)
}

fn phase_words(s: &Snapshot) -> String {
    match s.phase {
        Phase::Calibrating => format!("calibrating: still for {:.1} s of 2 s", s.still_s.min(2.0)),
        Phase::Neutral => "at neutral".to_string(),
        Phase::Turning(side) => format!("turning {}", side_word(side)),
        Phase::Holding(side) => match s.hold_to_go_s() {
            Some(to_go) if to_go > 0.0 => format!(
                "holding {}: {:.0} s to go (target {:.0}–{:.0} s)",
                side_word(side),
                to_go.ceil(),
                s.targets.hold_min_s,
                s.targets.hold_max_s
            ),
            _ => format!("holding {}: {:.0} s, target reached", side_word(side), s.held_s),
        },
        Phase::Returning(side) => format!("returning from the {}", side_word(side)),
    }
}

/// One sensor's status: one line when it fits in `width` columns, else two (name, kind and
/// connection; then battery, signal, rate and drops), so nothing is cut off at 80 columns.
fn sensor_lines(st: &crate::live::SensorStatus, width: usize) -> Vec<Line<'static>> {
    let ok = st.connection == ConnectionState::Connected;
    let head = vec![
        Span::styled(
            format!("{:<10} ", st.placement.name()),
            Style::default().add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!("{:<12} ", st.kind.name())),
        Span::styled(
            format!("{:<14} ", connection_words(&st.connection)),
            Style::default().fg(if ok { Color::Green } else { Color::Red }),
        ),
    ];
    let status = format!(
        "battery {:>4}  signal {:>8}  {:>5.1} Hz  dropped {}",
        st.battery_percent.map_or("-".to_string(), |b| format!("{b}%")),
        st.rssi_dbm.map_or("-".to_string(), |r| format!("{r} dBm")),
        st.rate_hz,
        st.dropped
    );
    let one = Line::from([head.clone(), vec![Span::raw(status.clone())]].concat());
    if one.width() <= width {
        vec![one]
    } else {
        vec![Line::from(head), Line::from(format!("{:<11}{status}", ""))]
    }
}

/// Draw the whole screen.
pub fn draw(f: &mut Frame, s: &Snapshot, rep_min_deg: f64, log: &[String]) {
    let area = f.area();
    let sensor_text: Vec<Line> = s
        .sensors
        .iter()
        .flat_map(|st| sensor_lines(st, area.width.saturating_sub(2) as usize))
        .collect();
    let n_sensor_lines = sensor_text.len() as u16;
    let [gauge_area, phase_area, cue_area, sensor_area, log_area] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Length(4),
        Constraint::Length(3),
        Constraint::Length(n_sensor_lines + 2),
        Constraint::Min(3),
    ])
    .areas(area);

    let inner_w = gauge_area.width.saturating_sub(2) as usize;
    let angle_text = match s.primary_deg {
        Some(a) => format!(
            "twist {:.0}°{}   limit {:.0}°   a rep counts from {:.0}°",
            a.abs(),
            // No side for what rounds to 0°.
            if a.abs() < 0.5 {
                ""
            } else if a > 0.0 {
                " left"
            } else {
                " right"
            },
            s.targets.over_rotation_deg,
            rep_min_deg
        ),
        None => "twist: waiting for calibration".to_string(),
    };
    f.render_widget(
        Paragraph::new(vec![gauge_line(s, inner_w, rep_min_deg), Line::from(angle_text)]).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" twistcoach live: {} (left ◀ ▶ right) ", s.variation.name())),
        ),
        gauge_area,
    );
    f.render_widget(
        Paragraph::new(vec![
            Line::from(phase_words(s)),
            Line::from(format!("reps  left {}   right {}", s.reps_left, s.reps_right)),
        ])
        .block(Block::default().borders(Borders::ALL).title(" hold ")),
        phase_area,
    );
    f.render_widget(
        Paragraph::new(Line::from(Span::styled(
            s.cue.text(),
            Style::default().fg(Color::Cyan).add_modifier(Modifier::BOLD),
        )))
        .block(Block::default().borders(Borders::ALL).title(" do this ")),
        cue_area,
    );
    f.render_widget(
        Paragraph::new(sensor_text).block(Block::default().borders(Borders::ALL).title(" sensors ")),
        sensor_area,
    );
    let rows = log_area.height.saturating_sub(2) as usize;
    let tail: Vec<Line> = log[log.len().saturating_sub(rows)..]
        .iter()
        .map(|l| Line::from(l.clone()))
        .collect();
    f.render_widget(
        Paragraph::new(tail).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" events (q: end the session) "),
        ),
        log_area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::{Placement, Variation};
    use crate::device::DeviceKind;
    use crate::live::{Cue, SensorStatus};
    use crate::session::protocol::Protocol;
    use crate::session::report::Side;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn snapshot() -> Snapshot {
        Snapshot {
            variation: Variation::Seated,
            targets: Protocol::default().targets(Variation::Seated, None),
            t_s: Some(30.0),
            primary_deg: Some(38.4),
            compensation_deg: Some(3.0),
            phase: Phase::Holding(Side::Left),
            still_s: 0.0,
            held_s: 2.6,
            reps_left: 2,
            reps_right: 1,
            cue: Cue::Hold,
            sensors: vec![SensorStatus {
                placement: Placement::Chest,
                kind: DeviceKind::WitMotion,
                connection: ConnectionState::Connected,
                battery_percent: Some(81),
                rssi_dbm: Some(-61),
                rate_hz: 49.8,
                samples: 1500,
                dropped: 3,
                decode_errors: 0,
            }],
        }
    }

    fn screen(s: &Snapshot, log: &[String]) -> String {
        screen_of_size(s, log, 100, 24)
    }

    fn screen_of_size(s: &Snapshot, log: &[String], width: u16, height: u16) -> String {
        let mut term = Terminal::new(TestBackend::new(width, height)).unwrap();
        term.draw(|f| draw(f, s, 15.0, log)).unwrap();
        let buf = term.backend().buffer().clone();
        let mut text = String::new();
        for y in 0..buf.area.height {
            for x in 0..buf.area.width {
                text.push_str(buf[(x, y)].symbol());
            }
            text.push('\n');
        }
        text
    }

    #[test]
    fn renders_gauge_countdown_reps_cue_and_sensor_status() {
        let text = screen(&snapshot(), &["   28.0 s  holding left".to_string()]);
        assert!(text.contains("twist 38° left"), "{text}");
        assert!(text.contains("limit 60°"), "{text}");
        // 15 s target, 2.6 s held: 12.4 s → "13 s to go".
        assert!(text.contains("holding left: 13 s to go (target 15–30 s)"), "{text}");
        assert!(text.contains("reps  left 2   right 1"), "{text}");
        assert!(text.contains("hold…"), "{text}");
        assert!(text.contains("chest"), "{text}");
        assert!(text.contains("battery  81%"), "{text}");
        assert!(text.contains("-61 dBm"), "{text}");
        assert!(text.contains("49.8 Hz"), "{text}");
        assert!(text.contains("dropped 3"), "{text}");
        assert!(text.contains("holding left"), "{text}");
        // The gauge line: a needle left of centre, limits on both sides.
        let gauge = text.lines().nth(1).unwrap();
        let needle = gauge.find('█').unwrap();
        let centre = gauge.find('|').unwrap();
        assert!(needle < centre, "{gauge}");
        assert_eq!(gauge.matches('!').count(), 2, "{gauge}");
    }

    #[test]
    fn over_rotation_needle_sits_outside_the_band_and_reconnect_shows() {
        let mut s = snapshot();
        s.primary_deg = Some(-70.0);
        s.phase = Phase::Turning(Side::Right);
        s.cue = Cue::EaseOff;
        s.sensors[0].connection = ConnectionState::Disconnected {
            reason: "link lost".into(),
            retry_in_s: 1.0,
        };
        let text = screen(&s, &[]);
        assert!(text.contains("ease off"), "{text}");
        assert!(text.contains("turning right"), "{text}");
        assert!(text.contains("disconnected"), "{text}");
        let cells = gauge_cells(Some(-70.0), 61, 15.0, 60.0);
        let needle = cells.iter().position(|c| *c == Cell::Needle).unwrap();
        let limits: Vec<usize> = (0..61).filter(|&i| cells[i] == Cell::Limit).collect();
        assert!(needle > limits[1], "needle {needle} limits {limits:?}");
    }

    /// At 80×24 (the classic terminal) with two sensors, every sensor's status is on screen
    /// (on two lines each) and nothing runs into the right border.
    #[test]
    fn fits_80_by_24_with_two_sensors() {
        let mut s = snapshot();
        let mut pelvis = s.sensors[0].clone();
        pelvis.placement = Placement::Pelvis;
        pelvis.kind = DeviceKind::MovellaDot;
        pelvis.dropped = 12;
        s.sensors.push(pelvis);
        s.primary_deg = Some(0.3);
        let text = screen_of_size(
            &s,
            &["    2.7 s  calibrated neutral from 0.4–2.4 s".to_string()],
            80,
            24,
        );
        assert_eq!(text.matches("dropped 3").count(), 1, "{text}");
        assert_eq!(text.matches("dropped 12").count(), 1, "{text}");
        assert!(text.contains("twist 0°   limit"), "{text}");
        assert!(text.contains("calibrated neutral"), "{text}");
        assert!(text.contains("hold…"), "{text}");
        for line in text.lines() {
            assert_eq!(line.chars().count(), 80, "{line}");
        }
    }
}
