//! SmolLM2-135M-Instruct on the CPU with candle: loading the GGUF, the
//! tokenizer from its metadata, the ChatML prompt, and the decode loop.

use std::io::{Cursor, Seek};
use std::path::Path;
use std::time::Instant;

use candle_core::quantized::{gguf_file, GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use candle_transformers::generation::{LogitsProcessor, Sampling};
use candle_transformers::models::quantized_llama::{ModelWeights, MAX_SEQ_LEN};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::Tokenizer;

use super::constrain::{best_of, Starts};
use super::sampling::{log_softmax, Next, Repetition, ReplyGuard};
use crate::llm::{ChatMessage, ChatRole, GenerateRequest, GenerationStats, LlmError};

/// The model's context window, in tokens (prompt + reply).
pub const CONTEXT_TOKENS: usize = 4096;

/// Prompt tokens fed per forward pass: attention scratch grows with the square
/// of this, and 512 keeps it to tens of MB with no loss of speed on a CPU.
const PROMPT_BATCH: usize = 512;

/// Ends a ChatML turn; the model emits it when its reply is complete.
const IM_END: &str = "<|im_end|>";

fn internal(what: &str) -> impl Fn(candle_core::Error) -> LlmError + '_ {
    move |e| LlmError::Internal(format!("{what}: {e}"))
}

/// Reads the GGUF header and builds the tokenizer stored in its metadata.
pub fn load_tokenizer(path: &Path) -> Result<Tokenizer, LlmError> {
    let mut file = open(path)?;
    let content = gguf_file::Content::read(&mut file).map_err(internal("cannot read the GGUF"))?;
    tokenizer_from(&content)
}

fn open(path: &Path) -> Result<std::fs::File, LlmError> {
    std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => LlmError::ModelMissing {
            path: path.display().to_string(),
            fetch_command: crate::llm::fetch::FETCH_COMMAND.to_string(),
        },
        _ => LlmError::Internal(format!("cannot open {}: {e}", path.display())),
    })
}

fn tokenizer_from(content: &gguf_file::Content) -> Result<Tokenizer, LlmError> {
    use candle_core::quantized::tokenizer::TokenizerFromGguf;
    let mut tokenizer =
        Tokenizer::from_gguf(content).map_err(internal("cannot build the tokenizer"))?;
    // The GGUF does not say how SmolLM2 pre-tokenizes; candle's GPT-2 default
    // keeps digit runs together, which gives ids the model was not trained on.
    // This is the sequence from SmolLM2's own tokenizer.json.
    tokenizer.with_pre_tokenizer(Some(Sequence::new(vec![
        Digits::new(true).into(),
        ByteLevel::new(false, true, true).into(),
    ])));
    Ok(tokenizer)
}

pub struct LocalModel {
    weights: ModelWeights,
    tokenizer: Tokenizer,
    /// Tokens that end the reply: `<|im_end|>`, `<|endoftext|>`, `<|im_start|>`.
    stop: Vec<u32>,
    device: Device,
}

