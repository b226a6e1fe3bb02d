//! `switchboard bench local-model`: load time, prompt and generation speed and
//! time to first token of the embedded model, printed (never asserted).

use std::time::Instant;

use anyhow::Context;

use crate::config::Config;
use crate::llm::local::{LocalProvider, LOCAL_MODEL};
use crate::llm::{CancellationToken, ChatMessage, ChatRole, Chunk, GenerateRequest, Provider};

pub struct Options {
    /// Generations per prompt.
    pub runs: usize,
    /// Upper bound on generated tokens per run.
    pub max_tokens: u32,
}

const SHORT: &str = "Say hello.";
const LONG: &str = "A customer writes: Hello, I saw your listing for the two-bedroom flat \
    on Elm Street. I'm moving to the city in March with my partner and our dog. \
    Is the flat still available, does the building allow pets, and is parking \
    included in the rent? We'd also like to know about the deposit, the length \
    of the lease and whether we could visit this Saturday morning. You can call \
    me at 555-0123 or email me. Thanks, José. Write a short, friendly reply.";

pub async fn run(config: &Config, opts: Options) -> anyhow::Result<()> {
    let path = config
        .llm
        .local
        .model_path
        .clone()
        .unwrap_or_else(|| crate::llm::fetch::model_path(&config.dirs.data));
    let provider = LocalProvider::new(path);
    let started = Instant::now();
    provider
        .load()
        .await
        .context("cannot load the local model")?;
    println!(
        "load: {:.2} s, RSS {}",
        started.elapsed().as_secs_f64(),
        rss()
    );
    for (name, prompt) in [("short", SHORT), ("long", LONG)] {
        for run in 1..=opts.runs {
            let req = GenerateRequest {
                model: LOCAL_MODEL.into(),
                messages: vec![
                    ChatMessage::new(ChatRole::System, "You are a helpful assistant."),
                    ChatMessage::new(ChatRole::User, prompt),
                ],
                temperature: 0.0,
                max_tokens: opts.max_tokens,
                starts: Vec::new(),
                stop: Vec::new(),
            };
            let mut rx = provider.generate(req, CancellationToken::new()).await?;
            while let Some(item) = rx.recv().await {
                if let Chunk::Done(s) = item? {
                    // TTFT is dominated by the prompt pass, so it gives prompt speed.
                    let prompt_rate =
                        s.prompt_tokens as f64 * 1000.0 / (s.time_to_first_token_ms.max(1) as f64);
                    println!(
                        "{name} prompt, run {run}: {} prompt tokens, TTFT {} ms \
                         (~{prompt_rate:.0} prompt tok/s), {} generated at {:.1} tok/s",
                        s.prompt_tokens,
                        s.time_to_first_token_ms,
                        s.completion_tokens,
                        s.tokens_per_second
                    );
                }
            }
        }
    }
    println!("RSS after generating: {}", rss());
    Ok(())
}

/// Resident memory from /proc (Linux); "unknown" elsewhere.
fn rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(|l| l.trim_start_matches("VmRSS:").trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}
