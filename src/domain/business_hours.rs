//! A tenant's opening hours: the clock its SLA runs on.
//!
//! Business time passes only while the tenant is open: the local wall clock
//! of its time zone is inside one of the weekday's opening ranges, on a day
//! that is not a closure. A range whose end is not after its start runs past
//! midnight (Friday `22:00-02:00` ends on Saturday at 02:00) and belongs to
//! the day it starts on: a closure on Friday closes all of it. `00:00-24:00`
//! and `00:00-00:00` are both the whole day.
//!
//! Daylight saving follows the wall clock: on the night clocks go forward the
//! skipped hour never happens, and on the night they go back a repeated hour
//! inside a range is open both times. That is what a person reading the
//! opening hours on the door would count.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::problem::FieldError;
use super::validate;

/// The most opening ranges one weekday may have.
pub const MAX_RANGES_PER_DAY: usize = 6;
/// The most dated closures a tenant may list.
pub const MAX_CLOSURES: usize = 400;
/// How far ahead the clock looks for opening time before it gives up (a
/// schedule closed for longer than this has no business time at all).
const HORIZON_DAYS: i64 = 800;

const DAY_SECS: u32 = 86_400;

/// `HH:MM-HH:MM`, 24-hour; the end may be `24:00`.
pub const RANGE_PATTERN: &str =
    "^([01][0-9]|2[0-3]):[0-5][0-9]-(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$";

/// Opening hours as the API and the settings form carry them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BusinessHours {
    /// An IANA time zone name, e.g. `Europe/Lisbon` or `America/New_York`.
    #[schema(min_length = 1, max_length = 64, example = "Europe/Lisbon")]
    pub time_zone: String,
    /// Opening ranges per weekday; a day left out (or empty) is closed.
    #[serde(default, deserialize_with = "validate::object")]
    pub week: Week,
    /// Dates (in the tenant's time zone) the business is closed.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "validate::objects"
    )]
    #[schema(max_items = 400)]
    pub closures: Vec<Closure>,
}

/// Opening ranges of each weekday, `HH:MM-HH:MM` (24-hour).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Week {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 6, example = json!(["09:00-17:00"]))]
    pub mon: Vec<OpeningRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 6)]
    pub tue: Vec<OpeningRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 6)]
    pub wed: Vec<OpeningRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 6)]
    pub thu: Vec<OpeningRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 6)]
    pub fri: Vec<OpeningRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 6)]
    pub sat: Vec<OpeningRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 6)]
    pub sun: Vec<OpeningRange>,
}

impl Week {
    /// Monday first, with each day's name.
    pub fn days(&self) -> [(&'static str, &Vec<OpeningRange>); 7] {
        [
            ("mon", &self.mon),
            ("tue", &self.tue),
            ("wed", &self.wed),
            ("thu", &self.thu),
            ("fri", &self.fri),
            ("sat", &self.sat),
            ("sun", &self.sun),
        ]
    }
}

/// One opening range, `HH:MM-HH:MM`, kept as sent and read by
/// [`OpeningRange::minutes`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OpeningRange(pub String);

// By hand: utoipa takes no pattern on a newtype's own schema.
impl utoipa::PartialSchema for OpeningRange {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(RANGE_PATTERN))
            .into()
    }
}

impl ToSchema for OpeningRange {}

impl OpeningRange {
    /// Start and end in minutes after the day's midnight; an end not after
    /// the start is moved to the next day (so `end > start` always).
    pub fn minutes(&self) -> Option<(u32, u32)> {
        let (a, b) = self.0.split_once('-')?;
        let start = hhmm(a).filter(|m| *m < 24 * 60)?;
        let end = hhmm(b).filter(|m| *m <= 24 * 60)?;
        Some(if end > start {
            (start, end)
        } else {
            (start, end + 24 * 60)
        })
    }
}

