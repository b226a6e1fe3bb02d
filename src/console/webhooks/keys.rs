//! The webhooks screen's key bindings (and `w` in a tenant's detail).

use crate::console::action::Action;
use crate::console::bindings::{moves, Default_};
use crate::console::keymap::Context;

pub(crate) fn bindings() -> Vec<Default_> {
    use Action as A;
    use Context as C;
    let [up, down, first, last] = moves(C::Webhooks, "first", "last");
    let mut out: Vec<Default_> = vec![
        (
            "webhooks",
            C::TenantDetail,
            &["w"],
            A::Webhooks,
            "webhooks",
            true,
        ),
        up,
        down,
        first,
        last,
        ("open", C::Webhooks, &["enter"], A::Open, "deliveries", true),
        ("new", C::Webhooks, &["n"], A::New, "new", true),
        ("edit", C::Webhooks, &["e"], A::Edit, "edit", true),
        ("delete", C::Webhooks, &["d"], A::Remove, "delete", true),
        (
            "webhook_test",
            C::Webhooks,
            &["t"],
            A::SendTest,
            "send test",
            true,
        ),
        (
            "webhook_rotate",
            C::Webhooks,
            &["R"],
            A::RotateSecret,
            "rotate secret",
            true,
        ),
        (
            "webhook_enable",
            C::Webhooks,
            &["x"],
            A::ToggleEnabled,
            "enable/disable",
            true,
        ),
        ("reload", C::Webhooks, &["r"], A::Retry, "reload", false),
        ("back", C::Webhooks, &["esc"], A::Back, "back", true),
        (
            "open",
            C::WebhookDeliveries,
            &["enter"],
            A::Open,
            "open",
            true,
        ),
        (
            "webhook_replay",
            C::WebhookDeliveries,
            &["p"],
            A::Replay,
            "replay",
            true,
        ),
        (
            "webhook_test",
            C::WebhookDeliveries,
            &["t"],
            A::SendTest,
            "send test",
            true,
        ),
        (
            "webhook_enable",
            C::WebhookDeliveries,
            &["x"],
            A::ToggleEnabled,
            "enable/disable",
            true,
        ),
        (
            "reload",
            C::WebhookDeliveries,
            &["r"],
            A::Retry,
            "reload",
            false,
        ),
        (
            "back",
            C::WebhookDeliveries,
            &["esc"],
            A::Back,
            "back",
            true,
        ),
        (
            "webhook_replay",
            C::WebhookDelivery,
            &["p"],
            A::Replay,
            "replay",
            true,
        ),
        (
            "webhook_enable",
            C::WebhookDelivery,
            &["x"],
            A::ToggleEnabled,
            "enable/disable",
            false,
        ),
        (
            "reload",
            C::WebhookDelivery,
            &["r"],
            A::Retry,
            "reload",
            false,
        ),
        ("back", C::WebhookDelivery, &["esc"], A::Back, "back", true),
        (
            "save",
            C::WebhookEditor,
            &["ctrl-s", "enter"],
            A::Save,
            "save",
            true,
        ),
        (
            "cancel",
            C::WebhookEditor,
            &["esc"],
            A::Cancel,
            "cancel",
            true,
        ),
        (
            "next_field",
            C::WebhookEditor,
            &["tab", "down"],
            A::NextField,
            "next",
            true,
        ),
        (
            "prev_field",
            C::WebhookEditor,
            &["shift-tab", "up"],
            A::PrevField,
            "previous",
            false,
        ),
    ];
    // The lists scroll alike.
    for ctx in [C::WebhookDeliveries, C::WebhookDelivery] {
        out.push(("up", ctx, &["k", "up"], A::Up, "move up", false));
        out.push(("down", ctx, &["j", "down"], A::Down, "move down", false));
        out.push(("top", ctx, &["g", "home"], A::Top, "first", false));
    }
    out.push((
        "bottom",
        C::WebhookDeliveries,
        &["G", "end"],
        A::Bottom,
        "last",
        false,
    ));
    out
}
