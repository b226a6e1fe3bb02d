//! Display width and wrapping in terminal columns, not `char`s: a CJK
//! character or an emoji takes two columns, so names that carry them line
//! up, fit and wrap where the terminal draws them.

use unicode_width::UnicodeWidthStr;

/// How many columns `s` takes on screen.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `text` wrapped at `width` columns, each of its lines on its own; lines
/// break at spaces only (a path or an id keeps its hyphens), and a word
/// longer than a line is broken across lines.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let options =
        textwrap::Options::new(width.max(1)).word_splitter(textwrap::WordSplitter::NoHyphenation);
    text.lines()
        .flat_map(|para| {
            textwrap::wrap(para, &options)
                .into_iter()
                .map(std::borrow::Cow::into_owned)
        })
        .collect()
}

/// The longest start of `s` that fits in `cols` columns.
pub fn take_width(s: &str, cols: usize) -> &str {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        used += unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used > cols {
            return &s[..i];
        }
    }
    s
}

/// `s` cut to `cols` columns and padded with spaces to exactly `cols`.
pub fn fit(s: &str, cols: usize) -> String {
    let cut = take_width(s, cols);
    let pad = cols.saturating_sub(width(cut));
    format!("{cut}{}", " ".repeat(pad))
}

/// `s` as it fits in `cols` columns: whole when it fits, otherwise cut
/// one column short and ended with `…`, so a cut name says it was cut.
pub fn ellipsize(s: &str, cols: usize) -> String {
    if width(s) <= cols {
        return s.to_string();
    }
    if cols == 0 {
        return String::new();
    }
    format!("{}…", take_width(s, cols - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_text_ends_with_an_ellipsis_within_its_columns() {
        assert_eq!(ellipsize("Ana", 3), "Ana");
        assert_eq!(ellipsize("Anabela", 4), "Ana…");
        assert_eq!(width(&ellipsize("山田太郎", 5)), 5);
        assert_eq!(ellipsize("山田太郎", 5), "山田…");
        assert_eq!(ellipsize("x", 0), "");
    }

    #[test]
    fn wide_characters_take_two_columns() {
        assert_eq!(width("山田"), 4);
        assert_eq!(width("Ana 🎉"), 6);
        assert_eq!(take_width("山田太郎", 5), "山田");
        assert_eq!(fit("山田太郎", 5), "山田 ");
        assert_eq!(fit("ab", 4), "ab  ");
    }

    #[test]
    fn wrapping_counts_columns() {
        // Eight CJK characters are sixteen columns: two lines of ten.
        assert_eq!(wrap("東京都渋谷区神南", 10), vec!["東京都渋谷", "区神南"]);
        assert_eq!(wrap("one two three", 7), vec!["one two", "three"]);
        assert_eq!(wrap("a\n\nb", 5), vec!["a", "", "b"]);
        assert!(wrap("", 5).is_empty());
    }
}
