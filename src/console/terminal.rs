//! The terminal's modes while the console runs (raw, alternate screen,
//! bracketed paste, hidden cursor) and their restoration on every exit path,
//! panics included; and the writer that sends whole frames only.

use std::io::{self, Write};

use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use crossterm::terminal::{
    self, BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen,
    LeaveAlternateScreen,
};
use crossterm::{cursor, execute, queue};

/// Leaves raw mode and the alternate screen. Safe to call twice: the panic
/// hook and the guard may both run.
pub fn restore_terminal() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableBracketedPaste,
        LeaveAlternateScreen,
        cursor::Show
    );
}

/// Raw mode, the alternate screen, bracketed paste, a hidden cursor.
fn take_terminal() -> io::Result<()> {
    terminal::enable_raw_mode()?;
    execute!(
        io::stdout(),
        EnterAlternateScreen,
        EnableBracketedPaste,
        cursor::Hide
    )
}

/// Restores the terminal when dropped, on every exit path including `?`.
pub struct TerminalGuard;

impl TerminalGuard {
    pub fn enter() -> anyhow::Result<Self> {
        // Built first, so a failure half-way still restores what was set.
        let guard = TerminalGuard;
        take_terminal()?;
        Ok(guard)
    }
}

/// Ctrl-Z: gives the shell back its terminal as it was, stops the process
/// as the terminal itself would have (SIGTSTP; raw mode turned that key into
/// a keypress), and when the shell continues it (`fg`, SIGCONT) takes the
/// terminal again and clears it, so the next draw repaints every cell.
pub fn suspend<B: ratatui::backend::Backend>(
    terminal: &mut ratatui::Terminal<B>,
) -> anyhow::Result<()> {
    restore_terminal();
    stop_until_continued()?;
    take_terminal()?;
    terminal
        .clear()
        .map_err(|e| anyhow::anyhow!("cannot redraw the console after ctrl-z: {e}"))
}

#[cfg(unix)]
fn stop_until_continued() -> io::Result<()> {
    // SAFETY: raise only sends a signal to this process; SIGTSTP's default
    // action stops it, and raise returns once SIGCONT resumes it.
    if unsafe { libc::raise(libc::SIGTSTP) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(not(unix))]
fn stop_until_continued() -> io::Result<()> {
    // No job control: ctrl-z does nothing but redraw.
    Ok(())
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Restores the terminal before the panic message is printed, so the message
/// is readable and the shell usable.
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        previous(info);
    }));
}

/// What ratatui writes at the end of every draw even when no cell changed:
/// style resets and hiding the (already hidden) cursor. Alone they change
/// nothing on screen.
const NO_CHANGE: [&[u8]; 5] = [
    b"\x1b[39m",
    b"\x1b[49m",
    b"\x1b[59m",
    b"\x1b[0m",
    b"\x1b[?25l",
];

/// Whether `bytes` are only [`NO_CHANGE`] sequences.
fn changes_nothing(mut bytes: &[u8]) -> bool {
    'next: while !bytes.is_empty() {
        for seq in NO_CHANGE {
            if let Some(rest) = bytes.strip_prefix(seq) {
                bytes = rest;
                continue 'next;
            }
        }
        return false;
    }
    true
}

/// What the console writes to the terminal, held until a frame is complete
/// (ratatui flushes once at the end of each draw), then sent at once inside a
/// synchronized update (DEC 2026) — and not at all when a redraw changed no
/// cell, so an idle console writes nothing.
pub struct FrameWriter<W: Write> {
    out: W,
    pending: Vec<u8>,
}

impl<W: Write> FrameWriter<W> {
    pub fn new(out: W) -> Self {
        Self {
            out,
            pending: Vec::with_capacity(16 * 1024),
        }
    }
}

impl<W: Write> Write for FrameWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        Ok(buf.len())
    }

    /// Sends what is pending as one synchronized update; nothing when
    /// nothing is.
    fn flush(&mut self) -> io::Result<()> {
        if changes_nothing(&self.pending) {
            self.pending.clear();
            return Ok(());
        }
        queue!(self.out, BeginSynchronizedUpdate)?;
        self.out.write_all(&self.pending)?;
        queue!(self.out, EndSynchronizedUpdate)?;
        self.out.flush()?;
        self.pending.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::io::Write;
    use std::rc::Rc;

    use ratatui::backend::CrosstermBackend;
    use ratatui::layout::Rect;
    use ratatui::widgets::Paragraph;
    use ratatui::{Terminal, TerminalOptions, Viewport};

    use super::FrameWriter;

    /// The terminal's side: everything that reached it.
    #[derive(Clone, Default)]
    struct Screen(Rc<RefCell<Vec<u8>>>);

    impl Write for Screen {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn only_resets_and_a_hidden_cursor_change_nothing() {
        assert!(super::changes_nothing(b""));
        assert!(super::changes_nothing(
            b"\x1b[39m\x1b[49m\x1b[59m\x1b[0m\x1b[?25l"
        ));
        assert!(!super::changes_nothing(b"\x1b[39m\x1b[1;1Hx"));
        assert!(!super::changes_nothing(b"\x1b[2J"));
        assert!(!super::changes_nothing(b"\x1b[?25h"));
    }

    #[test]
    fn a_redraw_that_changes_nothing_writes_nothing() {
        let screen = Screen::default();
        let options = TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, 20, 2)),
        };
        let backend = CrosstermBackend::new(FrameWriter::new(screen.clone()));
        let mut term = Terminal::with_options(backend, options).unwrap();
        let mut draw = |text: &str| {
            term.draw(|f| f.render_widget(Paragraph::new(text.to_string()), f.area()))
                .unwrap();
            screen.0.borrow().len()
        };
        let first = draw("hello");
        assert!(first > 0);
        assert_eq!(draw("hello"), first, "an unchanged frame was sent");
        let third = draw("hallo");
        let sent = screen.0.borrow()[first..third].to_vec();
        assert!(sent.starts_with(b"\x1b[?2026h") && sent.ends_with(b"\x1b[?2026l"));
        assert!(String::from_utf8_lossy(&sent).contains('a'));
    }
}
