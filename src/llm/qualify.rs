//! Qualifying a lead with any provider: the category by the model's
//! likelihood of each allowed one when the provider can score, the reason
//! generated after it; otherwise the provider's answer, parsed.
//!
//! Why scoring: decoding lets a small model write anything, and even held to
//! the answer's format its first pick leans to one category for most leads.
//! Comparing the five continuations, each against how likely the model finds
//! it for a message that says nothing, asks which category *this* message
//! makes likelier (contextual calibration, Zhao et al. 2021).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use super::{
    CancellationToken, ChatMessage, ChatRole, GenerateRequest, LlmError, Provider, ScoreRequest,
};
use crate::domain::lead::Qualification;
use crate::domain::workflow::{
    parse_qualification, qualify_instruction, qualify_starts, CATEGORIES,
};

/// Tokens a qualify answer needs at most.
pub const QUALIFY_TOKENS: u32 = 60;
/// The answer's first label; the category follows it.
const PREFIX: &str = "CATEGORY:";
/// What the scored reply begins with; a description of each category
/// (in [`CATEGORIES`] order) follows. Whole phrases, not the bare labels:
/// a 135M model knows what "wants to buy soon" means far better than what
/// "hot" means for a lead, and the calibration takes their lengths and
/// wording out of the comparison.
const SCORED_PREFIX: &str = "This lead";
const DESCRIPTIONS: [&str; 5] = [
    " wants to buy soon.",
    " is interested, with no timeline.",
    " is just looking.",
    " is not a real enquiry: spam.",
    " is an existing customer with a problem.",
];
/// The message the calibration scores: one that gives no reason for any
/// category.
const CONTENT_FREE: &str = "From: N/A\nMessage: N/A";

/// How the category is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Score the categories when the provider can, else generate.
    Score,
    /// Scoring without the content-free calibration (for the bench).
    ScoreUncalibrated,
    /// Generate held to the answer's format (the embedded model) and parse:
    /// how it was done before scoring, kept for providers that cannot score
    /// and for `bench qualify --generate`.
    Generate,
}

/// A qualify step's result.
#[derive(Debug, Clone)]
pub struct Qualified {
    /// The answer as the model gave it (`CATEGORY: … REASON: …`).
    pub answer: String,
    /// `None` when the answer could not be read (never guessed).
    pub qualification: Option<Qualification>,
    /// Whether the category came from scoring.
    pub scored: bool,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    pub duration_ms: u64,
}

/// The conversation a qualify step continues.
pub fn qualify_messages(system_prompt: &str, lead_text: &str) -> Vec<ChatMessage> {
    vec![
        ChatMessage::new(
            ChatRole::System,
            format!("{system_prompt}\n\n{}", qualify_instruction()),
        ),
        ChatMessage::new(ChatRole::User, lead_text),
    ]
}

/// Qualifies `lead_text` for an agent whose own prompt is `system_prompt`.
pub async fn qualify(
    provider: &dyn Provider,
    model: &str,
    system_prompt: &str,
    lead_text: &str,
    method: Method,
    cancel: &CancellationToken,
) -> Result<Qualified, LlmError> {
    let started = Instant::now();
    let messages = qualify_messages(system_prompt, lead_text);
    let chosen = match method {
        Method::Score | Method::ScoreUncalibrated => {
            let calibrated = method == Method::Score;
            choose(
                provider,
                model,
                system_prompt,
                &messages,
                calibrated,
                cancel,
            )
            .await?
        }
        Method::Generate => None,
    };
    let (starts, scored, scoring_tokens) = match chosen {
        Some((category, tokens)) => (vec![format!("{PREFIX} {category}\nREASON:")], true, tokens),
        None => (qualify_starts(), false, 0),
    };
    let req = GenerateRequest {
        model: model.to_string(),
        messages,
        temperature: 0.0,
        max_tokens: QUALIFY_TOKENS,
        starts,
        stop: vec!["\n\n".into()],
    };
    let answer = super::complete(provider, req, cancel).await?;
    Ok(Qualified {
        qualification: parse_qualification(&answer.text),
        answer: answer.text,
        scored,
        prompt_tokens: answer.prompt_tokens + scoring_tokens,
        completion_tokens: answer.completion_tokens,
        duration_ms: started.elapsed().as_millis() as u64,
    })
}

