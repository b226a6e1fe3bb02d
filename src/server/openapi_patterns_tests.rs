//! The served document's patterns decide "blank" as the server does.

use regex::Regex;
use serde_json::Value;

use super::document_json;
use crate::domain::validate::{is_email, EMAIL_PATTERN, NOT_BLANK};

fn patterns(value: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(p)) = map.get("pattern") {
                out.push((at.to_string(), p.clone()));
            }
            for (k, v) in map {
                patterns(v, &format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                patterns(v, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn compile(pattern: &str) -> Regex {
    match Regex::new(pattern) {
        Ok(re) => re,
        Err(e) => panic!("pattern {pattern:?} does not compile: {e}"),
    }
}

/// Every character that is not a surrogate, and a few strings around them.
fn all_chars() -> impl Iterator<Item = char> {
    (0..=0x10FFFFu32).filter_map(char::from_u32)
}

/// The characters where dialects of `\s` disagree, and a control of each range.
const TRICKY: [char; 9] = [
    '\u{0085}', '\u{feff}', '\u{00a0}', '\u{001c}', '\u{180e}', '\u{200b}', '\u{2028}', '\u{3000}',
    '\u{0007}',
];

#[test]
fn no_pattern_in_the_document_leaves_blank_to_a_regex_dialect() {
    let mut found = Vec::new();
    patterns(document_json(), "", &mut found);
    assert!(
        found.len() > 20,
        "the walk found only {} patterns",
        found.len()
    );
    for (at, p) in &found {
        let rest = p.replace(r"[\s\S]", "");
        assert!(
            !rest.contains(r"\s") && !rest.contains(r"\S"),
            "{at}: pattern {p:?} still says \\s or \\S (see server::openapi::spell_out_blanks)"
        );
        // The regex crate has no look-around (the phone pattern's digit
        // count); the rest must compile.
        if !p.contains("(?=") && !p.contains("(?!") {
            compile(p);
        }
    }
}

#[test]
fn not_blank_is_exactly_what_trim_keeps() {
    let re = compile(NOT_BLANK);
    for c in all_chars() {
        let s = c.to_string();
        assert_eq!(
            re.is_match(&s),
            !s.trim().is_empty(),
            "U+{:04X}: the pattern and str::trim disagree",
            c as u32
        );
    }
}

#[test]
fn the_email_pattern_refuses_exactly_what_is_email_refuses() {
    let re = compile(EMAIL_PATTERN);
    for c in all_chars() {
        for s in [format!("a{c}b@example.com"), format!("ab@exa{c}mple.com")] {
            assert_eq!(
                re.is_match(&s),
                is_email(&s),
                "U+{:04X} in {s:?}: the pattern and is_email disagree",
                c as u32
            );
        }
    }
}

/// An agent's model: trimmed by the server, then `provider/model`, both parts
/// non-empty (`domain::agent::AgentConfig::validate`).
fn server_takes_model(sent: &str) -> bool {
    sent.trim()
        .split_once('/')
        .is_some_and(|(p, m)| !p.is_empty() && !m.is_empty())
}

#[test]
fn the_model_pattern_agrees_with_the_server_on_blanks() {
    let doc = document_json();
    let pattern = doc
        .pointer("/components/schemas/NewAgent/properties/model/pattern")
        .and_then(Value::as_str);
    let Some(pattern) = pattern else {
        panic!("NewAgent.model has no pattern in the document");
    };
    let re = compile(pattern);
    for c in TRICKY.into_iter().chain([' ', '\t', '\n', 'x', '/']) {
        for sent in [
            format!("{c}a/b"),
            format!("a/{c}"),
            format!("{c}/b"),
            format!("a/b{c}"),
            format!("{c}"),
            format!("{c}{c}/{c}"),
            format!("a{c}/b"),
        ] {
            assert_eq!(
                re.is_match(&sent),
                server_takes_model(&sent),
                "model {sent:?}: the pattern {pattern:?} and the server disagree"
            );
        }
    }
}
