//! The platform overview's, analytics and audit views' part of the one keymap (see `bindings.rs`).

use crate::console::action::Action;
use crate::console::bindings::Default_;
use crate::console::keymap::Context;

pub(crate) fn bindings() -> Vec<Default_> {
    use Action as A;
    use Context as C;
    vec![
        (
            "overview",
            C::TenantList,
            &["O"],
            A::Overview,
            "platform overview",
            false,
        ),
        ("up", C::Overview, &["k", "up"], A::Up, "move up", false),
        (
            "top",
            C::Overview,
            &["g", "home"],
            A::Top,
            "first row",
            false,
        ),
        (
            "bottom",
            C::Overview,
            &["G", "end"],
            A::Bottom,
            "last row",
            false,
        ),
        (
            "down",
            C::Overview,
            &["j", "down"],
            A::Down,
            "move down",
            false,
        ),
        (
            "open",
            C::Overview,
            &["enter"],
            A::Open,
            "tenant's leads",
            true,
        ),
        (
            "sort",
            C::Overview,
            &["s"],
            A::SortNext,
            "sort column",
            true,
        ),
        (
            "sort_flip",
            C::Overview,
            &["S"],
            A::SortFlip,
            "flip order",
            true,
        ),
        (
            "refresh",
            C::Overview,
            &["ctrl-r"],
            A::Retry,
            "reload",
            false,
        ),
        ("back", C::Overview, &["esc"], A::Back, "back", true),
        (
            "period",
            C::Analytics,
            &["p"],
            A::NextPeriod,
            "7/30/90 days",
            true,
        ),
        (
            "refresh",
            C::Analytics,
            &["ctrl-r"],
            A::Retry,
            "reload",
            false,
        ),
        ("back", C::Analytics, &["esc"], A::Back, "back", true),
        ("up", C::Audit, &["k", "up"], A::Up, "move up", false),
        (
            "down",
            C::Audit,
            &["j", "down"],
            A::Down,
            "move down",
            false,
        ),
        ("top", C::Audit, &["g", "home"], A::Top, "first row", false),
        (
            "bottom",
            C::Audit,
            &["G", "end"],
            A::Bottom,
            "last row",
            false,
        ),
        ("filter", C::Audit, &["/"], A::Filter, "filter", true),
        ("refresh", C::Audit, &["ctrl-r"], A::Retry, "reload", false),
        ("back", C::Audit, &["esc"], A::Back, "back", true),
    ]
}
