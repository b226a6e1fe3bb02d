//! `switchboard bench qualify`: the workflow's qualify step over a labelled
//! set of lead messages (`assets/qualify-labelled.json`); prints agreement
//! with a person's category, per-category precision and recall, and the
//! confusion matrix. A measurement, never asserted.

use std::time::Instant;

use anyhow::Context;
use serde::Deserialize;

use crate::config::Config;
use crate::domain::workflow::{qualify_lead_text, CATEGORIES};
use crate::llm::qualify::{qualify, Method};
use crate::llm::{CancellationToken, Providers};

/// The labelled set, built into the binary so the bench runs anywhere.
const LABELLED: &str = include_str!("../../assets/qualify-labelled.json");

pub struct Options {
    /// `provider/model`.
    pub model: String,
    pub method: Method,
    /// Run only the first N messages (0: all).
    pub limit: usize,
    /// Print each message's answer.
    pub verbose: bool,
}

/// One message and the category a person gave it.
#[derive(Debug, Clone, Deserialize)]
pub struct Labelled {
    /// What the tenant does; the agent's prompt says so.
    pub business: String,
    pub message: String,
    pub category: String,
    pub why: String,
}

/// The labelled set.
pub fn labelled() -> anyhow::Result<Vec<Labelled>> {
    serde_json::from_str(LABELLED).context("assets/qualify-labelled.json is not valid")
}

/// The agent prompt the bench qualifies with, like a tenant's own.
pub fn agent_prompt(business: &str) -> String {
    format!("You answer inbound leads for {business}, briefly and warmly.")
}

pub async fn run(config: &Config, opts: Options) -> anyhow::Result<()> {
    let providers = Providers::from_config(&config.llm, &config.dirs.data)?;
    let (provider, model) = providers.resolve(&opts.model)?;
    provider.ready()?;
    let mut set = labelled()?;
    if opts.limit > 0 {
        set.truncate(opts.limit);
    }
    println!(
        "qualify benchmark: {} labelled messages, {}, {}",
        set.len(),
        opts.model,
        match opts.method {
            Method::Score => "scoring the five categories (calibrated)",
            Method::ScoreUncalibrated => "scoring the five categories (uncalibrated)",
            Method::Generate => "generating the answer (held to its format) and parsing it",
        }
    );
    let cancel = CancellationToken::new();
    let mut confusion = Confusion::default();
    let mut durations = Vec::with_capacity(set.len());
    let mut scored = 0;
    let started = Instant::now();
    for item in &set {
        let lead = qualify_lead_text("A lead", None, &item.message);
        let q = qualify(
            provider.as_ref(),
            &model,
            &agent_prompt(&item.business),
            &lead,
            opts.method,
            &cancel,
        )
        .await?;
        durations.push(q.duration_ms as f64);
        scored += usize::from(q.scored);
        let got = q.qualification.as_ref().map(|q| q.category.as_str());
        confusion.add(&item.category, got);
        if opts.verbose {
            println!(
                "{:<8} {:<8} {:?} -> {:?}",
                item.category,
                got.unwrap_or("-"),
                item.message,
                q.answer
            );
        }
    }
    durations.sort_by(f64::total_cmp);
    println!(
        "{} s in all, per message p50 {:.0} ms, p99 {:.0} ms; scored {scored}/{}",
        started.elapsed().as_secs(),
        super::percentile(&durations, 0.5),
        super::percentile(&durations, 0.99),
        set.len()
    );
    print!("{}", confusion.report());
    Ok(())
}

/// Counts of (a person's category, the model's) over the five categories;
/// an unreadable answer is its own column.
#[derive(Debug, Default)]
pub struct Confusion {
    /// `[expected][got]`, `got == 5` for unreadable.
    counts: [[usize; 6]; 5],
}

impl Confusion {
    pub fn add(&mut self, expected: &str, got: Option<&str>) {
        let Some(e) = CATEGORIES.iter().position(|c| *c == expected) else {
            return;
        };
        let g = got
            .and_then(|g| CATEGORIES.iter().position(|c| *c == g))
            .unwrap_or(5);
        self.counts[e][g] += 1;
    }

    pub fn total(&self) -> usize {
        self.counts.iter().flatten().sum()
    }

    pub fn agreed(&self) -> usize {
        (0..5).map(|i| self.counts[i][i]).sum()
    }

    /// The table, the per-category figures and the agreement line.
    pub fn report(&self) -> String {
        let mut out = String::from("confusion (rows: a person's category, columns: the model's)\n");
        out.push_str(&format!("{:<10}", ""));
        for c in CATEGORIES.iter().chain(std::iter::once(&"unread")) {
            out.push_str(&format!("{c:>8}"));
        }
        out.push('\n');
        for (i, row) in self.counts.iter().enumerate() {
            out.push_str(&format!("{:<10}", CATEGORIES[i]));
            for n in row {
                out.push_str(&format!("{n:>8}"));
            }
            out.push('\n');
        }
        out.push_str(&format!(
            "{:<10}{:>10}{:>10}{:>8}\n",
            "category", "precision", "recall", "n"
        ));
        for (i, c) in CATEGORIES.iter().enumerate() {
            let hit = self.counts[i][i];
            let predicted: usize = self.counts.iter().map(|r| r[i]).sum();
            let actual: usize = self.counts[i].iter().sum();
            let ratio = |n: usize, d: usize| {
                if d == 0 {
                    "-".to_string()
                } else {
                    format!("{:.2}", n as f64 / d as f64)
                }
            };
            out.push_str(&format!(
                "{c:<10}{:>10}{:>10}{actual:>8}\n",
                ratio(hit, predicted),
                ratio(hit, actual)
            ));
        }
        let total = self.total();
        out.push_str(&format!(
            "agreement with a person: {}/{} ({:.0} %)\n",
            self.agreed(),
            total,
            if total == 0 {
                0.0
            } else {
                100.0 * self.agreed() as f64 / total as f64
            }
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_labelled_set_is_large_varied_and_uses_the_five_categories() {
        let set = labelled().expect("the labelled set parses");
        assert!(set.len() >= 40, "{}", set.len());
        for c in CATEGORIES {
            assert!(
                set.iter().filter(|l| l.category == c).count() >= 5,
                "few {c}"
            );
        }
        assert!(set
            .iter()
            .all(|l| CATEGORIES.contains(&l.category.as_str()) && !l.why.trim().is_empty()));
    }

    #[test]
    fn the_report_counts_agreement_precision_and_recall() {
        let mut c = Confusion::default();
        c.add("hot", Some("hot"));
        c.add("hot", Some("warm"));
        c.add("warm", Some("warm"));
        c.add("spam", None);
        c.add("nonsense", Some("hot"));
        assert_eq!((c.agreed(), c.total()), (2, 4));
        let report = c.report();
        assert!(
            report.contains("agreement with a person: 2/4 (50 %)"),
            "{report}"
        );
        // warm: predicted twice, right once; of the one warm, found it.
        assert!(
            report.contains("warm            0.50      1.00       1"),
            "{report}"
        );
    }
}