/// The likeliest category against its likelihood for a content-free message,
/// with the prompt tokens both scorings read; `None` when the provider
/// cannot score.
async fn choose(
    provider: &dyn Provider,
    model: &str,
    system_prompt: &str,
    messages: &[ChatMessage],
    calibrated: bool,
    cancel: &CancellationToken,
) -> Result<Option<(&'static str, u32)>, LlmError> {
    let request = |messages: Vec<ChatMessage>| ScoreRequest {
        model: model.to_string(),
        messages,
        prefix: SCORED_PREFIX.to_string(),
        continuations: DESCRIPTIONS.iter().map(|d| d.to_string()).collect(),
    };
    let Some(lead) = provider
        .score(request(messages.to_vec()), cancel.clone())
        .await?
    else {
        return Ok(None);
    };
    let mut tokens = lead.prompt_tokens;
    let prior = if calibrated {
        let key = (
            provider.id().to_string(),
            model.to_string(),
            system_prompt.to_string(),
        );
        match priors().get(&key) {
            Some(prior) => Some(prior),
            None => {
                let scored = provider
                    .score(
                        request(qualify_messages(system_prompt, CONTENT_FREE)),
                        cancel.clone(),
                    )
                    .await?;
                scored.map(|p| {
                    tokens += p.prompt_tokens;
                    priors().put(key, p.log_likelihoods.clone());
                    p.log_likelihoods
                })
            }
        }
    } else {
        None
    };
    let calibrated = calibrate(&lead.log_likelihoods, prior.as_deref());
    Ok(best(&calibrated).map(|i| (CATEGORIES[i], tokens)))
}

/// `(provider, model, agent prompt)`.
type PriorKey = (String, String, String);

/// Content-free priors already scored: one per agent prompt, which changes
/// rarely, so most leads cost one scoring instead of two.
#[derive(Default)]
struct Priors(Mutex<HashMap<PriorKey, Vec<f64>>>);

/// Enough for every agent a busy server runs; cleared when full.
const PRIORS_KEPT: usize = 256;

impl Priors {
    fn get(&self, key: &PriorKey) -> Option<Vec<f64>> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key).cloned()
    }

    fn put(&self, key: PriorKey, prior: Vec<f64>) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= PRIORS_KEPT {
            map.clear();
        }
        map.insert(key, prior);
    }
}

fn priors() -> &'static Priors {
    static PRIORS: OnceLock<Priors> = OnceLock::new();
    PRIORS.get_or_init(Priors::default)
}

/// Each score less its content-free prior (when there is one).
pub fn calibrate(scores: &[f64], prior: Option<&[f64]>) -> Vec<f64> {
    match prior {
        Some(prior) if prior.len() == scores.len() => {
            scores.iter().zip(prior).map(|(s, p)| s - p).collect()
        }
        _ => scores.to_vec(),
    }
}

/// The index of the highest finite score; the first on a tie.
pub fn best(scores: &[f64]) -> Option<usize> {
    scores
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.is_nan())
        .fold(None, |best: Option<(usize, f64)>, (i, &s)| match best {
            Some((_, b)) if b >= s => best,
            _ => Some((i, s)),
        })
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prior_is_taken_off_and_the_best_wins() {
        let scores = [-1.0, -2.0, -3.0, -9.0, -5.0];
        assert_eq!(best(&scores), Some(0));
        let prior = [-0.5, -4.0, -3.0, -9.0, -5.0];
        assert_eq!(best(&calibrate(&scores, Some(&prior))), Some(1));
        // A prior of another length is ignored rather than misapplied.
        assert_eq!(calibrate(&scores, Some(&[0.0])), scores.to_vec());
        assert_eq!(best(&[f64::NAN, f64::NEG_INFINITY, -1.0]), Some(2));
        assert_eq!(best(&[]), None);
    }
}
