//! The Knowledge view's key bindings. The changes (new, edit, delete) are
//! a context of their own, offered only to someone with `knowledge:manage`.

use crate::console::action::Action;
use crate::console::bindings::{moves, Default_};
use crate::console::keymap::Context;

pub(crate) fn bindings() -> Vec<Default_> {
    use Action as A;
    use Context as C;
    let mut out: Vec<Default_> = vec![
        ("open", C::Knowledge, &["enter"], A::Open, "open", true),
        (
            "open",
            C::KnowledgeResults,
            &["enter"],
            A::Open,
            "open document",
            true,
        ),
        ("new", C::KnowledgeManage, &["n"], A::New, "new", true),
        ("edit", C::KnowledgeManage, &["e"], A::Edit, "edit", true),
        (
            "delete",
            C::KnowledgeManage,
            &["d"],
            A::Remove,
            "delete",
            true,
        ),
        (
            "page_up",
            C::KnowledgeDocument,
            &["pgup"],
            A::PageUp,
            "page up",
            false,
        ),
        (
            "page_down",
            C::KnowledgeDocument,
            &["pgdn", "space"],
            A::PageDown,
            "page down",
            true,
        ),
        (
            "search",
            C::KnowledgeSearch,
            &["enter"],
            A::Confirm,
            "search",
            true,
        ),
        (
            "cancel",
            C::KnowledgeSearch,
            &["esc"],
            A::Cancel,
            "cancel",
            true,
        ),
    ];
    for ctx in [C::Knowledge, C::KnowledgeResults, C::KnowledgeDocument] {
        out.push(("filter", ctx, &["/"], A::Filter, "search", true));
        out.extend(moves(ctx, "first", "last"));
        out.push(("reload", ctx, &["r"], A::Retry, "reload", false));
        out.push(("back", ctx, &["esc"], A::Back, "back", true));
    }
    out
}
