//! The full-screen live view in a real terminal: `twistcoach live` (not `--plain`) inside a
//! detached tmux session of a fixed size, read back with `tmux capture-pane` while
//! calibrating and holding, ended with `q` (and once with Ctrl-C); the summary is printed on
//! the normal screen afterwards and the terminal settings are as before.
//!
//! Ignored by default (it needs tmux and takes about 20 s):
//! `cargo test --release --test tui_tmux -- --ignored`. With `TWISTCOACH_TMUX_CAPTURES=FILE`
//! it also writes the captures there (docs/live-tmux.txt was made so). Without tmux it
//! passes with a note.

use std::process::Command;
use std::time::{Duration, Instant};

fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux").args(args).output().expect("run tmux");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn have_tmux() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A detached tmux session running a plain shell in this size.
struct Session {
    name: String,
}

impl Session {
    fn start(name: &str, width: u16, height: u16) -> Session {
        let name = format!("{name}-{}", std::process::id());
        let _ = tmux(&["kill-session", "-t", &name]);
        tmux(&[
            "new-session",
            "-d",
            "-s",
            &name,
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            "env PS1='$ ' TERM=xterm-256color bash --norc --noprofile",
        ]);
        let s = Session { name };
        s.wait_for("$", Duration::from_secs(5));
        s
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.name];
        args.extend_from_slice(keys);
        tmux(&args);
    }

    fn capture(&self) -> String {
        tmux(&["capture-pane", "-p", "-t", &self.name])
    }

    /// Note the shell's terminal settings (`stty -g`) and clear the screen, before a run.
    fn save_terminal_settings(&self) {
        self.keys(&[&format!("stty -g > {}", self.stty_file()), "Enter"]);
        self.keys(&["clear", "Enter"]);
    }

    /// After a run: the terminal settings are those noted by `save_terminal_settings`.
    fn assert_terminal_settings_restored(&self) {
        self.keys(&[
            &format!(
                "clear; stty -g | cmp -s - {} && echo TTY\"\"=SAME || echo TTY\"\"=CHANGED",
                self.stty_file()
            ),
            "Enter",
        ]);
        let tty = self.wait_for("TTY=", Duration::from_secs(5));
        assert!(tty.contains("TTY=SAME"), "terminal settings changed:\n{tty}");
    }

    fn stty_file(&self) -> String {
        std::env::temp_dir()
            .join(format!("{}-stty-before", self.name))
            .display()
            .to_string()
    }

    /// The screen once it contains `what` (panics with the last screen after `timeout`).
    fn wait_for(&self, what: &str, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            let screen = self.capture();
            if screen.contains(what) {
                return screen;
            }
            assert!(
                start.elapsed() < timeout,
                "no `{what}` on the screen after {timeout:?}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = tmux(&["kill-session", "-t", &self.name]);
    }
}

fn live_command(extra: &str) -> String {
    format!(
        "XDG_DATA_HOME={} {} live --variation seated --sensor chest=sim:movella-dot {extra} --sim-speed 2 --no-save; echo EXIT\"\"=$?",
        std::env::temp_dir().join("twistcoach-tmux-xdg").display(),
        env!("CARGO_BIN_EXE_twistcoach")
    )
}

/// Every screen line is the pane's width: nothing of the view wraps onto the next line.
fn assert_no_wrap(screen: &str, width: usize) {
    for line in screen
        .lines()
        .filter(|l| l.starts_with('│') || l.starts_with('┌') || l.starts_with('└'))
    {
        assert_eq!(line.chars().count(), width, "{line}\n{screen}");
        assert!(
            line.ends_with('│') || line.ends_with('┐') || line.ends_with('┘'),
            "{line}"
        );
    }
}

#[test]
#[ignore = "needs tmux; about 20 s"]
fn full_screen_view_in_tmux() {
    if !have_tmux() {
        eprintln!("tmux not found: skipped");
        return;
    }
    let mut captures = String::new();
    let mut keep = |title: &str, screen: &str| {
        captures.push_str(&format!("==== {title} ====\n{}\n", screen.trim_end()));
    };

    // 100×30, one sensor, ended with q during the first hold.
    let s = Session::start("twistcoach-tui", 100, 30);
    s.save_terminal_settings();
    s.keys(&[&live_command(""), "Enter"]);
    let calibrating = s.wait_for("calibrating: still for", Duration::from_secs(10));
    assert!(calibrating.contains("stay still 2 s to calibrate"), "{calibrating}");
    assert_no_wrap(&calibrating, 100);
    keep("100x30, calibrating", &calibrating);
    let holding = s.wait_for("s to go (target", Duration::from_secs(30));
    assert!(holding.contains("hold…") || holding.contains("ease off"), "{holding}");
    assert!(holding.contains('█'), "no needle:\n{holding}");
    assert!(
        holding.contains("movella-dot") && holding.contains("dropped"),
        "{holding}"
    );
    assert_no_wrap(&holding, 100);
    keep("100x30, holding", &holding);
    s.keys(&["q"]);
    let done = s.wait_for("EXIT=", Duration::from_secs(10));
    assert!(done.contains("EXIT=0"), "{done}");
    assert!(done.contains("seated twist:"), "no summary after the view:\n{done}");
    assert!(!done.contains("┌ twistcoach live"), "the view was not cleared:\n{done}");
    keep("100x30, after q: the summary on the normal screen", &done);
    s.assert_terminal_settings_restored();
    drop(s);

    // 80×24, two sensors, ended with Ctrl-C.
    let s = Session::start("twistcoach-tui80", 80, 24);
    s.save_terminal_settings();
    s.keys(&[&live_command("--sensor pelvis=sim:witmotion"), "Enter"]);
    let holding = s.wait_for("s to go (target", Duration::from_secs(30));
    assert_no_wrap(&holding, 80);
    assert_eq!(
        holding.matches("dropped").count(),
        2,
        "a sensor's status is cut off:\n{holding}"
    );
    keep("80x24, two sensors, holding", &holding);
    s.keys(&["C-c"]);
    let done = s.wait_for("EXIT=", Duration::from_secs(10));
    assert!(done.contains("EXIT=0") && done.contains("seated twist:"), "{done}");
    keep("80x24, after Ctrl-C", &done);
    s.assert_terminal_settings_restored();

    if let Ok(path) = std::env::var("TWISTCOACH_TMUX_CAPTURES") {
        let header = format!(
            "# twistcoach live in tmux: captures of the full-screen view\n\n\
             Made by `TWISTCOACH_TMUX_CAPTURES=docs/live-tmux.txt cargo test --release --test tui_tmux -- --ignored`\n\
             (tests/tui_tmux.rs, {}): `twistcoach live --variation seated --sensor chest=sim:movella-dot\n\
             --sim-speed 2` in a detached 100×30 session ended with q; then with a second sensor\n\
             (pelvis=sim:witmotion) in 80×24, ended with Ctrl-C. Text only (capture-pane -p keeps no colours).\n\n",
            tmux(&["-V"]).trim()
        );
        std::fs::write(&path, header + &captures).expect("write the captures");
    }
}
