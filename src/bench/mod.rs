//! `switchboard bench`: harnesses that print figures (never timed tests).

pub mod crash;
pub mod events;
pub mod fixture;
pub mod harness;
pub mod idle;
pub mod ingest;
pub mod local_model;
pub mod memory;
pub mod platform;
pub mod process;
pub mod qualify;
pub mod queue;
pub mod relay;
pub mod render;
pub mod startup;
pub mod target;
pub mod tmux;
pub mod workflows;

/// The value at `q` (0..=1) of sorted samples.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}