fn hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    let digits = |p: &str| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || !digits(m) {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

/// A day the business is closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Closure {
    pub date: NaiveDate,
    /// What it is, e.g. "Christmas".
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schema(max_length = 80)]
    pub name: String,
}

impl BusinessHours {
    /// Every problem, with the field it is in (under `prefix`).
    pub fn validate(&self, prefix: &str, errors: &mut Vec<FieldError>) {
        if self.time_zone.parse::<Tz>().is_err() {
            errors.push(FieldError::new(
                format!("{prefix}.time_zone"),
                format!(
                    "{:?} is not an IANA time zone; use a name such as Europe/Lisbon or America/New_York",
                    self.time_zone
                ),
            ));
        }
        let mut open = false;
        for (day, ranges) in self.week.days() {
            if ranges.len() > MAX_RANGES_PER_DAY {
                errors.push(FieldError::new(
                    format!("{prefix}.week.{day}"),
                    format!("at most {MAX_RANGES_PER_DAY} opening ranges a day"),
                ));
            }
            for (i, r) in ranges.iter().enumerate() {
                if r.minutes().is_none() {
                    errors.push(FieldError::new(
                        format!("{prefix}.week.{day}[{i}]"),
                        format!(
                            "{:?} is not a range; write HH:MM-HH:MM, 24-hour, e.g. 09:00-17:30",
                            r.0
                        ),
                    ));
                }
            }
            open |= !ranges.is_empty();
        }
        if !open {
            errors.push(FieldError::new(
                format!("{prefix}.week"),
                "is closed every day; give at least one opening range, or remove business hours to count wall-clock hours",
            ));
        }
        if self.closures.len() > MAX_CLOSURES {
            errors.push(FieldError::new(
                format!("{prefix}.closures"),
                format!("at most {MAX_CLOSURES} closures"),
            ));
        }
        for (i, c) in self.closures.iter().enumerate() {
            if c.name.chars().count() > 80 {
                errors.push(FieldError::new(
                    format!("{prefix}.closures[{i}].name"),
                    "must be at most 80 characters",
                ));
            }
        }
    }

    /// The schedule to compute with, or `None` when the hours are invalid
    /// (validation says why).
    pub fn schedule(&self) -> Option<Schedule> {
        let tz: Tz = self.time_zone.parse().ok()?;
        let mut week: [Vec<(u32, u32)>; 7] = Default::default();
        for (slot, (_, ranges)) in week.iter_mut().zip(self.week.days()) {
            for r in ranges {
                let (start, end) = r.minutes()?;
                slot.push((start * 60, end * 60));
            }
        }
        if week.iter().all(Vec::is_empty) {
            return None;
        }
        let closures = self.closures.iter().map(|c| c.date).collect();
        Some(Schedule { tz, week, closures })
    }
}

/// Opening hours ready to compute with: ranges in seconds after the local
/// midnight of the day they start on (an end past 86,400 runs into the next
/// day).
#[derive(Debug, Clone)]
pub struct Schedule {
    tz: Tz,
    week: [Vec<(u32, u32)>; 7],
    closures: BTreeSet<NaiveDate>,
}

impl Schedule {
    fn ranges(&self, day: NaiveDate) -> &[(u32, u32)] {
        if self.closures.contains(&day) {
            return &[];
        }
        &self.week[day.weekday().num_days_from_monday() as usize]
    }

    fn offset_secs(&self, t: DateTime<Utc>) -> i32 {
        self.tz
            .offset_from_utc_datetime(&t.naive_utc())
            .fix()
            .local_minus_utc()
    }

    /// Whether the business is open at `t`.
    pub fn is_open(&self, t: DateTime<Utc>) -> bool {
        let local = t.with_timezone(&self.tz).naive_local();
        let (day, s) = (local.date(), local.num_seconds_from_midnight());
        let today = self.ranges(day).iter().any(|&(a, b)| a <= s && s < b);
        let spill = day.pred_opt().is_some_and(|prev| {
            self.ranges(prev)
                .iter()
                .any(|&(_, b)| b > DAY_SECS && s + DAY_SECS < b)
        });
        today || spill
    }

