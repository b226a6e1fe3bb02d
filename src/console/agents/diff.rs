//! A line diff of two prompts, for comparing agent versions: the longest
//! common subsequence of lines, with the common head and tail trimmed first
//! so a small edit to a long prompt costs little.

/// Whether a line is in both texts, only the old one, or only the new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffKind {
    Same,
    Removed,
    Added,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    pub kind: DiffKind,
    pub text: String,
}

impl DiffLine {
    fn new(kind: DiffKind, text: &str) -> Self {
        Self {
            kind,
            text: text.to_string(),
        }
    }

    /// The line as a unified diff writes it: `+`, `-` or a space, then the text.
    pub fn unified(&self) -> String {
        let mark = match self.kind {
            DiffKind::Same => ' ',
            DiffKind::Removed => '-',
            DiffKind::Added => '+',
        };
        format!("{mark} {}", self.text)
    }
}

/// Above this many cells the table would cost real memory (prompts are at
/// most 20 000 characters, so only pathological input gets here): the middle
/// is then shown as all removed, then all added, which is still correct.
const MAX_CELLS: usize = 4_000_000;

/// The lines of `old` and `new` in order, each marked same, removed or added.
pub fn line_diff(old: &str, new: &str) -> Vec<DiffLine> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (am, bm) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);

    let mut out: Vec<DiffLine> = a[..head]
        .iter()
        .map(|l| DiffLine::new(DiffKind::Same, l))
        .collect();
    if am.len().saturating_mul(bm.len()) > MAX_CELLS {
        out.extend(am.iter().map(|l| DiffLine::new(DiffKind::Removed, l)));
        out.extend(bm.iter().map(|l| DiffLine::new(DiffKind::Added, l)));
    } else {
        out.extend(lcs_diff(am, bm));
    }
    out.extend(
        a[a.len() - tail..]
            .iter()
            .map(|l| DiffLine::new(DiffKind::Same, l)),
    );
    out
}

/// The classic dynamic programme: `len[i][j]` is the LCS length of `a[i..]`
/// and `b[j..]`; walking it from the start yields the edit script, with
/// removals before additions where both are possible (as `diff` prints them).
fn lcs_diff(a: &[&str], b: &[&str]) -> Vec<DiffLine> {
    let (n, m) = (a.len(), b.len());
    let w = m + 1;
    let mut len = vec![0u32; (n + 1) * w];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            len[i * w + j] = if a[i] == b[j] {
                len[(i + 1) * w + j + 1] + 1
            } else {
                len[(i + 1) * w + j].max(len[i * w + j + 1])
            };
        }
    }
    let mut out = Vec::with_capacity(n + m);
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if a[i] == b[j] {
            out.push(DiffLine::new(DiffKind::Same, a[i]));
            i += 1;
            j += 1;
        } else if len[(i + 1) * w + j] >= len[i * w + j + 1] {
            out.push(DiffLine::new(DiffKind::Removed, a[i]));
            i += 1;
        } else {
            out.push(DiffLine::new(DiffKind::Added, b[j]));
            j += 1;
        }
    }
    out.extend(a[i..].iter().map(|l| DiffLine::new(DiffKind::Removed, l)));
    out.extend(b[j..].iter().map(|l| DiffLine::new(DiffKind::Added, l)));
    out
}