impl LocalModel {
    /// Loads the weights, converting Q4_1 matrices to Q8_0: candle's Q8_0
    /// kernels are about twice as fast on x86 and the model is small enough
    /// (~150 MB as Q8_0) that the memory does not matter.
    pub fn load(path: &Path) -> Result<Self, LlmError> {
        let device = Device::Cpu;
        let mut file = open(path)?;
        let content =
            gguf_file::Content::read(&mut file).map_err(internal("cannot read the GGUF"))?;
        let tokenizer = tokenizer_from(&content)?;
        let mut converted = requantize(&content, &mut file, &device)?;
        let content = gguf_file::Content::read(&mut converted)
            .map_err(internal("cannot read the converted GGUF"))?;
        let weights = ModelWeights::from_gguf(content, &mut converted, &device)
            .map_err(internal("cannot load the model weights"))?;
        let stop = [IM_END, "<|endoftext|>", "<|im_start|>"]
            .iter()
            .filter_map(|t| tokenizer.token_to_id(t))
            .collect::<Vec<_>>();
        if stop.is_empty() {
            return Err(LlmError::Internal(format!(
                "{} has no {IM_END} token; is it a ChatML model?",
                path.display()
            )));
        }
        Ok(Self {
            weights,
            tokenizer,
            stop,
            device,
        })
    }

    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// Continues the conversation, handing each piece of text to `emit`
    /// (which returns false when nobody is listening any more). `stopped`
    /// is polled between tokens so a cancelled request frees the CPU at once;
    /// a cancelled reply still counts its prompt and the tokens it produced
    /// ([`Generated::cancelled`]).
    pub fn generate(
        &mut self,
        req: &GenerateRequest,
        started: Instant,
        stopped: &dyn Fn() -> bool,
        emit: &mut dyn FnMut(String) -> bool,
    ) -> Result<Generated, LlmError> {
        // Each request is a whole conversation; nothing carries over.
        self.weights.clear_kv_cache();
        let context = CONTEXT_TOKENS.min(MAX_SEQ_LEN);
        let want = (req.max_tokens as usize).clamp(1, context / 2);
        let prompt = self.prompt(&req.messages, context - want)?;
        let max_new = want.min(context - prompt.len());
        let mut tally = Tally::new(prompt.len(), started);

        let Some(mut logits) = self.feed(&prompt, 0, stopped)? else {
            return Ok(tally.finish(true));
        };
        let sampling = if req.temperature <= 0.0 {
            Sampling::ArgMax
        } else {
            Sampling::All {
                temperature: f64::from(req.temperature),
            }
        };
        let mut sampler = LogitsProcessor::from_sampling(rand::random(), sampling);
        let mut starts = Starts::new(
            req.starts
                .iter()
                .map(|s| self.encode(s))
                .collect::<Result<Vec<_>, _>>()?,
        );
        let mut guard = ReplyGuard::new(Repetition::default(), self.stop.clone());
        let mut text = self.tokenizer.decode_stream(true);
        // The reply so far, and how much of it was searched for a stop.
        let mut produced = String::new();
        let mut checked = 0usize;
        loop {
            if stopped() {
                return Ok(tally.finish(true));
            }
            let mut scores = logits
                .to_vec1::<f32>()
                .map_err(internal("cannot read the logits"))?;
            let allowed = starts.as_ref().and_then(Starts::allowed);
            let forced = allowed.is_some();
            let next = match allowed {
                // The required start is the model's choice among fixed
                // texts: no penalty changes which one it likes best.
                Some(allowed) => best_of(&scores, &allowed).ok_or_else(|| {
                    LlmError::Internal("a required start is outside the vocabulary".into())
                })?,
                None => {
                    guard.adjust(&mut scores);
                    let adjusted = Tensor::new(scores.as_slice(), &self.device)
                        .map_err(internal("cannot build the logits"))?;
                    sampler
                        .sample(&adjusted)
                        .map_err(internal("sampling failed"))?
                }
            };
            if let Some(starts) = starts.as_mut() {
                starts.advance(next);
            }
            if guard.accept(next) == Next::EndOfTurn {
                break;
            }
            tally.token();
            // `None` while a character's bytes are still incomplete.
            let piece = text
                .step(next)
                .map_err(|e| LlmError::Internal(format!("cannot decode token {next}: {e}")))?;
            if let Some(piece) = piece {
                produced.push_str(&piece);
                if !emit(piece) {
                    return Ok(tally.finish(true));
                }
                if forced {
                    // Stops apply to what the model writes after the start.
                    checked = produced.len();
                } else if ends_a_stop(&produced, &req.stop, &mut checked) {
                    break;
                }
            }
            if tally.generated >= max_new {
                break;
            }
            logits = forward(
                &mut self.weights,
                &self.device,
                &[next],
                prompt.len() + tally.generated - 1,
            )?;
        }
        Ok(tally.finish(false))
    }

