//! The async edge of a live (or paced replay) session: sources, a tick, keys and Ctrl-C
//! all send one [`AppEvent`] enum down one channel; the loop feeds the pure
//! [`Pipeline`], appends to the recording, and lets the UI render the snapshot.

use std::io::Write;
use std::time::Duration;

use tokio::sync::mpsc;

use super::recorder::SessionRecorder;
use super::{LiveError, LiveEvent, Output, Pipeline};
use crate::session::report::Report;
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

/// Run a session to its end. `recorder` receives every event and what the pipeline made
/// of it; it is handed back to be finished with the report.
pub async fn run_session(
    sources: Vec<Box<dyn Source>>,
    mut pipeline: Pipeline,
    mut recorder: Option<SessionRecorder>,
    ui: UiMode,
) -> (SessionEnd, Option<SessionRecorder>) {
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
    while let Some(ev) = rx.recv().await {
        match ev {
            AppEvent::Source(e) => {
                if let Some(w) = recorder.as_mut().and_then(|r| r.event(&e)) {
                    out.events.push(LiveEvent::Warning(w));
                }
                if matches!(e, SourceEvent::Notification { .. }) {
                    notifications += 1;
                }
                pipeline.update(&e, &mut out);
                if let Some(w) = recorder.as_mut().and_then(|r| r.output(&e, &out, &pipeline)) {
                    out.events.push(LiveEvent::Warning(w));
                }
                out.samples.clear();
            }
            AppEvent::SourceDone => {
                done += 1;
                if done >= n_sources {
                    break;
                }
            }
            AppEvent::Tick => {
                if let Some(w) = recorder.as_mut().and_then(|r| r.tick()) {
                    out.events.push(LiveEvent::Warning(w));
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
        recorder,
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
