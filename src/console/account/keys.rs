//! The invitations view's part of the one keymap (see `bindings.rs`).

use crate::console::action::Action;
use crate::console::bindings::Default_;
use crate::console::keymap::Context;

pub(crate) fn bindings() -> Vec<Default_> {
    use Action as A;
    use Context as C;
    vec![
        (
            "up",
            C::MyInvitations,
            &["k", "up"],
            A::Up,
            "move up",
            false,
        ),
        (
            "down",
            C::MyInvitations,
            &["j", "down"],
            A::Down,
            "move down",
            false,
        ),
        (
            "top",
            C::MyInvitations,
            &["g", "home"],
            A::Top,
            "first row",
            false,
        ),
        (
            "bottom",
            C::MyInvitations,
            &["G", "end"],
            A::Bottom,
            "last row",
            false,
        ),
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
