//! The analytics view's funnel: one bar per stage with how many leads
//! reached it, their share of the stage before and the median time it took,
//! then how each source's leads converted.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::console::component::Shared;
use crate::console::leads::short_duration;
use crate::console::text::{self, fit};
use crate::domain::Conversion;

/// Stage and source names are cut to this many columns.
const NAME: usize = 12;
/// The reached count, share and median columns after the bar.
const COUNT: usize = 6;
const SHARE: usize = 7;
const MEDIAN: usize = 9;

fn share(s: Option<f64>) -> String {
    s.map_or("—".into(), |s| format!("{:.0}%", s * 100.0))
}

fn median(m: Option<f64>) -> String {
    m.map_or("—".into(), |m| {
        short_duration(chrono::Duration::seconds((m * 60.0).round() as i64))
    })
}

fn right(s: &str, cols: usize) -> String {
    format!("{s:>cols$}")
}

pub(super) fn render(app: &Shared<'_>, c: &Conversion, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let width = usize::from(area.width);
    let room = width.saturating_sub(NAME + COUNT + SHARE + MEDIAN).max(1);
    let won_name = c
        .stages
        .iter()
        .find(|s| s.stage == c.won_stage)
        .map_or(c.won_stage.as_str(), |s| s.name.as_str());
    let mut lines = vec![
        Line::from(vec![
            Span::styled("Funnel ", theme.table_header),
            Span::raw(format!(
                "{} won of {} ({}): in {won_name} now",
                c.won,
                c.leads,
                share(c.won_share)
            )),
        ]),
        Line::from(Span::styled(
            format!(
                "{}{}{}{}{}",
                fit("Stage", NAME),
                fit("reached", room),
                right("", COUNT),
                right("share", SHARE),
                right("median", MEDIAN)
            ),
            theme.dim,
        )),
    ];
    let max = c.stages.first().map_or(0, |s| s.reached).max(1);
    for s in &c.stages {
        let len = (s.reached as usize * room).div_ceil(max as usize).min(room);
        lines.push(Line::from(vec![
            Span::raw(fit(text::take_width(&s.name, NAME - 1), NAME)),
            Span::styled("█".repeat(len), theme.info),
            Span::raw(" ".repeat(room - len)),
            Span::raw(right(&s.reached.to_string(), COUNT)),
            Span::raw(right(&share(s.share), SHARE)),
            Span::raw(right(&median(s.median_minutes), MEDIAN)),
        ]));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        format!(
            "{}{}{}{}",
            fit("By source", NAME),
            right("leads", COUNT),
            right("won", COUNT),
            right("won share", 11)
        ),
        theme.table_header,
    )));
    if c.by_source.is_empty() {
        lines.push(Line::from(Span::styled("nothing", theme.dim)));
    }
    for s in &c.by_source {
        lines.push(Line::from(format!(
            "{}{}{}{}",
            fit(text::take_width(&s.source, NAME - 1), NAME),
            right(&s.leads.to_string(), COUNT),
            right(&s.won.to_string(), COUNT),
            right(&share(s.won_share), 11)
        )));
    }
    Paragraph::new(lines).render(area, buf);
}
