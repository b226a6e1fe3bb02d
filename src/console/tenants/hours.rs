//! Business hours in the tenant settings form: three plain-text fields (the
//! time zone, the week one line per day or span of days, the closures one
//! line per date) read into [`BusinessHours`] and written back the same way.
//!
//! ```text
//! Time zone   Europe/Lisbon
//! Open        mon-fri 09:00-12:30, 14:00-18:00
//!             sat 10:00-14:00
//! Closed on   2026-12-25 Christmas
//! ```

use chrono::NaiveDate;

use crate::domain::business_hours::{BusinessHours, Closure, OpeningRange, Week};

pub(crate) const TZ_FIELD: &str = "settings.business_hours.time_zone";
pub(crate) const WEEK_FIELD: &str = "settings.business_hours.week";
pub(crate) const CLOSURES_FIELD: &str = "settings.business_hours.closures";

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// The week as the form shows it: one line per run of consecutive days
/// with the same ranges (`mon-fri 09:00-17:00`), closed days left out.
pub(crate) fn week_text(week: &Week) -> String {
    let days = week.days();
    let mut lines = Vec::new();
    let mut i = 0;
    while i < days.len() {
        let ranges = days[i].1;
        let mut j = i;
        while j + 1 < days.len() && days[j + 1].1 == ranges {
            j += 1;
        }
        if !ranges.is_empty() {
            let span = if i == j {
                DAYS[i].to_string()
            } else {
                format!("{}-{}", DAYS[i], DAYS[j])
            };
            let list: Vec<&str> = ranges.iter().map(|r| r.0.as_str()).collect();
            lines.push(format!("{span} {}", list.join(", ")));
        }
        i = j + 1;
    }
    lines.join("\n")
}

pub(crate) fn closures_text(closures: &[Closure]) -> String {
    closures
        .iter()
        .map(|c| format!("{} {}", c.date, c.name).trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

fn day_index(name: &str) -> Option<usize> {
    DAYS.iter().position(|d| name.eq_ignore_ascii_case(d))
}

/// The days a line names: `mon`, `mon-fri`, `sat,sun` (a span may wrap:
/// `fri-mon`).
fn days_of(spec: &str) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    for part in spec.split(',').filter(|p| !p.is_empty()) {
        let bad = || {
            format!("{part:?} is not a day: use mon … sun, a span such as mon-fri, or a list such as sat,sun")
        };
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (day_index(a).ok_or_else(bad)?, day_index(b).ok_or_else(bad)?);
                let mut d = a;
                loop {
                    out.push(d);
                    if d == b {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => out.push(day_index(part).ok_or_else(bad)?),
        }
    }
    Ok(out)
}

/// Reads the week field; the error names the line and what to write.
pub(crate) fn parse_week(text: &str) -> Result<Week, String> {
    let mut days: [Vec<OpeningRange>; 7] = Default::default();
    for (n, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
        if line.is_empty() {
            continue;
        }
        let (spec, rest) = line.split_once(char::is_whitespace).ok_or_else(|| {
            format!("line {n}: give the days, then the hours, e.g. mon-fri 09:00-17:00")
        })?;
        let which = days_of(spec).map_err(|e| format!("line {n}: {e}"))?;
        let ranges: Vec<OpeningRange> = rest
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|r| !r.is_empty())
            .map(|r| OpeningRange(r.to_string()))
            .collect();
        if let Some(bad) = ranges.iter().find(|r| r.minutes().is_none()) {
            return Err(format!(
                "line {n}: {:?} is not a range; write HH:MM-HH:MM, 24-hour, e.g. 09:00-17:30",
                bad.0
            ));
        }
        for d in which {
            if !days[d].is_empty() {
                return Err(format!(
                    "line {n}: {} is on an earlier line too; give each day once",
                    DAYS[d]
                ));
            }
            days[d] = ranges.clone();
        }
    }
    let [mon, tue, wed, thu, fri, sat, sun] = days;
    Ok(Week {
        mon,
        tue,
        wed,
        thu,
        fri,
        sat,
        sun,
    })
}

/// Reads the closures field: `YYYY-MM-DD` and an optional name per line.
pub(crate) fn parse_closures(text: &str) -> Result<Vec<Closure>, String> {
    let mut out: Vec<Closure> = Vec::new();
    for (n, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
        if line.is_empty() {
            continue;
        }
        let (date, name) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| {
            format!("line {n}: {date:?} is not a date; write YYYY-MM-DD, then a name if you like")
        })?;
        if !out.iter().any(|c| c.date == date) {
            out.push(Closure {
                date,
                name: name.trim().to_string(),
            });
        }
    }
    out.sort_by_key(|c| c.date);
    Ok(out)
}

