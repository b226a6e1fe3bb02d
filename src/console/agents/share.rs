//! The sharing dialog: private, global, or selective with a ticked list of
//! the tenants the user can see.

use uuid::Uuid;

use super::{AgentsView, ShareDialog};
use crate::console::action::Action;
use crate::console::app::Modal;
use crate::console::component::Cx;
use crate::console::effect::{Effect, Request};
use crate::domain::{Agent, Sharing, SharingChange};

impl AgentsView {
    pub(super) fn open_share(tenant: Uuid, a: &Agent, cx: &mut Cx<'_>) {
        // Every tenant the user can see but the owner: sharing with
        // yourself means nothing.
        let tenants = cx
            .session
            .tenants
            .loaded()
            .map(|ts| {
                ts.iter()
                    .filter(|t| t.id != tenant)
                    .map(|t| (t.id, t.name.clone(), a.shared_with.contains(&t.id)))
                    .collect()
            })
            .unwrap_or_default();
        *cx.modal = Some(Modal::Share(ShareDialog {
            tenant,
            agent: a.id,
            name: a.name.clone(),
            sharing: a.sharing,
            tenants,
            selected: 0,
            error: None,
            pending: None,
        }));
    }

    /// A key in the sharing dialog, which the App took out of its slot.
    pub(crate) fn update_share(mut d: ShareDialog, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        let modes = ShareDialog::MODES;
        let at = modes.iter().position(|m| *m == d.sharing).unwrap_or(0);
        let n = d.tenants.len();
        match action {
            Action::Cancel => return Vec::new(),
            Action::ChoiceNext => d.sharing = modes[(at + 1) % modes.len()],
            Action::ChoicePrev => d.sharing = modes[(at + modes.len() - 1) % modes.len()],
            Action::Up => d.selected = d.selected.saturating_sub(1),
            Action::Down => d.selected = (d.selected + 1).min(n.saturating_sub(1)),
            // Ticking a tenant means selective sharing, whatever was chosen.
            Action::Toggle => {
                if let Some(t) = d.tenants.get_mut(d.selected) {
                    t.2 = !t.2;
                    d.sharing = Sharing::Selective;
                }
            }
            Action::Save if d.pending.is_some() => {}
            Action::Save => {
                let ticked = d.ticked();
                if d.sharing == Sharing::Selective && ticked.is_empty() {
                    d.error =
                        Some("Tick at least one tenant with space, or choose private.".into());
                } else {
                    let effects = Self::send_share(&mut d, ticked, cx);
                    *cx.modal = Some(Modal::Share(d));
                    return effects;
                }
            }
            _ => {}
        }
        *cx.modal = Some(Modal::Share(d));
        Vec::new()
    }

    fn send_share(d: &mut ShareDialog, ticked: Vec<Uuid>, cx: &mut Cx<'_>) -> Vec<Effect> {
        let name = &d.name;
        let tenants: Vec<String> = match d.sharing {
            Sharing::Selective => ticked.iter().map(Uuid::to_string).collect(),
            _ => Vec::new(),
        };
        let ok = match d.sharing {
            Sharing::Private => format!("{name} is private again"),
            Sharing::Global => format!("Shared {name} with every tenant"),
            Sharing::Selective if tenants.len() == 1 => format!("Shared {name} with 1 tenant"),
            Sharing::Selective => format!("Shared {name} with {} tenants", tenants.len()),
        };
        let req = Request::ShareAgent {
            tenant: d.tenant.to_string(),
            id: d.agent,
            change: SharingChange {
                sharing: d.sharing,
                tenants,
            },
        };
        let fail = format!("Could not share {name}");
        let effects = cx.send_about(req, None, &ok, &fail, Some(d.tenant), Some(d.agent));
        d.pending = Some(cx.requests.last_id());
        d.error = None;
        effects
    }
}
