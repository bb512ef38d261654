//! Progress on stderr for long stages, drawn only when stderr is a terminal
//! so logs and CI output stay clean.

use std::io::IsTerminal;
use std::time::Instant;

use std::sync::OnceLock;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// Hands out progress bars that are hidden when not wanted.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    visible: bool,
}

impl Progress {
    /// Visible when stderr is a terminal, unless `quiet`.
    pub fn new(quiet: bool) -> Self {
        Progress {
            visible: !quiet && std::io::stderr().is_terminal(),
        }
    }

    /// Never draws (for tests and library use).
    pub fn hidden() -> Self {
        Progress { visible: false }
    }

    fn make(&self, len: Option<u64>, style: &str, msg: &str) -> ProgressBar {
        if !self.visible {
            return ProgressBar::hidden();
        }
        let bar = match len {
            Some(n) => ProgressBar::new(n),
            None => ProgressBar::new_spinner(),
        };
        // Inputs read at the same time each have a line, one under the other.
        static LINES: OnceLock<MultiProgress> = OnceLock::new();
        let bar = LINES.get_or_init(MultiProgress::new).add(bar);
        if let Ok(s) = ProgressStyle::with_template(style) {
            bar.set_style(s);
        }
        bar.set_message(msg.to_string());
        bar
    }

    /// A counter of items whose total is not known in advance.
    pub fn counter(&self, msg: &str) -> ProgressBar {
        self.make(
            None,
            "{spinner} {msg}: {human_pos} records [{elapsed}]",
            msg,
        )
    }

    /// A bar over a known number of steps.
    pub fn bar(&self, len: u64, msg: &str) -> ProgressBar {
        self.make(Some(len), "{msg} [{bar:30}] {pos}/{len}", msg)
    }
}

/// Writes a line to stderr like `eprintln!`, but a closed stderr (as in
/// `riskatlas … 2>&1 | head`) is ignored instead of panicking: the run goes
/// on and ends with its own exit code.
#[macro_export]
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Wall time of each stage, in run order.
#[derive(Debug, Default, Clone)]
pub struct Timings(pub Vec<(String, f64)>);

impl Timings {
    /// Runs `f` as the named stage and records its wall time.
    pub fn stage<T>(&mut self, name: &str, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        self.push(name.to_string(), t.elapsed().as_secs_f64());
        out
    }

    /// Records a stage timed elsewhere, and the memory peak at its end.
    pub fn push(&mut self, name: String, secs: f64) {
        mark_memory(&name);
        self.0.push((name, secs));
    }

    /// Runs `f` and adds its wall time to the named stage, which is
    /// recorded at its first run: for a stage done in several turns.
    pub fn add_to<T>(&mut self, name: &str, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        let secs = t.elapsed().as_secs_f64();
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some((_, total)) => *total += secs,
            None => self.0.push((name.to_string(), secs)),
        }
        mark_memory(name);
        out
    }
}

/// The process's memory high-water mark (`VmHWM`, KiB) at the end of each
/// stage, in the order the stages ended on whichever thread: where the
/// run's peak builds up. Stages run side by side, so a mark is the peak so
/// far, not the stage's own.
static MEMORY_MARKS: std::sync::Mutex<Vec<(String, u64)>> = std::sync::Mutex::new(Vec::new());

/// Notes the memory high-water mark at the end of stage `name`.
fn mark_memory(name: &str) {
    // Read under the lock, so the marks are in the order of the readings.
    if let Ok(mut marks) = MEMORY_MARKS.lock() {
        if let Some(kib) = peak_memory_kib() {
            marks.push((name.to_string(), kib));
        }
    }
}

/// The marks noted so far (see [`MEMORY_MARKS`]).
pub fn memory_marks() -> Vec<(String, u64)> {
    MEMORY_MARKS.lock().map(|m| m.clone()).unwrap_or_default()
}

/// The process's peak resident memory so far, in KiB (Linux's `VmHWM`;
/// `None` where `/proc` does not give it).
pub fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
