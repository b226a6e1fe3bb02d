//! Conversion through a tenant's pipeline: how many of a period's leads
//! reached each stage from the one before, how long that took, and how many
//! were won, overall and by source. Computed here from each lead's recorded
//! stage moves, so both stores give the same figures from the same rows.
//!
//! What counts, and why:
//! - **The cohort** is the period's leads (created in it), spam left out;
//!   their moves are counted whenever they happened, so a lead of the
//!   period won after it still counts as won.
//! - **The won stage** is the stage with id `won` when the pipeline has one
//!   (the default pipeline ends `… Won, Lost`, and its last stage plainly
//!   does not mean won), otherwise the last stage. The funnel runs from the
//!   first stage to the won stage; stages after it (such as Lost) are exits,
//!   not steps: a lead that ends in Lost reached what it reached before.
//! - **Skipped stages are passed.** A lead moved straight from New to Won
//!   did get to the end of the funnel, so it counts as having reached every
//!   stage before Won, at the moment it reached Won: the bars never grow
//!   from one stage to the next, and skipping a stage takes no time in the
//!   median of that step.
//! - **Reached is history, won is now.** A lead moved back (or out to Lost)
//!   still reached the stages it passed, as a funnel reports; it is won only
//!   while it is in the won stage, as the leads list shows it, so a slip of
//!   the hand corrected does not stay a win. The funnel's last bar can
//!   therefore exceed `won` by the leads moved out of the won stage.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::tenant::Stage;

/// One step of the funnel: the leads that reached a stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StageConversion {
    /// The stage's id.
    pub stage: String,
    /// The stage's name as the tenant calls it.
    pub name: String,
    /// Leads that reached this stage or passed it.
    pub reached: u32,
    /// reached / the stage before's reached (0–1); absent for the first
    /// stage and when the stage before was reached by none.
    pub share: Option<f64>,
    /// Median minutes from reaching the stage before to reaching this one,
    /// over the leads that reached this one (nearest rank); absent for the
    /// first stage and when none reached it.
    pub median_minutes: Option<f64>,
}

/// How one source's leads converted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SourceConversion {
    pub source: String,
    pub leads: u32,
    /// Of them, now in the won stage.
    pub won: u32,
    /// won / leads (0–1).
    pub won_share: Option<f64>,
}

/// Conversion through the tenant's pipeline (see the module's notes on what
/// counts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Conversion {
    /// The period's leads, spam left out: the funnel's top.
    pub leads: u32,
    /// The funnel, first stage to the won stage, in pipeline order.
    pub stages: Vec<StageConversion>,
    /// The won stage's id.
    pub won_stage: String,
    /// Leads now in the won stage.
    pub won: u32,
    /// won / leads (0–1), when there are leads.
    pub won_share: Option<f64>,
    /// By source, most leads first, then by name.
    pub by_source: Vec<SourceConversion>,
}

/// A move from one stage to another, as the lead's timeline recorded it.
#[derive(Debug, Clone, PartialEq)]
pub struct StageMove {
    pub at: DateTime<Utc>,
    pub from: String,
    pub to: String,
}

/// One lead of the cohort as the figures need it.
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelLead {
    pub id: Uuid,
    pub source: String,
    /// Its stage now.
    pub stage: String,
    pub created_at: DateTime<Utc>,
    /// Its stage moves, oldest first.
    pub moves: Vec<StageMove>,
}

/// The index of the stage that means won: `won` by id, else the last.
fn won_index(stages: &[Stage]) -> Option<usize> {
    stages
        .iter()
        .position(|s| s.id == "won")
        .or_else(|| stages.len().checked_sub(1))
}

/// Nearest-rank median, like the first-response median.
fn median(mut values: Vec<i64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let rank = values.len().div_ceil(2) - 1;
    Some(values[rank] as f64 / 60_000.0)
}

fn share(part: u32, of: u32) -> Option<f64> {
    (of > 0).then(|| f64::from(part) / f64::from(of))
}

