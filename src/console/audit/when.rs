//! The audit filter's time bounds as an operator types them: a day, a day
//! and a time (UTC, as the log shows them), RFC 3339, or "that long ago".

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};

/// Said under a field whose text is not a time (one short line)…
pub const NOT_A_TIME: &str = "not a time: see the formats below";
/// …and in the form's summary.
pub const FORMATS: &str = "Times: 2026-11-01 14:00 (UTC), 2026-11-01 (a day), RFC 3339, \
     or that long ago: 30m, 24h, 7d.";

/// A parsed bound, kept unresolved so a relative one ("24h") is measured
/// from the moment the log is asked again, not from when it was typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// This long before now.
    Ago(Duration),
    /// A whole day: from its start, or as an upper bound through its end.
    Day(NaiveDate),
    At(DateTime<Utc>),
}

impl When {
    /// Reads what was typed; `Ok(None)` for an empty field.
    pub fn parse(text: &str) -> Result<Option<When>, &'static str> {
        let s = text.trim();
        if s.is_empty() {
            return Ok(None);
        }
        if let Some(d) = ago(s) {
            return Ok(Some(When::Ago(d)));
        }
        if let Ok(day) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Ok(Some(When::Day(day)));
        }
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Ok(Some(When::At(t.with_timezone(&Utc))));
        }
        for f in [
            "%Y-%m-%d %H:%M",
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%dT%H:%M:%S",
        ] {
            if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
                return Ok(Some(When::At(t.and_utc())));
            }
        }
        Err(NOT_A_TIME)
    }

    /// The instant this bound stands for at `now`. A day as the upper
    /// bound (`to`, exclusive) means through the end of that day.
    pub fn resolve(self, now: DateTime<Utc>, upper: bool) -> DateTime<Utc> {
        match self {
            When::Ago(d) => now - d,
            When::Day(day) => {
                let day = if upper {
                    day.succ_opt().unwrap_or(day)
                } else {
                    day
                };
                day.and_time(NaiveTime::MIN).and_utc()
            }
            When::At(t) => t,
        }
    }
}

/// "30m", "24h", "7d", "2w": a whole number and a unit.
fn ago(s: &str) -> Option<Duration> {
    let unit = s.chars().last()?;
    let n: i64 = s[..s.len() - unit.len_utf8()].trim().parse().ok()?;
    if n < 0 {
        return None;
    }
    match unit.to_ascii_lowercase() {
        'm' => Duration::try_minutes(n),
        'h' => Duration::try_hours(n),
        'd' => Duration::try_days(n),
        'w' => Duration::try_weeks(n),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 5, 12, 0, 0).unwrap()
    }

    fn at(text: &str, upper: bool) -> DateTime<Utc> {
        When::parse(text).unwrap().unwrap().resolve(now(), upper)
    }

    #[test]
    fn reads_what_operators_type() {
        let t = |d, h, m| Utc.with_ymd_and_hms(2026, 11, d, h, m, 0).unwrap();
        assert_eq!(at("2026-11-01", false), t(1, 0, 0));
        assert_eq!(at("2026-11-01", true), t(2, 0, 0), "through the day");
        assert_eq!(at("2026-11-01 14:00", false), t(1, 14, 0));
        assert_eq!(at("2026-11-01T14:30", true), t(1, 14, 30));
        assert_eq!(at("2026-11-01T14:00:00+02:00", false), t(1, 12, 0));
        assert_eq!(at("24h", false), t(4, 12, 0));
        assert_eq!(
            at("7d", false),
            Utc.with_ymd_and_hms(2026, 10, 29, 12, 0, 0).unwrap()
        );
        assert_eq!(at(" 30m ", false), t(5, 11, 30));
        assert_eq!(When::parse("  ").unwrap(), None);
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in ["yesterday", "2026-13-01", "24x", "-3d", "h", "11/01/2026"] {
            assert_eq!(When::parse(bad), Err(NOT_A_TIME), "{bad}");
        }
        assert!(FORMATS.contains("2026-11-01 14:00") && FORMATS.contains("24h"));
    }
}
