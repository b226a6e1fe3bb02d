use chrono::{NaiveDateTime, NaiveTime};
use proptest::prelude::*;

use super::*;

fn hours(tz: &str, week: &[(&str, &[&str])], closures: &[&str]) -> BusinessHours {
    let mut w = Week::default();
    for (day, ranges) in week {
        let ranges: Vec<OpeningRange> =
            ranges.iter().map(|r| OpeningRange(r.to_string())).collect();
        match *day {
            "mon" => w.mon = ranges,
            "tue" => w.tue = ranges,
            "wed" => w.wed = ranges,
            "thu" => w.thu = ranges,
            "fri" => w.fri = ranges,
            "sat" => w.sat = ranges,
            _ => w.sun = ranges,
        }
    }
    BusinessHours {
        time_zone: tz.into(),
        week: w,
        closures: closures
            .iter()
            .filter_map(|d| d.parse().ok())
            .map(|date| Closure {
                date,
                name: String::new(),
            })
            .collect(),
    }
}

const WEEKDAYS_9_TO_5: [(&str, &[&str]); 5] = [
    ("mon", &["09:00-17:00"]),
    ("tue", &["09:00-17:00"]),
    ("wed", &["09:00-17:00"]),
    ("thu", &["09:00-17:00"]),
    ("fri", &["09:00-17:00"]),
];

fn utc(s: &str) -> DateTime<Utc> {
    match s.parse::<DateTime<Utc>>() {
        Ok(t) => t,
        Err(e) => panic!("{s}: {e}"),
    }
}

fn schedule(h: &BusinessHours) -> Schedule {
    match h.schedule() {
        Some(s) => s,
        None => panic!("{h:?} has no schedule"),
    }
}

#[test]
fn a_lead_of_friday_evening_is_due_on_monday_morning() {
    // Lisbon is UTC+0 in winter.
    let s = schedule(&hours("Europe/Lisbon", &WEEKDAYS_9_TO_5, &[]));
    let friday_evening = utc("2026-01-09T18:00:00Z");
    assert!(!s.is_open(friday_evening));
    assert_eq!(
        s.add(friday_evening, Duration::hours(1)),
        Some(utc("2026-01-12T10:00:00Z"))
    );
    assert_eq!(
        s.opens_at(friday_evening),
        Some(utc("2026-01-12T09:00:00Z"))
    );
    // 8 hours on Friday, none at the weekend, 1 on Monday.
    assert_eq!(
        s.between(utc("2026-01-09T09:00:00Z"), utc("2026-01-12T10:00:00Z")),
        Duration::hours(9)
    );
}

#[test]
fn a_closure_skips_the_whole_day_including_a_range_past_midnight() {
    let h = hours(
        "America/New_York",
        &[("thu", &["22:00-02:00"]), ("fri", &["22:00-02:00"])],
        &["2026-01-08"],
    );
    let s = schedule(&h);
    // Thursday 8 Jan is closed: its 22:00-02:00 is skipped, Friday's is not.
    let thursday_night = utc("2026-01-09T04:00:00Z"); // 23:00 local
    assert!(!s.is_open(thursday_night));
    assert_eq!(
        s.add(thursday_night, Duration::hours(3)),
        // Friday 22:00 local (03:00Z Saturday) + 3 h = 01:00 local Saturday.
        Some(utc("2026-01-10T06:00:00Z"))
    );
}

#[test]
fn daylight_saving_follows_the_wall_clock() {
    // Clocks go back in New York on 1 Nov 2026 at 02:00 (to 01:00): the
    // hour 01:00-02:00 happens twice, and a range 00:30-01:30 is open
    // 30 minutes, then 30 more, then 30 more after the change.
    let s = schedule(&hours(
        "America/New_York",
        &[("sun", &["00:30-01:30"])],
        &[],
    ));
    let open = s.between(utc("2026-11-01T00:00:00Z"), utc("2026-11-02T00:00:00Z"));
    assert_eq!(open, Duration::minutes(90));
    // Clocks go forward in Lisbon on 29 Mar 2026 at 01:00 (to 02:00): a
    // range 00:30-02:30 is open 00:30-01:00 and 02:00-02:30 local, one hour.
    let s = schedule(&hours("Europe/Lisbon", &[("sun", &["00:30-02:30"])], &[]));
    let open = s.between(utc("2026-03-28T12:00:00Z"), utc("2026-03-29T12:00:00Z"));
    assert_eq!(open, Duration::minutes(60));
}