    /// The first instant after `t` at which [`is_open`](Self::is_open) may
    /// change: a range boundary, the local midnight, or a change of the
    /// zone's offset (daylight saving), whichever comes first.
    fn next_change(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        let offset = self.offset_secs(t);
        let local = t.naive_utc() + Duration::seconds(i64::from(offset));
        let (day, s) = (local.date(), local.num_seconds_from_midnight());
        let yesterday = day.pred_opt().map(|p| self.ranges(p)).unwrap_or(&[]);
        let boundary = self
            .ranges(day)
            .iter()
            .flat_map(|&(a, b)| [a, b])
            .chain(
                yesterday
                    .iter()
                    .filter(|&&(_, b)| b > DAY_SECS)
                    .map(|&(_, b)| b - DAY_SECS),
            )
            .filter(|&b| b > s && b <= DAY_SECS)
            .min()
            .unwrap_or(DAY_SECS);
        // Sub-second parts of `t` are kept: the step is whole seconds.
        let candidate = t + Duration::seconds(i64::from(boundary - s));
        if self.offset_secs(candidate) == offset {
            // No transition in between: they are months apart, and this
            // step is at most a day.
            return candidate;
        }
        // The offset changes in (t, candidate]: find the first second of
        // the new offset. Zones change offset on whole seconds, so `t`'s
        // whole second still has the old one.
        let (mut lo, mut hi) = (t.timestamp(), candidate.timestamp() + 1);
        let at = |s: i64| DateTime::<Utc>::from_timestamp(s, 0).unwrap_or(candidate);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.offset_secs(at(mid)) == offset {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        at(hi)
    }

    /// Walks open and closed stretches from `from`: calls `step(start, end,
    /// open)` for each until it returns `Some`, or the horizon passes.
    fn walk<T>(
        &self,
        from: DateTime<Utc>,
        mut step: impl FnMut(DateTime<Utc>, DateTime<Utc>, bool) -> Option<T>,
    ) -> Option<T> {
        let horizon = from + Duration::days(HORIZON_DAYS);
        let mut t = from;
        while t < horizon {
            let end = self.next_change(t);
            if let Some(found) = step(t, end, self.is_open(t)) {
                return Some(found);
            }
            t = end;
        }
        None
    }

    /// The instant at which `business` of open time has passed since `from`
    /// (`from` itself when `business` is zero). `None` when the schedule has
    /// no such time within the horizon (closed for two years).
    pub fn add(&self, from: DateTime<Utc>, business: Duration) -> Option<DateTime<Utc>> {
        if business <= Duration::zero() {
            return Some(from);
        }
        let mut left = business;
        self.walk(from, |start, end, open| {
            if !open {
                return None;
            }
            let here = end - start;
            if left <= here {
                return Some(start + left);
            }
            left -= here;
            None
        })
    }

    /// Open time between `from` and `to` (zero when `to` is not after `from`).
    pub fn between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
        let mut total = Duration::zero();
        if to <= from {
            return total;
        }
        self.walk(from, |start, end, open| {
            let end = end.min(to);
            if open {
                total += end - start;
            }
            (end >= to).then_some(())
        });
        total
    }

    /// When the business next opens, if it is closed at `t` (`None` while
    /// open, or when nothing opens within the horizon).
    pub fn opens_at(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.is_open(t) {
            return None;
        }
        self.walk(t, |start, _, open| open.then_some(start))
    }

    /// `t` in the schedule's time zone, for messages ("paused until Mon 09:00").
    pub fn local(&self, t: DateTime<Utc>) -> DateTime<Tz> {
        t.with_timezone(&self.tz)
    }
}

#[cfg(test)]
#[path = "business_hours_tests.rs"]
mod tests;
