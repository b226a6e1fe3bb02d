//! The invitations view's part of the one keymap (see `bindings.rs`).

use crate::console::action::Action;
use crate::console::bindings::{moves, Default_};
use crate::console::keymap::Context;

pub(crate) fn bindings() -> Vec<Default_> {
    use Action as A;
    use Context as C;
    let [up, down, first, last] = moves(C::MyInvitations, "first row", "last row");
    vec![
        up,
        down,
        first,
        last,
        (
            "accept",
            C::InvitationChoice,
            &["enter", "a"],
            A::Accept,
            "accept (join the tenant)",
            true,
        ),
        (
            "decline",
            C::InvitationChoice,
            &["d"],
            A::Decline,
            "decline",
            true,
        ),
        (
            "refresh",
            C::MyInvitations,
            &["ctrl-r"],
            A::Retry,
            "reload",
            false,
        ),
        ("back", C::MyInvitations, &["esc"], A::Back, "back", true),
    ]
}