#[test]
fn whole_day_spellings_and_a_range_equal_at_both_ends() {
    for r in ["00:00-24:00", "00:00-00:00"] {
        let s = schedule(&hours("UTC", &[("mon", &[r])], &[]));
        let monday = utc("2026-01-05T00:00:00Z");
        assert_eq!(
            s.between(monday, monday + Duration::days(7)),
            Duration::hours(24),
            "{r}"
        );
    }
    let s = schedule(&hours("UTC", &[("mon", &["09:00-09:00"])], &[]));
    assert_eq!(
        s.add(utc("2026-01-05T09:00:00Z"), Duration::hours(24)),
        Some(utc("2026-01-06T09:00:00Z"))
    );
}

#[test]
fn validation_names_each_wrong_field() {
    let mut h = hours(
        "Europe/Lisboa",
        &[("mon", &["9:00-17:00", "09:00-25:00"])],
        &[],
    );
    h.closures.push(Closure {
        date: NaiveDate::from_ymd_opt(2026, 12, 25).unwrap_or_default(),
        name: "x".repeat(81),
    });
    let mut errors = Vec::new();
    h.validate("business_hours", &mut errors);
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "business_hours.time_zone",
            "business_hours.week.mon[0]",
            "business_hours.week.mon[1]",
            "business_hours.closures[0].name"
        ]
    );
    let mut errors = Vec::new();
    hours("UTC", &[], &[]).validate("business_hours", &mut errors);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "business_hours.week");
}

#[test]
fn every_range_the_pattern_allows_is_read_and_no_other() {
    let re = |s: &str| {
        let (a, b) = s.split_once('-').unwrap_or(("", ""));
        let ok = |p: &str, end: bool| {
            p.len() == 5
                && &p[2..3] == ":"
                && p[..2]
                    .parse::<u32>()
                    .is_ok_and(|h| h < 24 || (end && p == "24:00"))
                && p[3..].parse::<u32>().is_ok_and(|m| m < 60)
                && p.bytes()
                    .enumerate()
                    .all(|(i, c)| i == 2 || c.is_ascii_digit())
        };
        ok(a, false) && ok(b, true)
    };
    for s in [
        "09:00-17:00",
        "00:00-24:00",
        "23:59-00:00",
        "24:00-01:00",
        "9:00-17:00",
        "09:60-10:00",
        "09:00-24:01",
        "+9:00-10:00",
        "09:00-1000",
    ] {
        assert_eq!(OpeningRange(s.into()).minutes().is_some(), re(s), "{s}");
    }
}

// The reference: minute by minute, reading the wall clock of each minute
// against the ranges spelled out as local date-times.

fn reference_open(h: &BusinessHours, t: DateTime<Utc>) -> bool {
    let tz: Tz = h.time_zone.parse().unwrap_or(Tz::UTC);
    let local = t.with_timezone(&tz).naive_local();
    let closed: BTreeSet<NaiveDate> = h.closures.iter().map(|c| c.date).collect();
    [local.date(), local.date() - Duration::days(1)]
        .into_iter()
        .any(|day| {
            if closed.contains(&day) {
                return false;
            }
            let ranges = h.week.days()[day.weekday().num_days_from_monday() as usize].1;
            ranges.iter().any(|r| {
                let (a, b) = r.0.split_once('-').unwrap_or(("", ""));
                let at = |p: &str| NaiveTime::parse_from_str(p, "%H:%M").ok();
                let start = NaiveDateTime::new(day, at(a).unwrap_or_default());
                let end = if b == "24:00" {
                    NaiveDateTime::new(day + Duration::days(1), NaiveTime::MIN)
                } else {
                    let e = NaiveDateTime::new(day, at(b).unwrap_or_default());
                    if e <= start {
                        e + Duration::days(1)
                    } else {
                        e
                    }
                };
                start <= local && local < end
            })
        })
}