    /// The log-likelihood of each continuation right after `prefix` opens the
    /// assistant's reply to `messages` (the sum over its tokens), and the
    /// prompt's length. `None` when `stopped` fired.
    pub fn score(
        &mut self,
        messages: &[ChatMessage],
        prefix: &str,
        continuations: &[String],
        stopped: &dyn Fn() -> bool,
    ) -> Result<Option<(Vec<f64>, u32)>, LlmError> {
        let continuations = continuations
            .iter()
            .map(|c| self.encode(c))
            .collect::<Result<Vec<_>, _>>()?;
        if continuations.iter().any(Vec::is_empty) {
            return Err(LlmError::Internal("an empty continuation to score".into()));
        }
        let prefix = self.encode(prefix)?;
        let longest = continuations.iter().map(Vec::len).max().unwrap_or(0);
        let context = CONTEXT_TOKENS.min(MAX_SEQ_LEN);
        let mut prompt = self.prompt(messages, context - longest - prefix.len())?;
        prompt.extend(prefix);
        self.weights.clear_kv_cache();
        let Some(after_prompt) = self.feed(&prompt, 0, stopped)? else {
            return Ok(None);
        };
        let first = log_softmax(
            &after_prompt
                .to_vec1::<f32>()
                .map_err(internal("cannot read the logits"))?,
        );
        // The KV cache only grows; each continuation goes on from a copy of
        // the weights holding the prompt's (the copy shares the tensors).
        let after = self.weights.clone();
        let mut scores = Vec::with_capacity(continuations.len());
        for tokens in &continuations {
            if stopped() {
                return Ok(None);
            }
            let mut score = first
                .get(tokens[0] as usize)
                .copied()
                .unwrap_or(f64::NEG_INFINITY);
            let mut weights = after.clone();
            for (i, pair) in tokens.windows(2).enumerate() {
                let logits = forward(&mut weights, &self.device, &pair[..1], prompt.len() + i)?;
                let lp = log_softmax(
                    &logits
                        .to_vec1::<f32>()
                        .map_err(internal("cannot read the logits"))?,
                );
                score += lp
                    .get(pair[1] as usize)
                    .copied()
                    .unwrap_or(f64::NEG_INFINITY);
            }
            scores.push(score);
        }
        Ok(Some((scores, prompt.len() as u32)))
    }

    /// Feeds `tokens` from `position` in batches; the logits after the last
    /// one, or `None` when `stopped` fired between batches.
    fn feed(
        &mut self,
        tokens: &[u32],
        position: usize,
        stopped: &dyn Fn() -> bool,
    ) -> Result<Option<Tensor>, LlmError> {
        let mut logits = None;
        for (i, batch) in tokens.chunks(PROMPT_BATCH).enumerate() {
            if stopped() {
                return Ok(None);
            }
            logits = Some(forward(
                &mut self.weights,
                &self.device,
                batch,
                position + i * PROMPT_BATCH,
            )?);
        }
        logits
            .map(Some)
            .ok_or_else(|| LlmError::Internal("the prompt is empty".to_string()))
    }

    fn encode(&self, text: &str) -> Result<Vec<u32>, LlmError> {
        self.tokenizer
            .encode(text, false)
            .map(|e| e.get_ids().to_vec())
            .map_err(|e| LlmError::Internal(format!("cannot tokenize the prompt: {e}")))
    }

    /// The ChatML prompt, at most `budget` tokens: the oldest turns are dropped
    /// first, system messages are kept, and a last turn too long on its own
    /// keeps its end (the most recent words).
    fn prompt(&self, messages: &[ChatMessage], budget: usize) -> Result<Vec<u32>, LlmError> {
        let encode = |text: &str| self.encode(text);
        let turns = messages
            .iter()
            .map(|m| {
                Ok(Turn {
                    system: m.role == ChatRole::System,
                    header: encode(&chatml_header(m.role))?,
                    body: encode(&format!("{}{IM_END}\n", m.content))?,
                })
            })
            .collect::<Result<Vec<_>, LlmError>>()?;
        Ok(fit(
            turns,
            encode(&chatml_header(ChatRole::Assistant))?,
            budget,
        ))
    }
}

/// A generation's outcome: its counts, and whether it was cut short.
#[derive(Debug, Clone)]
pub struct Generated {
    pub stats: GenerationStats,
    /// Stopped by the caller; `stats` count what was done until then.
    pub cancelled: bool,
}

/// Counts and times the reply's tokens.
struct Tally {
    prompt: usize,
    started: Instant,
    generated: usize,
    first_token: Option<Instant>,
    ttft_ms: u64,
}

