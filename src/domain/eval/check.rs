//! Judging a reply against a case's expectations, a run's summary per
//! lane, and which cases two lanes disagree on: each rule once, for the
//! server that stores runs and the clients that show them.

use std::collections::BTreeMap;

use uuid::Uuid;

use super::{
    CheckKind, ComparedCase, ComparedLane, EvalCheck, EvalComparison, EvalExpectations, EvalLane,
    EvalLaneSummary, EvalResult, EvalRun,
};
use crate::domain::text::one_line;

/// What one lane made of a case, for [`check`].
#[derive(Debug, Clone, Copy)]
pub struct CaseOutcome<'a> {
    /// The category qualification gave (`None`: its answer was unreadable).
    pub category: Option<&'a str>,
    pub reply: &'a str,
    /// False when the draft policy gave the category no reply.
    pub drafted: bool,
}

/// Lower case, whitespace runs as one space: phrases match however the
/// reply is wrapped or capitalised.
fn normalized(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Each expectation of `expect`, judged against `outcome`, in the order
/// category, must contain, must not contain, length.
pub fn check(expect: &EvalExpectations, outcome: &CaseOutcome) -> Vec<EvalCheck> {
    let mut checks = Vec::new();
    if let Some(want) = expect.category {
        let (passed, detail) = match outcome.category {
            Some(got) if got == want.as_str() => (true, format!("qualified {got}")),
            Some(got) => (false, format!("qualified {got}, not {}", want.as_str())),
            None => (false, "the qualification could not be read".to_string()),
        };
        checks.push(EvalCheck {
            kind: CheckKind::Category,
            expected: want.as_str().to_string(),
            passed,
            detail,
        });
    }
    let reply = normalized(outcome.reply);
    let no_reply = (!outcome.drafted).then(|| {
        format!(
            "no reply: the draft policy drafts none for {} leads",
            outcome.category.unwrap_or("unqualified")
        )
    });
    for phrase in &expect.must_contain {
        let found = outcome.drafted && reply.contains(&normalized(&phrase.0));
        checks.push(EvalCheck {
            kind: CheckKind::Contains,
            expected: phrase.0.clone(),
            passed: found,
            detail: match (&no_reply, found) {
                (Some(why), _) => why.clone(),
                (None, true) => "found in the reply".into(),
                (None, false) => "missing from the reply".into(),
            },
        });
    }
    for phrase in &expect.must_not_contain {
        let found = outcome.drafted && reply.contains(&normalized(&phrase.0));
        checks.push(EvalCheck {
            kind: CheckKind::NotContains,
            expected: phrase.0.clone(),
            passed: !found,
            detail: match (&no_reply, found) {
                (Some(why), _) => why.clone(),
                (None, true) => "found in the reply".into(),
                (None, false) => "not in the reply".into(),
            },
        });
    }
    if let Some(max) = expect.max_chars {
        let chars = outcome.reply.trim().chars().count();
        checks.push(EvalCheck {
            kind: CheckKind::MaxChars,
            expected: max.to_string(),
            passed: chars <= max as usize,
            detail: match &no_reply {
                Some(why) => why.clone(),
                None => format!("the reply is {chars} characters"),
            },
        });
    }
    checks
}

/// What a store counted of one lane's stored results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LaneCounts {
    pub lane: u8,
    /// Results stored.
    pub done: u32,
    pub passed: u32,
    /// Results whose case could not run.
    pub errors: u32,
}

/// Each lane's summary of a run over `cases` cases.
pub fn summarize(lanes: &[EvalLane], cases: u32, counts: &[LaneCounts]) -> Vec<EvalLaneSummary> {
    lanes
        .iter()
        .enumerate()
        .map(|(i, lane)| {
            let c = counts
                .iter()
                .find(|c| usize::from(c.lane) == i)
                .copied()
                .unwrap_or_default();
            let ran = c.done.min(cases);
            EvalLaneSummary {
                version: lane.version,
                cases,
                passed: c.passed,
                failed: ran.saturating_sub(c.passed + c.errors),
                errors: c.errors,
                pending: cases - ran,
                pass_rate: if cases == 0 {
                    0.0
                } else {
                    f64::from(c.passed) / f64::from(cases)
                },
            }
        })
        .collect()
}

/// Each case's pass/fail in one lane, by case id, with its position and message.
fn lane_outcomes(results: &[EvalResult], lane: u8) -> BTreeMap<Uuid, (u32, &str, bool)> {
    results
        .iter()
        .filter(|r| r.lane == lane)
        .map(|r| {
            let case = (r.case.position, r.case.message.as_str(), r.passed);
            (r.case_id, case)
        })
        .collect()
}

