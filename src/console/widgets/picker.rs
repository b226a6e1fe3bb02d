//! A short list to choose one from, centred over the pane.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, List, ListItem, ListState, StatefulWidget, Widget};

use crate::console::state::Picker;
use crate::console::text::width;
use crate::console::theme::Theme;

pub fn render(p: &Picker, area: Rect, buf: &mut Buffer, theme: &Theme, hint: Line<'_>) {
    let widest = p
        .options
        .iter()
        .map(|o| width(o))
        .chain([width(&p.title), hint.width()])
        .chain(p.note.as_deref().map(width))
        .max()
        .unwrap_or(10);
    let w = (widest as u16).saturating_add(6);
    let h = (p.options.len().max(1) as u16).saturating_add(3);
    let popup = super::centered(area, w, h);
    Clear.render(popup, buf);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(format!(" {} ", p.title), theme.title));
    let inner = block.inner(popup);
    block.render(popup, buf);
    if inner.height == 0 {
        return;
    }
    let list_area = Rect::new(inner.x, inner.y, inner.width, inner.height - 1);
    if p.options.is_empty() {
        let note = p.note.as_deref().unwrap_or("Nothing to choose from.");
        Span::styled(note, theme.dim).render(list_area, buf);
    } else {
        let items = p.options.iter().map(|o| ListItem::new(o.as_str()));
        let list = List::new(items)
            .highlight_style(theme.selected)
            .highlight_symbol("› ");
        let mut state = ListState::default().with_selected(Some(p.selected));
        StatefulWidget::render(list, list_area, buf, &mut state);
    }
    let hint_area = Rect::new(inner.x, inner.y + inner.height - 1, inner.width, 1);
    hint.render(hint_area, buf);
}