impl Tally {
    fn new(prompt: usize, started: Instant) -> Self {
        Self {
            prompt,
            started,
            generated: 0,
            first_token: None,
            ttft_ms: 0,
        }
    }

    fn token(&mut self) {
        self.generated += 1;
        if self.first_token.is_none() {
            self.first_token = Some(Instant::now());
            self.ttft_ms = self.started.elapsed().as_millis() as u64;
        }
    }

    fn finish(&self, cancelled: bool) -> Generated {
        let decode_secs = self.first_token.map_or(0.0, |t| t.elapsed().as_secs_f64());
        let generated = self.generated;
        Generated {
            stats: GenerationStats {
                prompt_tokens: self.prompt as u32,
                completion_tokens: generated as u32,
                time_to_first_token_ms: self.ttft_ms,
                tokens_per_second: if generated > 1 && decode_secs > 0.0 {
                    (generated - 1) as f64 / decode_secs
                } else {
                    0.0
                },
            },
            cancelled,
        }
    }
}

/// Whether the reply now contains one of `stop`, searching only text that
/// could hold one not seen before (from `checked`, less a stop's length);
/// `checked` starts past any required start, whose text never stops it.
fn ends_a_stop(produced: &str, stop: &[String], checked: &mut usize) -> bool {
    let longest = stop.iter().map(String::len).max().unwrap_or(0);
    if longest == 0 {
        return false;
    }
    let mut from = checked.saturating_sub(longest - 1);
    while !produced.is_char_boundary(from) {
        from -= 1;
    }
    *checked = produced.len();
    let tail = &produced[from..];
    stop.iter()
        .any(|s| !s.is_empty() && tail.contains(s.as_str()))
}

/// Logits for the token after `tokens`, which start at `position`.
fn forward(
    weights: &mut ModelWeights,
    device: &Device,
    tokens: &[u32],
    position: usize,
) -> Result<Tensor, LlmError> {
    let input = Tensor::new(tokens, device)
        .and_then(|t| t.unsqueeze(0))
        .map_err(internal("cannot build the input"))?;
    weights
        .forward(&input, position)
        .and_then(|t| t.squeeze(0))
        .map_err(internal("the forward pass failed"))
}

/// `<|im_start|>role\n`: opens a ChatML turn.
fn chatml_header(role: ChatRole) -> String {
    format!("<|im_start|>{}\n", role.as_str())
}

/// One message, tokenized: the header is never cut, the body may lose its start.
#[derive(Clone)]
struct Turn {
    system: bool,
    header: Vec<u32>,
    body: Vec<u32>,
}

impl Turn {
    fn len(&self) -> usize {
        self.header.len() + self.body.len()
    }
}

/// Joins `turns` and the assistant `reply` header in at most `budget` tokens.
fn fit(mut turns: Vec<Turn>, reply: Vec<u32>, budget: usize) -> Vec<u32> {
    let over = |turns: &[Turn]| {
        (turns.iter().map(Turn::len).sum::<usize>() + reply.len()).saturating_sub(budget)
    };
    // Drop the oldest conversation turns, keeping system turns and the latest one.
    while over(&turns) > 0 && turns.iter().filter(|t| !t.system).count() > 1 {
        if let Some(i) = turns.iter().position(|t| !t.system) {
            turns.remove(i);
        }
    }
    // Still too long: cut the start of the latest turn's text, then of the
    // system prompt, so what was said last survives.
    let order: Vec<usize> = (0..turns.len())
        .rev()
        .filter(|&i| !turns[i].system)
        .chain((0..turns.len()).filter(|&i| turns[i].system))
        .collect();
    for i in order {
        let cut = over(&turns).min(turns[i].body.len());
        turns[i].body.drain(..cut);
    }
    let mut prompt: Vec<u32> = turns
        .into_iter()
        .flat_map(|t| t.header.into_iter().chain(t.body))
        .collect();
    let room = budget.saturating_sub(reply.len());
    if prompt.len() > room {
        prompt.drain(..prompt.len() - room);
    }
    prompt.extend(reply);
    prompt
}

