//! What the embedded model may say next: a repetition penalty and no-repeat
//! n-gram blocking over the reply so far, and the end of the turn. Pure
//! functions of the logits, so they are tested without the model.
//!
//! Why: greedy decoding on a 135M model falls into loops ("I hope you're
//! having a great day too." until the token limit). Blocking any repeated
//! 4-gram makes a loop impossible; the mild penalty keeps the model from
//! circling back to the same few words in other orders.

/// Penalty on a token already in the recent reply (CTRL's, as in
/// Hugging Face's `repetition_penalty`: a positive logit is divided by it, a
/// negative one multiplied). Tried on the playground's sample messages:
/// 1.3 made replies drift off topic, 1.0 looped.
pub const REPETITION_PENALTY: f32 = 1.15;
/// How many of the reply's last tokens the penalty looks at: long enough to
/// cover a sentence or two, short enough that "the" and "," recover.
pub const PENALTY_WINDOW: usize = 64;
/// No sequence of this many tokens appears twice in a reply.
pub const NO_REPEAT_NGRAM: usize = 4;

/// How repetition is discouraged; [`Default`] is what replies use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Repetition {
    pub penalty: f32,
    pub window: usize,
    /// 0 turns the blocking off.
    pub ngram: usize,
}

impl Default for Repetition {
    fn default() -> Self {
        Self {
            penalty: REPETITION_PENALTY,
            window: PENALTY_WINDOW,
            ngram: NO_REPEAT_NGRAM,
        }
    }
}

/// What the token just taken means for the reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// A token of the reply.
    Token(u32),
    /// The end-of-turn token (`<|im_end|>` and its kin): the reply is whole.
    EndOfTurn,
}

/// The reply's tokens so far and the rules for the next one.
#[derive(Debug, Clone)]
pub struct ReplyGuard {
    repetition: Repetition,
    /// Tokens that end the turn; never penalised nor blocked, so the model
    /// can always finish.
    end_of_turn: Vec<u32>,
    reply: Vec<u32>,
}

impl ReplyGuard {
    pub fn new(repetition: Repetition, end_of_turn: Vec<u32>) -> Self {
        Self {
            repetition,
            end_of_turn,
            reply: Vec::new(),
        }
    }

    /// Applies the penalty and the n-gram blocking to the logits of the
    /// next token.
    pub fn adjust(&self, logits: &mut [f32]) {
        let r = self.repetition;
        penalise_repeats(logits, &self.reply, r.window, r.penalty, &self.end_of_turn);
        for token in ngram_completions(&self.reply, r.ngram) {
            if self.end_of_turn.contains(&token) {
                continue;
            }
            if let Some(l) = logits.get_mut(token as usize) {
                *l = f32::NEG_INFINITY;
            }
        }
    }

    /// Records the token taken.
    pub fn accept(&mut self, token: u32) -> Next {
        if self.end_of_turn.contains(&token) {
            return Next::EndOfTurn;
        }
        self.reply.push(token);
        Next::Token(token)
    }
}

/// Makes each distinct token among the last `window` of `reply` less likely
/// (except `exempt` ones).
pub fn penalise_repeats(
    logits: &mut [f32],
    reply: &[u32],
    window: usize,
    penalty: f32,
    exempt: &[u32],
) {
    if penalty == 1.0 || window == 0 {
        return;
    }
    let recent = &reply[reply.len().saturating_sub(window)..];
    let mut seen: Vec<u32> = recent.to_vec();
    seen.sort_unstable();
    seen.dedup();
    for token in seen {
        if exempt.contains(&token) {
            continue;
        }
        if let Some(l) = logits.get_mut(token as usize) {
            *l = if *l > 0.0 { *l / penalty } else { *l * penalty };
        }
    }
}

/// The tokens that would complete an `n`-gram already in `reply`: those that
/// followed an earlier occurrence of its last `n - 1` tokens.
pub fn ngram_completions(reply: &[u32], n: usize) -> Vec<u32> {
    if n == 0 || reply.len() < n {
        return Vec::new();
    }
    if n == 1 {
        return reply.to_vec();
    }
    let tail = &reply[reply.len() - (n - 1)..];
    let mut banned: Vec<u32> = reply
        .windows(n)
        .filter(|w| &w[..n - 1] == tail)
        .map(|w| w[n - 1])
        .collect();
    banned.sort_unstable();
    banned.dedup();
    banned
}

