//! The terminal doctor runs in: whether it is one, its colours, and
//! whether it supports synchronized output (DEC mode 2026, which the
//! console wraps every frame in), asked of the terminal itself.

use std::io::{IsTerminal, Read, Write};
use std::sync::mpsc;
use std::time::Duration;

use super::Check;

pub fn checks() -> Vec<Check> {
    let stdin = std::io::stdin().is_terminal();
    let stdout = std::io::stdout().is_terminal();
    let mut checks = vec![if stdin && stdout {
        Check::ok("terminal", "stdin and stdout are a terminal")
    } else {
        Check::warn(
            "terminal",
            format!(
                "{} not a terminal here, so the console would refuse to start",
                match (stdin, stdout) {
                    (false, false) => "stdin and stdout are",
                    (false, true) => "stdin is",
                    _ => "stdout is",
                }
            ),
        )
        .hint("run doctor in the terminal you use the console in, without a pipe")
    }];
    checks.push(colour(
        std::env::var("TERM").ok().as_deref(),
        std::env::var("COLORTERM").ok().as_deref(),
        std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
    ));
    checks.push(synchronized_output(stdin && stdout));
    checks
}

/// What the environment says about colour.
pub fn colour(term: Option<&str>, colorterm: Option<&str>, no_color: bool) -> Check {
    if no_color {
        return Check::ok(
            "colour",
            "off: NO_COLOR is set (the console uses bold, reverse and underline only)",
        );
    }
    match term {
        None | Some("") => Check::warn("colour", "TERM is not set")
            .hint("set TERM for your terminal, e.g. TERM=xterm-256color"),
        Some("dumb") => Check::warn("colour", "TERM=dumb: no colour and no cursor movement")
            .hint("the console needs a full terminal; set TERM, e.g. TERM=xterm-256color"),
        Some(term) => {
            let depth = if matches!(colorterm, Some("truecolor" | "24bit")) {
                "24-bit colour"
            } else if term.contains("256color") {
                "256 colours"
            } else {
                "16 colours"
            };
            Check::ok(
                "colour",
                format!(
                    "TERM={term}: {depth} (the console's default theme uses the 16 basic ones)"
                ),
            )
        }
    }
}

/// Asks the terminal (DECRQM) whether it knows mode 2026; a device
/// attributes request behind it bounds the wait, since every terminal
/// answers that one.
fn synchronized_output(is_terminal: bool) -> Check {
    const NAME: &str = "synchronized output";
    if !is_terminal {
        return Check::ok(NAME, "not asked: no terminal");
    }
    match ask_mode_2026() {
        Some(true) => Check::ok(NAME, "supported: frames are drawn whole"),
        Some(false) => Check::warn(NAME, "not supported by this terminal").hint(
            "the console works; fast redraws may flicker (kitty, WezTerm, foot, iTerm2, \
                   Ghostty and Windows Terminal support it)",
        ),
        None => Check::warn(NAME, "the terminal did not answer the query")
            .hint("the console works; fast redraws may flicker if it lacks DEC mode 2026"),
    }
}

fn ask_mode_2026() -> Option<bool> {
    crossterm::terminal::enable_raw_mode().ok()?;
    let answer = query();
    let _ = crossterm::terminal::disable_raw_mode();
    answer
}

fn query() -> Option<bool> {
    let mut out = std::io::stdout();
    out.write_all(b"\x1b[?2026$p\x1b[c").ok()?;
    out.flush().ok()?;
    let (tx, rx) = mpsc::channel();
    // A terminal that never answers leaves this thread blocked on stdin
    // until the process exits, which it does right after the report.
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin();
        let mut byte = [0u8; 1];
        while stdin.read(&mut byte).is_ok_and(|n| n == 1) {
            if tx.send(byte[0]).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    while let Ok(b) = rx.recv_timeout(Duration::from_millis(500)) {
        seen.push(b);
        if let Some(answer) = parse_answer(&seen) {
            return answer;
        }
    }
    None
}

/// `Some(answer)` once the terminal has answered: a DECRPM reply for
/// 2026 (`ESC [ ? 2026 ; N $ y`, N 1–3 when it supports the mode, 0 when it
/// does not know it, 4 when it cannot set it), or only the device
/// attributes (`ESC [ ? … c`), from a terminal that ignored the question.
/// `None` while the answer is incomplete.
pub fn parse_answer(bytes: &[u8]) -> Option<Option<bool>> {
    let text = String::from_utf8_lossy(bytes);
    if let Some(at) = text.find("\x1b[?2026;") {
        let rest = &text[at + 8..];
        let end = rest.find("$y")?;
        return Some(Some(matches!(&rest[..end], "1" | "2" | "3")));
    }
    let attributes = text.match_indices("\x1b[?").any(|(at, _)| {
        let rest = &text[at + 3..];
        rest.find('c')
            .is_some_and(|end| rest[..end].bytes().all(|b| b.is_ascii_digit() || b == b';'))
    });
    attributes.then_some(Some(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_terminals_answer_is_read() {
        assert_eq!(
            parse_answer(b"\x1b[?2026;2$y\x1b[?62;22c"),
            Some(Some(true))
        );
        assert_eq!(parse_answer(b"\x1b[?2026;0$y\x1b[?62c"), Some(Some(false)));
        // Only the device attributes: the mode is unknown to it.
        assert_eq!(parse_answer(b"\x1b[?1;2c"), Some(Some(false)));
        // Not complete yet.
        assert_eq!(parse_answer(b"\x1b[?20"), None);
        assert_eq!(parse_answer(b"\x1b[?2026;2"), None);
        assert_eq!(parse_answer(b"\x1b[?2026;4$y"), Some(Some(false)));
    }

    #[test]
    fn colour_follows_no_color_and_term() {
        assert!(colour(Some("xterm-256color"), None, true)
            .detail
            .contains("NO_COLOR"));
        assert!(colour(Some("xterm-256color"), None, false)
            .detail
            .contains("256 colours"));
        assert!(colour(Some("xterm"), Some("truecolor"), false)
            .detail
            .contains("24-bit"));
        assert_eq!(
            colour(Some("dumb"), None, false).status,
            super::super::Status::Warn
        );
        assert_eq!(colour(None, None, false).status, super::super::Status::Warn);
    }
}
