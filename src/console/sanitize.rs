//! Server-provided text made safe to draw or print: bidi overrides and
//! isolates, zero-width and other invisible format characters removed.
//!
//! A lead named `Alice\u{202E}gnp.exe` would otherwise be shown as
//! `Aliceexe.png`, and zero-width characters make two different names look
//! alike. Renderers pass server text through [`clean`] so its width is
//! measured without them; [`scrub`] then removes any that reached the frame
//! by another path, so none is ever written to the terminal.

use std::borrow::Cow;

use ratatui::buffer::Buffer;

/// Whether `c` is a format character (Unicode general category Cf: bidi
/// controls, zero-width characters, the soft hyphen, tags…). The table is
/// the whole of Cf as of Unicode 15.1; ratatui already drops control
/// characters (Cc).
pub fn is_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// `text` without format characters; borrowed when there were none.
pub fn clean(text: &str) -> Cow<'_, str> {
    // Every format character is outside ASCII: most text costs one scan.
    if text.is_ascii() || !text.chars().any(is_format) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.chars().filter(|c| !is_format(*c)).collect())
}

/// [`clean`], owned: for building cells and spans.
pub fn cleaned(text: &str) -> String {
    clean(text).into_owned()
}

/// Removes format characters left in any cell of a drawn frame (a
/// zero-width joiner rides along with the character before it, so ratatui
/// keeps it in that cell). A cell left empty becomes a space.
pub fn scrub(buf: &mut Buffer) {
    for cell in buf.content.iter_mut() {
        let symbol = cell.symbol();
        if symbol.is_ascii() || !symbol.chars().any(is_format) {
            continue;
        }
        let kept: String = symbol.chars().filter(|c| !is_format(*c)).collect();
        cell.set_symbol(if kept.is_empty() { " " } else { &kept });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::widgets::{Paragraph, Widget};

    #[test]
    fn strips_bidi_zero_width_and_other_format_characters() {
        let hostile = "Alice\u{202E}gnp.exe \u{2066}x\u{2069} a\u{200B}b\u{200D}c\u{FEFF}d\u{00AD}e\u{2060}f\u{E0041}";
        assert_eq!(clean(hostile), "Alicegnp.exe x abcdef");
        assert!(matches!(clean("plain"), Cow::Borrowed("plain")));
        assert!(matches!(clean("Zoë Ørsted"), Cow::Borrowed(_)));
        // Letters, marks and emoji are not format characters.
        assert_eq!(clean("Jos\u{0065}\u{0301} 🙂"), "Jos\u{0065}\u{0301} 🙂");
    }

    #[test]
    fn a_joiner_that_reached_the_frame_is_scrubbed() {
        let area = Rect::new(0, 0, 12, 1);
        let mut buf = Buffer::empty(area);
        Paragraph::new("a\u{200D}b\u{202E}c").render(area, &mut buf);
        assert!(buf.content.iter().any(|c| c.symbol().contains('\u{200D}')));
        scrub(&mut buf);
        let text: String = buf.content.iter().map(|c| c.symbol()).collect();
        assert!(!text.chars().any(is_format), "{text:?}");
        assert!(text.starts_with("abc"), "{text:?}");
    }
}
