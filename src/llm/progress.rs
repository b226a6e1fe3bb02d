//! Where `model fetch` reports what it is doing: stderr for the CLI, or a
//! channel for the console, which owns the terminal and must see no output.

use std::fmt::Display;
use std::io::IsTerminal;

use tokio::sync::watch;

pub use crate::domain::model_fetch::{FetchProgress, Phase};

/// Where progress and notes go.
#[derive(Debug, Clone, Default)]
pub enum Sink {
    /// The CLI: a bar (or a line every 10 %) and notes on stderr.
    #[default]
    Stderr,
    /// The console: the latest progress in the channel, notes dropped (they
    /// go to the log); nothing is ever written to the terminal.
    Channel(watch::Sender<FetchProgress>),
}

impl Sink {
    /// A line the CLI user should read (e.g. "resuming the download").
    pub fn note(&self, message: impl Display) {
        match self {
            Sink::Stderr => eprintln!("{message}"),
            Sink::Channel(_) => tracing::info!("model fetch: {message}"),
        }
    }

    /// Says that `phase` started, its size `total` when known.
    pub fn phase(&self, phase: Phase, total: u64) {
        if let Sink::Channel(tx) = self {
            tx.send_replace(FetchProgress {
                phase,
                done: 0,
                total,
            });
        }
    }

    /// True when the CLI may fall back to tools that write to the terminal
    /// (pip); the console may not.
    pub fn owns_terminal(&self) -> bool {
        matches!(self, Sink::Stderr)
    }

    pub(super) fn progress(&self, verb: &'static str, phase: Phase, total: u64) -> Progress {
        self.phase(phase, total);
        Progress {
            sink: self.clone(),
            verb,
            phase,
            total,
            done: 0,
            shown: 0,
            tty: matches!(self, Sink::Stderr) && std::io::stderr().is_terminal(),
        }
    }
}

/// Bytes done / total of one phase: on stderr, a bar redrawn in place on a
/// terminal or a plain line every 10 % otherwise; in a channel, every MiB.
pub(super) struct Progress {
    sink: Sink,
    verb: &'static str,
    phase: Phase,
    total: u64,
    done: u64,
    shown: u64,
    tty: bool,
}

impl Progress {
    pub(super) fn advance(&mut self, n: u64) {
        self.done += n;
        let step = if self.tty || matches!(self.sink, Sink::Channel(_)) {
            1 << 20
        } else {
            (self.total / 10).max(1 << 22)
        };
        if self.done - self.shown >= step {
            self.shown = self.done;
            self.show();
        }
    }

    fn figures(&self) -> FetchProgress {
        FetchProgress {
            phase: self.phase,
            done: self.done,
            total: self.total,
        }
    }

    fn line(&self) -> String {
        let mb = |b: u64| b as f64 / 1e6;
        let fraction = self.figures().ratio();
        let figures = format!(
            "{} {:.1} / {:.1} MB ({:.0} %)",
            self.verb,
            mb(self.done),
            mb(self.total),
            fraction * 100.0
        );
        if self.tty {
            let filled = (fraction * 30.0).round() as usize;
            format!(
                "  [{}{}] {figures}",
                "#".repeat(filled),
                "-".repeat(30 - filled)
            )
        } else {
            format!("  {figures}")
        }
    }

    fn show(&self) {
        match &self.sink {
            Sink::Channel(tx) => {
                tx.send_replace(self.figures());
            }
            Sink::Stderr if self.tty => eprint!("\r{}", self.line()),
            Sink::Stderr => eprintln!("{}", self.line()),
        }
    }

    pub(super) fn finish(&self) {
        self.show();
        if self.tty {
            eprintln!();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_sees_each_mib_and_the_end_and_never_claims_the_terminal() {
        let (tx, rx) = watch::channel(FetchProgress::default());
        let sink = Sink::Channel(tx);
        assert!(!sink.owns_terminal());
        let mut p = sink.progress("downloaded", Phase::Installing, 3 << 20);
        assert!(!p.tty, "a channel never draws a bar");
        assert_eq!(rx.borrow().phase, Phase::Installing);
        p.advance(1000);
        assert_eq!(rx.borrow().done, 0, "under a MiB: not yet reported");
        p.advance(1 << 20);
        assert_eq!(rx.borrow().done, (1 << 20) + 1000);
        p.advance((2 << 20) - 1000);
        p.finish();
        let last = *rx.borrow();
        assert_eq!((last.done, last.total), (3 << 20, 3 << 20));
        assert!((last.ratio() - 1.0).abs() < f64::EPSILON);
    }

    #[test]
    fn a_phase_resets_the_figures_and_an_unknown_total_reads_as_zero() {
        let (tx, rx) = watch::channel(FetchProgress::default());
        let sink = Sink::Channel(tx);
        sink.phase(Phase::Verifying, 0);
        assert_eq!(
            *rx.borrow(),
            FetchProgress {
                phase: Phase::Verifying,
                done: 0,
                total: 0
            }
        );
        assert_eq!(rx.borrow().ratio(), 0.0);
        assert!(Sink::Stderr.owns_terminal());
    }

    #[test]
    fn the_stderr_line_keeps_its_shape() {
        let mut p = Sink::Stderr.progress("copied", Phase::Installing, 10_000_000);
        p.tty = false;
        p.done = 2_500_000;
        assert_eq!(p.line(), "  copied 2.5 / 10.0 MB (25 %)");
        p.tty = true;
        assert!(p.line().starts_with("  [########------"), "{}", p.line());
    }
}