/// The three fields read together: `Ok(None)` when all are empty (the SLA
/// counts wall-clock hours), else the hours, or the field to mark and why.
pub(crate) fn read(
    time_zone: &str,
    week: &str,
    closures: &str,
) -> Result<Option<BusinessHours>, (&'static str, String)> {
    let (time_zone, week_text, closures_text) = (time_zone.trim(), week.trim(), closures.trim());
    if time_zone.is_empty() && week_text.is_empty() && closures_text.is_empty() {
        return Ok(None);
    }
    let week = parse_week(week_text).map_err(|e| (WEEK_FIELD, e))?;
    let closures = parse_closures(closures_text).map_err(|e| (CLOSURES_FIELD, e))?;
    if time_zone.is_empty() {
        return Err((
            TZ_FIELD,
            "give the time zone the hours are in, e.g. Europe/Lisbon (or empty every \
             business-hours field to count wall-clock hours)"
                .into(),
        ));
    }
    let hours = BusinessHours {
        time_zone: time_zone.to_string(),
        week,
        closures,
    };
    let mut errors = Vec::new();
    hours.validate("", &mut errors);
    if let Some(e) = errors.into_iter().next() {
        let field = if e.field.starts_with(".time_zone") {
            TZ_FIELD
        } else if e.field.starts_with(".closures") {
            CLOSURES_FIELD
        } else {
            WEEK_FIELD
        };
        let message = if field == WEEK_FIELD && week_text.is_empty() {
            "give the opening hours, one line per day or span, e.g. mon-fri 09:00-17:00".into()
        } else {
            e.message
        };
        return Err((field, message));
    }
    Ok(Some(hours))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_week_reads_back_as_written() {
        let text = "mon-fri 09:00-12:30, 14:00-18:00\nsat 10:00-14:00";
        let week = parse_week(text).unwrap();
        assert_eq!(week.wed.len(), 2);
        assert_eq!(week.sat, vec![OpeningRange("10:00-14:00".into())]);
        assert!(week.sun.is_empty());
        assert_eq!(week_text(&week), text);
    }

    #[test]
    fn spans_lists_and_wrapping_spans() {
        let week = parse_week("sat,sun 10:00-12:00\nfri-fri 22:00-02:00").unwrap();
        assert_eq!(week_text(&week), "fri 22:00-02:00\nsat-sun 10:00-12:00");
        let week = parse_week("FRI-MON 08:00-09:00").unwrap();
        assert!(week.tue.is_empty() && !week.mon.is_empty() && !week.sat.is_empty());
    }

    #[test]
    fn mistakes_name_the_line_and_the_fix() {
        let e = parse_week("mon-fri 09:00-17:00\nmonday 9-5").unwrap_err();
        assert!(e.starts_with("line 2: \"monday\" is not a day"), "{e}");
        let e = parse_week("mon 9-5").unwrap_err();
        assert!(e.contains("\"9-5\" is not a range"), "{e}");
        let e = parse_week("mon-wed 09:00-17:00\ntue 10:00-11:00").unwrap_err();
        assert!(e.contains("tue is on an earlier line too"), "{e}");
        let e = parse_week("mon").unwrap_err();
        assert!(e.contains("give the days, then the hours"), "{e}");
        let e = parse_closures("25/12/2026").unwrap_err();
        assert!(e.contains("write YYYY-MM-DD"), "{e}");
    }

    #[test]
    fn closures_sorted_once_each_with_names() {
        let c = parse_closures("2026-12-25 Christmas\n2026-01-01\n2026-12-25 again").unwrap();
        assert_eq!(closures_text(&c), "2026-01-01\n2026-12-25 Christmas");
    }

    #[test]
    fn the_three_fields_together() {
        assert_eq!(read(" ", "", ""), Ok(None));
        let (field, e) = read("", "mon 09:00-17:00", "").unwrap_err();
        assert_eq!(field, TZ_FIELD);
        assert!(e.contains("give the time zone"), "{e}");
        let (field, e) = read("Mars/Olympus", "mon 09:00-17:00", "").unwrap_err();
        assert_eq!(field, TZ_FIELD);
        assert!(e.contains("not an IANA time zone"), "{e}");
        let (field, e) = read("Europe/Lisbon", "", "").unwrap_err();
        assert_eq!(field, WEEK_FIELD);
        assert!(e.contains("e.g. mon-fri 09:00-17:00"), "{e}");
        let hours = read(
            "Europe/Lisbon",
            "mon-fri 09:00-17:00",
            "2026-12-25 Christmas",
        )
        .unwrap()
        .unwrap();
        assert_eq!(hours.time_zone, "Europe/Lisbon");
        assert_eq!(hours.closures.len(), 1);
        assert!(hours.schedule().is_some());
    }
}