impl Conversion {
    /// The figures for `leads` through `stages` (the tenant's pipeline, in
    /// order).
    pub fn compute(stages: &[Stage], leads: &[FunnelLead]) -> Self {
        let won_at = won_index(stages);
        let funnel = &stages[..won_at.map_or(0, |w| w + 1)];
        let won_stage = won_at.map(|w| stages[w].id.clone()).unwrap_or_default();
        let step = |id: &str| funnel.iter().position(|s| s.id == id);
        let mut reached = vec![0u32; funnel.len()];
        let mut times: Vec<Vec<i64>> = vec![Vec::new(); funnel.len()];
        let mut sources: Vec<SourceConversion> = Vec::new();
        let mut won = 0;
        for lead in leads {
            // When the lead first entered each funnel stage: the stage it was
            // created in (the first move's origin, else where it is now)...
            let mut entered: Vec<Option<DateTime<Utc>>> = vec![None; funnel.len()];
            let created_in = lead.moves.first().map_or(&lead.stage, |m| &m.from);
            let mut enter = |id: &str, at: DateTime<Utc>| {
                if let Some(i) = step(id) {
                    entered[i] = Some(entered[i].map_or(at, |t| t.min(at)));
                }
            };
            enter(created_in, lead.created_at);
            // ... and every stage it was moved into.
            for m in &lead.moves {
                enter(&m.to, m.at);
            }
            // Every lead entered the pipeline at its creation.
            if let Some(first) = entered.first_mut() {
                *first = Some(first.map_or(lead.created_at, |t| t.min(lead.created_at)));
            }
            // Reaching a stage passes every stage before it: a stage was
            // reached at the first entry into it or any stage after it.
            let mut passed: Vec<Option<DateTime<Utc>>> = vec![None; funnel.len()];
            let mut earliest: Option<DateTime<Utc>> = None;
            for i in (0..funnel.len()).rev() {
                earliest = match (earliest, entered[i]) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                passed[i] = earliest;
            }
            for i in 0..funnel.len() {
                let Some(at) = passed[i] else { break };
                reached[i] += 1;
                if let Some(before) = i.checked_sub(1).and_then(|b| passed[b]) {
                    times[i].push((at - before).num_milliseconds().max(0));
                }
            }
            let is_won = !won_stage.is_empty() && lead.stage == won_stage;
            won += u32::from(is_won);
            match sources.iter_mut().find(|s| s.source == lead.source) {
                Some(s) => {
                    s.leads += 1;
                    s.won += u32::from(is_won);
                }
                None => sources.push(SourceConversion {
                    source: lead.source.clone(),
                    leads: 1,
                    won: u32::from(is_won),
                    won_share: None,
                }),
            }
        }
        for s in &mut sources {
            s.won_share = share(s.won, s.leads);
        }
        sources.sort_by(|a, b| b.leads.cmp(&a.leads).then_with(|| a.source.cmp(&b.source)));
        let total = leads.len() as u32;
        let stages = funnel
            .iter()
            .enumerate()
            .map(|(i, s)| StageConversion {
                stage: s.id.clone(),
                name: s.name.clone(),
                reached: reached[i],
                share: i.checked_sub(1).and_then(|b| share(reached[i], reached[b])),
                median_minutes: median(std::mem::take(&mut times[i])),
            })
            .collect();
        Conversion {
            leads: total,
            stages,
            won_stage,
            won,
            won_share: share(won, total),
            by_source: sources,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn pipeline() -> Vec<Stage> {
        crate::domain::TenantSettings::default().pipeline_stages
    }

    fn lead(source: &str, stage: &str, moves: &[(&str, &str, &str)]) -> FunnelLead {
        FunnelLead {
            id: Uuid::new_v4(),
            source: source.into(),
            stage: stage.into(),
            created_at: at("2026-11-18T09:00:00Z"),
            moves: moves
                .iter()
                .map(|(when, from, to)| StageMove {
                    at: at(when),
                    from: from.to_string(),
                    to: to.to_string(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_skipped_stage_is_passed_in_no_time_and_lost_is_an_exit() {
        let leads = [
            // Straight from New to Won after two hours.
            lead("form", "won", &[("2026-11-18T11:00:00Z", "new", "won")]),
            // New -> Contacted (1 h) -> Lost: reached Contacted only.
            lead(
                "api",
                "lost",
                &[
                    ("2026-11-18T10:00:00Z", "new", "contacted"),
                    ("2026-11-18T12:00:00Z", "contacted", "lost"),
                ],
            ),
            // Never moved.
            lead("form", "new", &[]),
        ];
        let c = Conversion::compute(&pipeline(), &leads);
        let got: Vec<(&str, u32, Option<f64>, Option<f64>)> = c
            .stages
            .iter()
            .map(|s| (s.stage.as_str(), s.reached, s.share, s.median_minutes))
            .collect();
        assert_eq!(
            got,
            [
                ("new", 3, None, None),
                ("contacted", 2, Some(2.0 / 3.0), Some(60.0)),
                ("qualified", 1, Some(0.5), Some(0.0)),
                ("won", 1, Some(1.0), Some(0.0)),
            ]
        );
        assert_eq!((c.leads, c.won, c.won_stage.as_str()), (3, 1, "won"));
        assert_eq!(c.won_share, Some(1.0 / 3.0));
        let by: Vec<(&str, u32, u32)> = c
            .by_source
            .iter()
            .map(|s| (s.source.as_str(), s.leads, s.won))
            .collect();
        assert_eq!(by, [("form", 2, 1), ("api", 1, 0)]);
    }

    #[test]
    fn without_a_won_id_the_last_stage_means_won_and_moving_back_unwins() {
        let stages = vec![
            Stage::new("in", "In"),
            Stage::new("demo", "Demo"),
            Stage::new("signed", "Signed"),
        ];
        let leads = [
            lead(
                "form",
                "demo",
                &[
                    ("2026-11-18T10:00:00Z", "in", "signed"),
                    ("2026-11-18T10:30:00Z", "signed", "demo"),
                ],
            ),
            lead(
                "form",
                "signed",
                &[("2026-11-19T09:00:00Z", "in", "signed")],
            ),
        ];
        let c = Conversion::compute(&stages, &leads);
        assert_eq!(c.won_stage, "signed");
        let reached: Vec<u32> = c.stages.iter().map(|s| s.reached).collect();
        assert_eq!(reached, [2, 2, 2], "reached is history");
        assert_eq!(c.won, 1, "won is where the lead is now");
        // 1 h and 24 h to pass Demo: the nearest-rank median is the lower.
        assert_eq!(c.stages[1].median_minutes, Some(60.0));
        let empty = Conversion::compute(&stages, &[]);
        assert_eq!((empty.won_share, empty.stages[1].share), (None, None));
    }
}
