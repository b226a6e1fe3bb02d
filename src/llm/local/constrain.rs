//! Constrained starts: the reply must begin with one of a few token
//! sequences (e.g. `CATEGORY: hot\nREASON:` … `CATEGORY: spam\nREASON:`).
//! While decoding, each next token is the likeliest one that keeps some
//! sequence possible, so the model still makes the choice; once one sequence
//! is complete, decoding goes on freely.

/// The sequences still possible and how far into them the reply is.
#[derive(Debug, Clone)]
pub struct Starts {
    sequences: Vec<Vec<u32>>,
    /// Tokens of the reply so far (all forced).
    at: usize,
    done: bool,
}

impl Starts {
    /// `None` when there is nothing to enforce.
    pub fn new(sequences: Vec<Vec<u32>>) -> Option<Self> {
        let sequences: Vec<_> = sequences.into_iter().filter(|s| !s.is_empty()).collect();
        (!sequences.is_empty()).then_some(Self {
            sequences,
            at: 0,
            done: false,
        })
    }

    /// The tokens allowed next, or `None` once decoding is free.
    pub fn allowed(&self) -> Option<Vec<u32>> {
        if self.done {
            return None;
        }
        let mut next: Vec<u32> = self.sequences.iter().map(|s| s[self.at]).collect();
        next.sort_unstable();
        next.dedup();
        Some(next)
    }

    /// Records the token taken; sequences it rules out are dropped.
    pub fn advance(&mut self, token: u32) {
        if self.done {
            return;
        }
        let at = self.at;
        self.sequences.retain(|s| s[at] == token);
        self.at += 1;
        // A complete sequence ends the constraint (none is a prefix of a
        // longer one in practice; if one were, the shorter one wins).
        self.done = self.sequences.is_empty() || self.sequences.iter().any(|s| s.len() == self.at);
    }
}

/// The index of the largest logit among `allowed`.
pub fn best_of(logits: &[f32], allowed: &[u32]) -> Option<u32> {
    allowed
        .iter()
        .copied()
        .filter(|&t| (t as usize) < logits.len())
        .max_by(|&a, &b| logits[a as usize].total_cmp(&logits[b as usize]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_tokens_are_forced_and_the_model_picks_where_they_part() {
        // "CATEGORY: " = [1, 2], then hot = 10 / warm = 11 / support = [12, 13], then "\nREASON:" = 3.
        let mut s = Starts::new(vec![
            vec![1, 2, 10, 3],
            vec![1, 2, 11, 3],
            vec![1, 2, 12, 13, 3],
        ])
        .expect("sequences");
        assert_eq!(s.allowed(), Some(vec![1]));
        s.advance(1);
        assert_eq!(s.allowed(), Some(vec![2]));
        s.advance(2);
        assert_eq!(s.allowed(), Some(vec![10, 11, 12]));
        let logits = {
            let mut l = vec![0.0f32; 20];
            l[11] = 0.5;
            l[12] = 2.0;
            l[19] = 9.0; // likelier, but not allowed
            l
        };
        let pick = best_of(&logits, &s.allowed().expect("still forcing")).expect("a token");
        assert_eq!(pick, 12);
        s.advance(pick);
        assert_eq!(s.allowed(), Some(vec![13]));
        s.advance(13);
        s.advance(3);
        assert_eq!(s.allowed(), None, "free once a sequence is complete");
    }

    #[test]
    fn nothing_to_enforce_is_none() {
        assert!(Starts::new(vec![]).is_none());
        assert!(Starts::new(vec![vec![]]).is_none());
    }
}