/// Rewrites the file's tensors into an in-memory GGUF, Q4_1 ones as Q8_0
/// (`ModelWeights` only loads from a GGUF reader).
fn requantize(
    content: &gguf_file::Content,
    file: &mut (impl std::io::Read + Seek),
    device: &Device,
) -> Result<Cursor<Vec<u8>>, LlmError> {
    let mut tensors = Vec::with_capacity(content.tensor_infos.len());
    for name in content.tensor_infos.keys() {
        let tensor = content
            .tensor(file, name, device)
            .map_err(internal("cannot read a tensor"))?;
        let tensor = if tensor.dtype() == GgmlDType::Q4_1 {
            let dense = tensor
                .dequantize(device)
                .map_err(internal("cannot dequantize"))?;
            QTensor::quantize(&dense, GgmlDType::Q8_0).map_err(internal("cannot quantize"))?
        } else {
            tensor
        };
        tensors.push((name.as_str(), tensor));
    }
    let metadata: Vec<_> = content
        .metadata
        .iter()
        .map(|(k, v)| (k.as_str(), v))
        .collect();
    let tensor_refs: Vec<_> = tensors.iter().map(|(n, t)| (*n, t)).collect();
    let mut out = Cursor::new(Vec::new());
    gguf_file::write(&mut out, &metadata, &tensor_refs)
        .map_err(internal("cannot write the converted GGUF"))?;
    out.rewind()
        .map_err(|e| LlmError::Internal(format!("cannot rewind: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(system: bool, header: u32, body: &[u32]) -> Turn {
        Turn {
            system,
            header: vec![header],
            body: body.to_vec(),
        }
    }

    #[test]
    fn old_turns_go_first_and_the_system_prompt_stays() {
        let turns = vec![
            turn(true, 10, &[1, 1]),
            turn(false, 20, &[2, 2]),
            turn(false, 30, &[3, 3]),
            turn(false, 40, &[4, 4, 4]),
        ];
        let all = vec![10, 1, 1, 20, 2, 2, 30, 3, 3, 40, 4, 4, 4, 9];
        assert_eq!(fit(turns.clone(), vec![9], 100), all);
        assert_eq!(
            fit(turns.clone(), vec![9], 11),
            vec![10, 1, 1, 30, 3, 3, 40, 4, 4, 4, 9]
        );
        // Only the system prompt and the latest turn are left; its start is cut.
        assert_eq!(fit(turns.clone(), vec![9], 6), vec![10, 1, 1, 40, 4, 9]);
        assert_eq!(fit(turns, vec![9], 3), vec![10, 40, 9]);
    }

    #[test]
    fn a_stop_is_found_across_pieces_and_only_once_searched() {
        let stop = vec!["\n\n".to_string()];
        let mut checked = 0;
        let mut text = String::from("CATEGORY: hot\nREASON: wants chairs\n");
        assert!(!ends_a_stop(&text, &stop, &mut checked));
        text.push_str("\nI'm sorry");
        assert!(
            ends_a_stop(&text, &stop, &mut checked),
            "split over two pieces"
        );
        assert!(!ends_a_stop("é\n", &[], &mut 0), "no stops, never");
        let mut checked = 1; // inside "é": must step back to a boundary
        assert!(!ends_a_stop("é\n", &stop, &mut checked));
    }

    #[test]
    fn a_header_is_chatml() {
        assert_eq!(chatml_header(ChatRole::User), "<|im_start|>user\n");
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::domain::text::arbitrary::text;
    use proptest::prelude::*;

    proptest! {
        /// The reply grows a piece at a time, in any script; the search
        /// for stops never cuts inside a character.
        #[test]
        fn stops_are_found_in_any_reply_without_panic(
            pieces in proptest::collection::vec(text(&["\n", "\n\n", "REASON:"]), 0..12),
            stop in proptest::collection::vec(text(&["\n", "İ", "\u{212a}"]), 0..3),
            start in 0usize..40,
        ) {
            let mut produced = String::new();
            // Where a required start ended: anywhere, even inside a character.
            let mut checked = start;
            for piece in pieces {
                produced.push_str(&piece);
                let _ = ends_a_stop(&produced, &stop, &mut checked);
            }
        }
    }
}
