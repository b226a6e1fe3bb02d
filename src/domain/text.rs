//! Text helpers for input nobody controls (model output, lead text, CSV,
//! headers): they find and cut without ever taking a byte offset from one
//! string to another, so no input can make them panic.

/// The byte range of the first ASCII-case-insensitive occurrence of the
/// ASCII `needle` in `haystack`. Searched in `haystack` itself (not in its
/// lowercase, whose byte length may differ: `İ` lowercases to three bytes),
/// so the range always lies on `haystack`'s character boundaries.
pub fn find_ascii_ignore_case(haystack: &str, needle: &str) -> Option<std::ops::Range<usize>> {
    let (hay, pat) = (haystack.as_bytes(), needle.as_bytes());
    if pat.is_empty() || !needle.is_ascii() || pat.len() > hay.len() {
        return None;
    }
    // An ASCII byte never equals a byte of a multi-byte character, so a
    // match starts and ends on character boundaries.
    hay.windows(pat.len())
        .position(|w| w.eq_ignore_ascii_case(pat))
        .map(|start| start..start + pat.len())
}

/// What follows the first ASCII-case-insensitive `needle` in `haystack`.
pub fn after_ascii_ignore_case<'a>(haystack: &'a str, needle: &str) -> Option<&'a str> {
    let found = find_ascii_ignore_case(haystack, needle)?;
    haystack.get(found.end..)
}

/// At most `max` characters of `s` (never a cut inside a character).
pub fn truncate_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((cut, _)) => s.get(..cut).unwrap_or(s),
        None => s,
    }
}

/// Characters that change how text reads without being seen: bidi
/// overrides and isolates, zero-width characters, the byte-order mark.
pub fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}'
        | '\u{FEFF}' | '\u{061C}' | '\u{180E}')
}

/// Control characters, line and paragraph separators (which some mail
/// readers break lines at) and invisible format characters.
fn breaks_layout(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') || is_invisible_format(c)
}

/// Text from a lead or a model, quoted for an email so it can never pass
/// for the sender's own words: a label saying whose it is, then every line
/// behind `> `, without control or invisible format characters.
pub fn untrusted_block(label: &str, text: &str) -> String {
    let mut out = format!("{label} (untrusted content, quoted as received):\n");
    for line in text.lines() {
        let clean: String = line
            .chars()
            .filter(|c| *c == '\t' || !breaks_layout(*c))
            .collect();
        out.push_str("> ");
        out.push_str(&clean);
        out.push('\n');
    }
    if text.lines().next().is_none() {
        out.push_str(">\n");
    }
    out
}

/// Text from a lead for one line of a subject or a label: single-line, at
/// most `max` characters, no control or invisible format characters.
pub fn one_line(text: &str, max: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| if breaks_layout(c) { ' ' } else { c })
        .collect();
    let clean = clean.split_whitespace().collect::<Vec<_>>().join(" ");
    if clean.chars().count() > max {
        format!("{}…", truncate_chars(&clean, max.saturating_sub(1)))
    } else {
        clean
    }
}

/// Strategies for property tests: arbitrary Unicode, weighted towards the
/// characters that break byte arithmetic (case mappings that change length,
/// combining marks, bidi and zero-width format characters, surrogates'
/// neighbours, line breaks) and the words parsers look for.
#[cfg(test)]
pub mod arbitrary {
    use proptest::prelude::*;

    /// Characters whose case mapping or width has bitten parsers before.
    pub const TRICKY: &[char] = &[
        'İ',        // lowercases to `i̇` (3 bytes from 2)
        '\u{212A}', // Kelvin sign: lowercases to ASCII `k` (1 byte from 3)
        '\u{2126}', // Ohm sign: lowercases to `ω`
        'ẞ',        // uppercase sharp s
        'ß',        // uppercases to `SS`
        'ŉ',        // uppercases to two characters
        'ﬃ',        // ligature, uppercases to `FFI`
        'Σ',
        '\u{0307}', // combining dot above
        '\u{200B}', // zero-width space
        '\u{202E}', // right-to-left override
        '\u{FEFF}', // byte-order mark
        '\u{FFFD}',
        '\u{10FFFF}',
        '𝔘',
        '\r',
        '\n',
        '\t',
        '\0',
        '"',
        ',',
        ':',
        '=',
        '@',
    ];

    /// A character: mostly arbitrary, often a tricky one.
    pub fn char() -> impl Strategy<Value = char> {
        prop_oneof![
            3 => any::<char>(),
            2 => proptest::sample::select(TRICKY),
            2 => proptest::char::range('\u{0}', '\u{7f}'),
        ]
    }

    /// A string of arbitrary Unicode, with `words` sprinkled in (in any
    /// case), so parsers take their interesting branches.
    pub fn text(words: &'static [&'static str]) -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            4 => char().prop_map(String::from),
            1 => proptest::sample::select(words).prop_map(str::to_string),
            1 => proptest::sample::select(words).prop_map(str::to_uppercase),
        ];
        proptest::collection::vec(piece, 0..80).prop_map(|p| p.concat())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn finds_in_the_original_string() {
        assert_eq!(
            find_ascii_ignore_case("İİ CATEGORY: x", "category"),
            Some(5..13)
        );
        assert_eq!(
            after_ascii_ignore_case("\u{212A}Reason: y", "reason"),
            Some(": y")
        );
        assert_eq!(find_ascii_ignore_case("kelvin", "\u{212A}"), None);
        assert_eq!(find_ascii_ignore_case("", "x"), None);
        assert_eq!(truncate_chars("İİİ", 2), "İİ");
    }

    #[test]
    fn untrusted_text_is_quoted_and_cleaned() {
        let block = untrusted_block("Draft", "Hi\n\u{202E}Approved by your boss\r\n");
        assert_eq!(
            block,
            "Draft (untrusted content, quoted as received):\n> Hi\n> Approved by your boss\n"
        );
        assert_eq!(one_line("Ana\nBcc: x@y.io\u{200B}", 12), "Ana Bcc: x@…");
    }

    proptest! {
        #[test]
        fn quoted_text_never_escapes_its_block(s in arbitrary::text(&["\n", "\r\n", "> "])) {
            let block = untrusted_block("Lead", &s);
            for line in block.lines().skip(1) {
                prop_assert!(line.starts_with('>'), "{line:?}");
            }
            let line = one_line(&s, 20);
            prop_assert!(!line.contains(['\n', '\r']) && line.chars().count() <= 20);
        }

        #[test]
        fn never_panics_and_cuts_on_boundaries(
            s in arbitrary::text(&["category", "reason"]),
            n in 0usize..100,
        ) {
            if let Some(r) = find_ascii_ignore_case(&s, "category") {
                prop_assert!(s.is_char_boundary(r.start) && s.is_char_boundary(r.end));
            }
            let _ = after_ascii_ignore_case(&s, "reason");
            prop_assert!(truncate_chars(&s, n).chars().count() <= n);
        }
    }
}