/// The cases passed in lane 0 and not in lane 1, or the other way round,
/// by position; both lanes must have run them.
pub fn differing(results: &[EvalResult]) -> Vec<Uuid> {
    let left = lane_outcomes(results, 0);
    let right = lane_outcomes(results, 1);
    let mut out: Vec<(u32, Uuid)> = left
        .iter()
        .filter_map(|(id, (pos, _, passed))| {
            let (_, _, other) = right.get(id)?;
            (passed != other).then_some((*pos, *id))
        })
        .collect();
    out.sort();
    out.into_iter().map(|(_, id)| id).collect()
}

/// Two runs' first lanes side by side, matched by case: the left run's
/// cases in order, then those only the right one ran.
pub fn compare(
    (left_run, left): (&EvalRun, &[EvalResult]),
    (right_run, right): (&EvalRun, &[EvalResult]),
) -> EvalComparison {
    let side = |run: &EvalRun| ComparedLane {
        run_id: run.id,
        version: run.lanes.first().map(|l| l.version).unwrap_or_default(),
        summary: run.summary.first().cloned().unwrap_or(EvalLaneSummary {
            version: 0,
            cases: 0,
            passed: 0,
            failed: 0,
            errors: 0,
            pending: 0,
            pass_rate: 0.0,
        }),
    };
    let l = lane_outcomes(left, 0);
    let r = lane_outcomes(right, 0);
    let mut order: Vec<(u8, u32, Uuid)> = l.iter().map(|(id, c)| (0, c.0, *id)).collect();
    order.extend(
        r.iter()
            .filter(|(id, _)| !l.contains_key(id))
            .map(|(id, c)| (1, c.0, *id)),
    );
    order.sort();
    let cases = order
        .into_iter()
        .map(|(_, position, id)| {
            let (a, b) = (l.get(&id), r.get(&id));
            let message = a.or(b).map(|c| c.1).unwrap_or_default();
            let (left, right) = (a.map(|c| c.2), b.map(|c| c.2));
            ComparedCase {
                case_id: id,
                position,
                message: one_line(message, 120),
                left,
                right,
                differs: matches!((left, right), (Some(x), Some(y)) if x != y),
            }
        })
        .collect();
    EvalComparison {
        left: side(left_run),
        right: side(right_run),
        cases,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::eval::{Category, Phrase};

    fn expect() -> EvalExpectations {
        EvalExpectations {
            category: Some(Category::Hot),
            must_contain: vec![Phrase("Monday  to Friday".into())],
            must_not_contain: vec![Phrase("discount".into())],
            max_chars: Some(40),
        }
    }

    #[test]
    fn every_expectation_is_judged_and_says_what_it_found() {
        let good = CaseOutcome {
            category: Some("hot"),
            reply: "We are open MONDAY to\nfriday.",
            drafted: true,
        };
        let checks = check(&expect(), &good);
        assert_eq!(checks.len(), 4);
        assert!(checks.iter().all(|c| c.passed), "{checks:?}");

        let bad = CaseOutcome {
            category: Some("warm"),
            reply: "Open on weekends, ask about our discount! We are very flexible.",
            drafted: true,
        };
        let checks = check(&expect(), &bad);
        assert!(checks.iter().all(|c| !c.passed), "{checks:?}");
        assert_eq!(checks[0].detail, "qualified warm, not hot");
        assert_eq!(checks[3].detail, "the reply is 63 characters");

        let unreadable = CaseOutcome {
            category: None,
            reply: "",
            drafted: true,
        };
        assert_eq!(
            check(&expect(), &unreadable)[0].detail,
            "the qualification could not be read"
        );
    }

    #[test]
    fn a_lead_the_policy_drafts_nothing_for_has_no_reply_to_find_phrases_in() {
        let none = CaseOutcome {
            category: Some("spam"),
            reply: "",
            drafted: false,
        };
        let checks = check(&expect(), &none);
        let passed: Vec<bool> = checks.iter().map(|c| c.passed).collect();
        assert_eq!(passed, [false, false, true, true]);
        assert!(checks[1].detail.contains("drafts none for spam"));
    }

    #[test]
    fn the_summary_counts_every_case_and_rates_over_all_of_them() {
        let lanes = [
            EvalLane {
                version: 5,
                model: "m".into(),
            },
            EvalLane {
                version: 3,
                model: "m".into(),
            },
        ];
        let counts = [LaneCounts {
            lane: 0,
            done: 3,
            passed: 2,
            errors: 1,
        }];
        let s = summarize(&lanes, 4, &counts);
        assert_eq!(
            (s[0].passed, s[0].failed, s[0].errors, s[0].pending),
            (2, 0, 1, 1)
        );
        assert_eq!(s[0].pass_rate, 0.5);
        assert_eq!((s[1].version, s[1].pending, s[1].pass_rate), (3, 4, 0.0));
    }
}
