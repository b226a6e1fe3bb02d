//! Eval cases from a CSV file: one case per row under a header naming the
//! columns. Every bad row is reported (line and column) and none is kept.

use super::{Category, EvalCaseInput, EvalExpectations, EvalLead, Phrase, MAX_CASES};
use crate::domain::agent::Channel;
use crate::domain::problem::FieldError;

/// The columns a CSV may have; `message` is required.
pub const CSV_COLUMNS: [&str; 8] = [
    "message",
    "name",
    "company",
    "channel",
    "category",
    "must_contain",
    "must_not_contain",
    "max_chars",
];

/// Separates the phrases of one cell (`must_contain`, `must_not_contain`).
pub const PHRASE_SEPARATOR: char = '|';

fn row_error(line: u64, column: &str, message: impl Into<String>) -> FieldError {
    FieldError::new(format!("row {line}.{column}"), message)
}

/// The cases of a CSV file, or every error, each naming the line (the
/// header is line 1) and the column.
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<EvalCaseInput>, Vec<FieldError>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|h| h.to_lowercase()).collect(),
        Err(e) => {
            return Err(vec![FieldError::new(
                "body",
                format!("the CSV header cannot be read: {e}"),
            )])
        }
    };
    let mut errors = Vec::new();
    for h in &headers {
        if !CSV_COLUMNS.contains(&h.as_str()) {
            errors.push(FieldError::new(
                "body",
                format!(
                    "the header names an unknown column {h:?}; the columns are {}",
                    CSV_COLUMNS.join(", ")
                ),
            ));
        }
    }
    if !headers.iter().any(|h| h == "message") {
        errors.push(FieldError::new(
            "body",
            "the CSV needs a header row with at least a `message` column",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut cases = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = record
            .as_ref()
            .ok()
            .and_then(|r| r.position())
            .map(|p| p.line())
            .unwrap_or(i as u64 + 2);
        if cases.len() + errors.len() >= MAX_CASES as usize {
            errors.push(FieldError::new(
                "body",
                format!("holds more than {MAX_CASES} cases, the most a set holds: split the file"),
            ));
            break;
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(row_error(line, "row", format!("unreadable CSV: {e}")));
                continue;
            }
        };
        if record.len() > headers.len() {
            errors.push(row_error(
                line,
                "row",
                format!("has {} fields, the header {}", record.len(), headers.len()),
            ));
            continue;
        }
        let cell = |name: &str| {
            headers
                .iter()
                .position(|h| h == name)
                .and_then(|i| record.get(i))
                .filter(|v| !v.is_empty())
        };
        match case_of(line, &cell) {
            Ok(case) => cases.push(case),
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() && cases.is_empty() {
        errors.push(FieldError::new(
            "body",
            "holds no case: add rows under the header",
        ));
    }
    if errors.is_empty() {
        Ok(cases)
    } else {
        Err(errors)
    }
}

/// `row N.expect.category` → `row N.category`: the CSV's own column names.
fn column_named(field: &str) -> String {
    field
        .replacen(".expect.", ".", 1)
        .replacen(".lead.", ".", 1)
}

/// One row as a case, or its cells' errors.
fn case_of<'a>(
    line: u64,
    cell: &dyn Fn(&str) -> Option<&'a str>,
) -> Result<EvalCaseInput, Vec<FieldError>> {
    let mut errors = Vec::new();
    let channel = cell("channel").and_then(|c| {
        let parsed = Channel::parse(&c.to_lowercase());
        if parsed.is_none() {
            let names: Vec<&str> = Channel::ALL.iter().map(|c| c.as_str()).collect();
            errors.push(row_error(
                line,
                "channel",
                format!("{c:?} is not a channel; use {}", names.join(", ")),
            ));
        }
        parsed
    });
    let category = cell("category").and_then(|c| {
        let parsed = Category::parse(c);
        if parsed.is_none() {
            let names: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
            errors.push(row_error(
                line,
                "category",
                format!("{c:?} is not a category; use {}", names.join(", ")),
            ));
        }
        parsed
    });
    let max_chars = cell("max_chars").and_then(|m| match m.parse::<u32>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.push(row_error(
                line,
                "max_chars",
                format!("{m:?} is not a whole number of characters"),
            ));
            None
        }
    });
    let phrases = |name: &str| -> Vec<Phrase> {
        cell(name)
            .map(|c| {
                c.split(PHRASE_SEPARATOR)
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(|p| Phrase(p.to_string()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let case = EvalCaseInput {
        message: cell("message").unwrap_or_default().to_string(),
        lead: EvalLead {
            name: cell("name").map(str::to_string),
            company: cell("company").map(str::to_string),
            channel,
        },
        expect: EvalExpectations {
            category,
            must_contain: phrases("must_contain"),
            must_not_contain: phrases("must_not_contain"),
            max_chars,
        },
    };
    // The case's own rules, under this row's line number.
    match case.validated(&format!("row {line}.")) {
        Ok(case) if errors.is_empty() => Ok(case),
        Ok(_) => Err(errors),
        Err(e) => {
            errors.extend(
                e.into_iter()
                    .map(|e| FieldError::new(column_named(&e.field), e.message)),
            );
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_reads_into_cases_with_phrases_split() {
        let csv = "\u{feff}message,name,category,must_contain,max_chars,channel\n\
                   \"Hi, openings next week?\",Ana,HOT,Monday | Friday ,300,email\n\
                   Just browsing,,,,,\n";
        let cases = parse_csv(csv.as_bytes()).unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].message, "Hi, openings next week?");
        assert_eq!(cases[0].lead.name.as_deref(), Some("Ana"));
        assert_eq!(cases[0].lead.channel, Some(Channel::Email));
        assert_eq!(cases[0].expect.category, Some(Category::Hot));
        assert_eq!(
            cases[0].expect.must_contain,
            [Phrase("Monday".into()), Phrase("Friday".into())]
        );
        assert_eq!(cases[0].expect.max_chars, Some(300));
        assert_eq!(cases[1].expect, EvalExpectations::default());
    }

    #[test]
    fn every_bad_row_is_named_by_line_and_column() {
        let csv = "message,category,max_chars\n\
                   Fine,warm,10\n\
                   ,lukewarm,ten\n\
                   Also fine,,0\n";
        let errors = parse_csv(csv.as_bytes()).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "row 3.category",
                "row 3.max_chars",
                "row 3.message",
                "row 4.max_chars"
            ],
            "{errors:?}"
        );
        let unknown = parse_csv(b"message,catgory\nHi,hot\n").unwrap_err();
        assert!(unknown[0].message.contains("\"catgory\""), "{unknown:?}");
        assert!(parse_csv(b"name\nAna\n").is_err(), "no message column");
        assert!(parse_csv(b"message\n").is_err(), "no rows");
    }
}