fn arb_range() -> impl Strategy<Value = String> {
    (
        0u32..24,
        prop::sample::select(vec![0u32, 15, 30, 45]),
        0u32..=24,
        prop::sample::select(vec![0u32, 30]),
    )
        .prop_map(|(h1, m1, h2, m2)| {
            let m2 = if h2 == 24 { 0 } else { m2 };
            format!("{h1:02}:{m1:02}-{h2:02}:{m2:02}")
        })
}

fn arb_hours() -> impl Strategy<Value = BusinessHours> {
    let tz = prop::sample::select(vec![
        "Europe/Lisbon",
        "America/New_York",
        "UTC",
        "Asia/Kolkata",
    ]);
    let day = prop::collection::vec(arb_range(), 0..3);
    let closures = prop::collection::vec(0i64..12, 0..3);
    (tz, prop::collection::vec(day, 7), closures).prop_filter_map(
        "open some day",
        |(tz, days, closures)| {
            let mut h = hours(tz, &[], &[]);
            let ranges = |v: &Vec<String>| {
                v.iter()
                    .map(|r| OpeningRange(r.clone()))
                    .collect::<Vec<_>>()
            };
            h.week = Week {
                mon: ranges(&days[0]),
                tue: ranges(&days[1]),
                wed: ranges(&days[2]),
                thu: ranges(&days[3]),
                fri: ranges(&days[4]),
                sat: ranges(&days[5]),
                sun: ranges(&days[6]),
            };
            let base = NaiveDate::from_ymd_opt(2026, 3, 24)?;
            h.closures = closures
                .into_iter()
                .map(|d| Closure {
                    date: base + Duration::days(d),
                    name: String::new(),
                })
                .collect();
            h.schedule().is_some().then_some(h)
        },
    )
}

/// Starts around the 2026 transitions: US 8 Mar and 1 Nov, EU 29 Mar and 25 Oct.
fn arb_start() -> impl Strategy<Value = DateTime<Utc>> {
    let anchors = [
        "2026-03-06T00:00:00Z",
        "2026-03-27T00:00:00Z",
        "2026-10-23T00:00:00Z",
        "2026-10-30T00:00:00Z",
    ];
    (prop::sample::select(anchors.to_vec()), 0i64..(4 * 24 * 60))
        .prop_map(|(a, m)| utc(a) + Duration::minutes(m))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn adding_business_time_matches_counting_open_minutes(
        h in arb_hours(),
        start in arb_start(),
        minutes in 0i64..(30 * 60),
    ) {
        let s = schedule(&h);
        let mut t = start;
        let mut left = minutes;
        let mut steps = 0;
        while left > 0 && steps < 60 * 24 * 40 {
            if reference_open(&h, t) {
                left -= 1;
            }
            t += Duration::minutes(1);
            steps += 1;
        }
        // The reference's due instant is the end of the last open minute.
        prop_assume!(left == 0);
        prop_assert_eq!(s.add(start, Duration::minutes(minutes)), Some(t));
    }

    #[test]
    fn open_time_between_matches_counting_open_minutes(
        h in arb_hours(),
        start in arb_start(),
        span in 0i64..(3 * 24 * 60),
    ) {
        let s = schedule(&h);
        let open = (0..span).filter(|m| reference_open(&h, start + Duration::minutes(*m))).count();
        prop_assert_eq!(s.between(start, start + Duration::minutes(span)), Duration::minutes(open as i64));
        for m in (0..span).step_by(97) {
            let t = start + Duration::minutes(m);
            prop_assert_eq!(s.is_open(t), reference_open(&h, t), "at {}", t);
        }
    }
}