/// Natural-log probabilities from logits.
pub fn log_softmax(logits: &[f32]) -> Vec<f64> {
    let max: f64 = logits
        .iter()
        .copied()
        .fold(f32::NEG_INFINITY, f32::max)
        .into();
    let sum: f64 = logits.iter().map(|&l| (f64::from(l) - max).exp()).sum();
    let log_sum = max + sum.ln();
    logits.iter().map(|&l| f64::from(l) - log_sum).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const END: u32 = 2;

    fn argmax(logits: &[f32]) -> u32 {
        (0..logits.len())
            .max_by(|&a, &b| logits[a].total_cmp(&logits[b]))
            .map_or(0, |i| i as u32)
    }

    /// Greedy decoding over a "model" whose logits depend only on the last
    /// token: 5 -> 6 -> 7 -> 8 -> 5 …, a loop, unless the guard steps in.
    fn looping_logits(last: u32) -> Vec<f32> {
        let mut l = vec![0.0f32; 12];
        let next = match last {
            5 => 6,
            6 => 7,
            7 => 8,
            _ => 5,
        };
        l[next as usize] = 10.0;
        l[9] = 4.0; // the second choice, always
        l[END as usize] = 1.0;
        l
    }

    #[test]
    fn the_penalty_lowers_recent_tokens_both_signs_and_spares_the_end() {
        let mut logits = vec![2.0, -2.0, 3.0, 4.0];
        penalise_repeats(&mut logits, &[0, 1, 2, 0], 10, 2.0, &[2]);
        assert_eq!(logits, vec![1.0, -4.0, 3.0, 4.0]);
        // Only the window counts.
        let mut logits = vec![2.0, 2.0];
        penalise_repeats(&mut logits, &[0, 1], 1, 2.0, &[]);
        assert_eq!(logits, vec![2.0, 1.0]);
    }

    #[test]
    fn ngram_blocking_bans_what_would_repeat_a_sequence() {
        // "a b c d a b c" -> "d" would repeat "a b c d".
        assert_eq!(ngram_completions(&[1, 2, 3, 4, 1, 2, 3], 4), vec![4]);
        assert_eq!(
            ngram_completions(&[1, 2, 3, 4, 1, 2, 5], 4),
            Vec::<u32>::new()
        );
        assert_eq!(ngram_completions(&[1, 2, 1, 3, 1], 2), vec![2, 3]);
        assert!(ngram_completions(&[1, 2], 4).is_empty());
        assert!(ngram_completions(&[1, 1, 1, 1], 0).is_empty());
    }

    #[test]
    fn a_greedy_loop_is_broken_and_no_four_gram_repeats() {
        let mut guard = ReplyGuard::new(Repetition::default(), vec![END]);
        let mut last = 5;
        guard.accept(last);
        let mut reply = vec![last];
        for _ in 0..40 {
            let mut logits = looping_logits(last);
            guard.adjust(&mut logits);
            match guard.accept(argmax(&logits)) {
                Next::Token(t) => {
                    reply.push(t);
                    last = t;
                }
                Next::EndOfTurn => break,
            }
        }
        let mut grams: Vec<&[u32]> = reply.windows(4).collect();
        let all = grams.len();
        grams.sort_unstable();
        grams.dedup();
        assert_eq!(grams.len(), all, "a 4-gram repeats in {reply:?}");
        // Without the guard the same logits loop for the whole budget.
        let mut unguarded = vec![5u32];
        for _ in 0..12 {
            unguarded.push(argmax(&looping_logits(*unguarded.last().unwrap_or(&5))));
        }
        assert_eq!(&unguarded[..5], &[5, 6, 7, 8, 5]);
    }

    #[test]
    fn the_end_of_turn_ends_the_reply_and_is_never_blocked() {
        let mut guard = ReplyGuard::new(
            Repetition {
                penalty: 3.0,
                window: 8,
                ngram: 1,
            },
            vec![END, 0],
        );
        assert_eq!(guard.accept(4), Next::Token(4));
        let mut logits = vec![0.5, 0.0, 5.0, 0.0, 6.0];
        guard.adjust(&mut logits);
        // 4 is banned by unigram blocking, the end of turn keeps its logit.
        assert_eq!(logits[4], f32::NEG_INFINITY);
        assert_eq!(logits[END as usize], 5.0);
        assert_eq!(guard.accept(argmax(&logits)), Next::EndOfTurn);
        assert_eq!(guard.accept(0), Next::EndOfTurn, "any end-of-turn token");
    }

    #[test]
    fn log_softmax_is_normalised_and_survives_blocked_tokens() {
        let lp = log_softmax(&[1.0, 2.0, f32::NEG_INFINITY, 3.0]);
        let total: f64 = lp.iter().map(|l| l.exp()).sum();
        assert!((total - 1.0).abs() < 1e-9, "{lp:?}");
        assert_eq!(lp[2], f64::NEG_INFINITY);
        assert!(lp[3] > lp[1] && lp[1] > lp[0]);
    }
}
