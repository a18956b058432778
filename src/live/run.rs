//! The async edge of a live (or paced replay) session: sources, a tick, keys and Ctrl-C
//! all send one [`AppEvent`] enum down one channel; the loop feeds the pure
//! [`Pipeline`], appends to the recording, and lets the UI render the snapshot.

use std::fs::File;
use std::io::Write;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::{LiveError, LiveEvent, Output, Pipeline};
use crate::record::{Record, RecordWriter};
use crate::session::report::Report;
use crate::source::replay::event_json;
use crate::source::{Source, SourceEvent};

/// Everything the session loop reacts to.
#[derive(Debug)]
pub enum AppEvent {
    Source(SourceEvent),
    /// One source has nothing more to send.
    SourceDone,
    /// Time to flush the recording and redraw.
    Tick,
    /// The user asked to end the session (q, Esc, Ctrl-C).
    Quit,
}

/// How the session is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UiMode {
    /// Full-screen terminal view.
    Tui,
    /// One line per event on stdout.
    Plain,
    /// Nothing while running (`--json`: only the report at the end).
    Quiet,
}

/// How the session ended.
pub struct SessionEnd {
    pub report: Result<Report, LiveError>,
    /// Notifications processed.
    pub notifications: u64,
    /// The user ended it (rather than the sources).
    pub stopped_by_user: bool,
}

struct Tui {
    terminal: ratatui::DefaultTerminal,
}

impl Drop for Tui {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// Keys arrive on a blocking thread (crossterm's poll) and go down the same channel.
fn spawn_key_reader(tx: mpsc::Sender<AppEvent>) {
    use ratatui::crossterm::event::{self, Event, KeyCode, KeyModifiers};
    std::thread::spawn(move || {
        loop {
            if tx.is_closed() {
                return;
            }
            match event::poll(Duration::from_millis(100)) {
                Ok(true) => {
                    if let Ok(Event::Key(k)) = event::read() {
                        let quit = matches!(k.code, KeyCode::Char('q') | KeyCode::Esc)
                            || (k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL));
                        if quit {
                            let _ = tx.blocking_send(AppEvent::Quit);
                            return;
                        }
                    }
                }
                Ok(false) => {}
                Err(_) => return,
            }
        }
    });
}

fn record_io(e: std::io::Error) -> String {
    format!("the recording could not be written ({e}); the session goes on without it")
}

/// Run a session to its end. `writer` receives every event; `clock` is the wall-clock
/// origin of the recording's flush schedule.
pub async fn run_session(
    sources: Vec<Box<dyn Source>>,
    mut pipeline: Pipeline,
    mut writer: Option<RecordWriter<File>>,
    ui: UiMode,
    clock: Instant,
) -> (SessionEnd, Option<RecordWriter<File>>) {
    let (tx, mut rx) = mpsc::channel::<AppEvent>(4096);
    let n_sources = sources.len();
    for mut s in sources {
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(e) = s.next_event().await {
                if tx.send(AppEvent::Source(e)).await.is_err() {
                    return;
                }
            }
            let _ = tx.send(AppEvent::SourceDone).await;
        });
    }
    {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(50));
            loop {
                tick.tick().await;
                if tx.send(AppEvent::Tick).await.is_err() {
                    return;
                }
            }
        });
    }
    {
        let tx = tx.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = tx.send(AppEvent::Quit).await;
            }
        });
    }
    let mut tui = match ui {
        UiMode::Tui => {
            spawn_key_reader(tx.clone());
            Some(Tui {
                terminal: ratatui::init(),
            })
        }
        _ => None,
    };
    drop(tx);

    let rep_min = pipeline.settings.protocol.rep_min_deg;
    let mut log: Vec<String> = Vec::new();
    let mut out = Output::default();
    let mut done = 0usize;
    let mut notifications = 0u64;
    let mut stopped_by_user = false;
    let mut stdout = std::io::stdout();
    let mut record_failed = false;
    let wall = || clock.elapsed().as_secs_f64();
    while let Some(ev) = rx.recv().await {
        match ev {
            AppEvent::Source(e) => {
                if let Some(w) = writer.as_mut() {
                    let record = match &e {
                        SourceEvent::Notification {
                            sensor,
                            receive_s,
                            characteristic,
                            bytes,
                        } => Record::Notification {
                            stream: *sensor,
                            receive_s: *receive_s,
                            characteristic: *characteristic,
                            bytes: bytes.clone(),
                        },
                        other => Record::Event {
                            receive_s: other.receive_s(),
                            json: event_json(other).unwrap_or_default(),
                        },
                    };
                    if let Err(err) = w.append(&record, wall()) {
                        out.events.push(LiveEvent::Warning(record_io(err)));
                        record_failed = true;
                    }
                }
                if matches!(e, SourceEvent::Notification { .. }) {
                    notifications += 1;
                }
                pipeline.update(&e, &mut out);
                if let Some(w) = writer.as_mut() {
                    for (sensor, receive_s, sample) in out.samples.drain(..) {
                        let r = Record::Sample {
                            stream: sensor,
                            receive_s,
                            sample,
                        };
                        if let Err(err) = w.append(&r, wall()) {
                            out.events.push(LiveEvent::Warning(record_io(err)));
                            record_failed = true;
                            break;
                        }
                    }
                    for ev in &out.events {
                        if let LiveEvent::Calibrated { t_s, .. } = ev
                            && let Some(cal) = pipeline.calibration_json()
                        {
                            let json = serde_json::json!({"kind": "calibrated", "t_s": t_s, "calibration": cal});
                            let _ = w.append(
                                &Record::Event {
                                    receive_s: e.receive_s(),
                                    json,
                                },
                                wall(),
                            );
                        }
                    }
                } else {
                    out.samples.clear();
                }
                if record_failed {
                    writer = None;
                    record_failed = false;
                }
            }
            AppEvent::SourceDone => {
                done += 1;
                if done >= n_sources {
                    break;
                }
            }
            AppEvent::Tick => {
                if let Some(w) = writer.as_mut()
                    && let Err(err) = w.tick(wall())
                {
                    out.events.push(LiveEvent::Warning(record_io(err)));
                    writer = None;
                }
            }
            AppEvent::Quit => {
                stopped_by_user = true;
                break;
            }
        }
        show(&mut out.events, ui, &mut stdout, &mut log, tui.is_some());
        if let Some(t) = tui.as_mut() {
            let snap = pipeline.snapshot();
            let _ = t.terminal.draw(|f| crate::ui::tui::draw(f, snap, rep_min, &log));
        }
    }
    let report = pipeline.finish(&mut out);
    show(&mut out.events, ui, &mut stdout, &mut log, tui.is_some());
    drop(tui);
    (
        SessionEnd {
            report,
            notifications,
            stopped_by_user,
        },
        writer,
    )
}

fn show(events: &mut Vec<LiveEvent>, ui: UiMode, stdout: &mut std::io::Stdout, log: &mut Vec<String>, tui: bool) {
    for e in events.drain(..) {
        let Some(line) = crate::ui::plain_line(&e) else {
            continue;
        };
        let bell = matches!(e, LiveEvent::HoldComplete { .. });
        match ui {
            UiMode::Plain => {
                let _ = writeln!(stdout, "{line}");
            }
            UiMode::Tui => {
                if bell && tui {
                    let _ = write!(stdout, "\x07");
                    let _ = stdout.flush();
                }
                log.push(line);
                if log.len() > 200 {
                    log.drain(..100);
                }
            }
            UiMode::Quiet => {}
        }
    }
}
