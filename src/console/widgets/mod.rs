//! Reusable pieces drawn over or inside panes.

pub mod confirm;
pub mod dialog;
pub mod form;
pub mod help;
pub mod picker;
pub mod share;
pub mod toast;

use ratatui::layout::Rect;

/// A rectangle of at most `width`×`height`, centred in `area` and never
/// outside it, whatever the terminal size.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}
