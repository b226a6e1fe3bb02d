//! What the Tenants feature does with its replies: update the session's
//! tenants or the open detail, close the form, and say what happened.

use super::TenantsView;
use crate::api::ApiError;
use crate::console::component::Cx;
use crate::console::effect::{Effect, Request, RequestId};
use crate::console::request::Response;
use crate::console::state::{InFlight, Load, Modal, Slot};
use crate::console::widgets::dialog::SecretDialog;
use crate::console::widgets::toast::Toast;
use crate::domain::MemberAdded;

/// The replies this feature applies (failures aside, but for the detail's,
/// which it shows in each tab).
pub(crate) fn answers(response: &Response) -> bool {
    matches!(
        response,
        Response::TenantCreated(_)
            | Response::TenantUpdated(_)
            | Response::TenantDeleted(_)
            | Response::TenantDetail(_)
            | Response::MemberAdded(_)
            | Response::RoleChanged(_)
            | Response::MemberPermissionsSaved(_)
            | Response::MemberRemoved(_)
            | Response::Invited(_)
            | Response::KeyCreated(_)
            | Response::KeyRevoked(_)
            | Response::KeyRotated(_)
            | Response::InvitationRevoked(_)
            | Response::TenantUsage(_)
    )
}

pub(super) fn apply(
    view: &mut TenantsView,
    id: RequestId,
    flight: &InFlight,
    response: Response,
    cx: &mut Cx<'_>,
) -> Vec<Effect> {
    let ok = flight.ok.clone();
    // The detail this reply is about, if it is still open.
    let detail = view
        .detail
        .as_mut()
        .filter(|d| Some(d.tenant) == flight.tenant);
    match response {
        Response::TenantUsage(r) => return super::usage::apply(detail, id, flight, r, cx),
        Response::TenantCreated(Ok(t)) => {
            cx.finish_form(id);
            cx.session.push_tenant(t.clone());
            view.select(t.id, cx.session);
            if cx.session.current_tenant.is_none() {
                cx.session.current_tenant = Some(t.id);
            }
            cx.toast(Toast::success(ok));
        }
        Response::TenantDeleted(Ok(gone)) => {
            cx.finish_form(id);
            cx.session.remove_tenant(gone.id);
            view.selected = 0;
            cx.toast(Toast::success(ok));
        }
        Response::TenantUpdated(Ok(t)) => {
            cx.finish_form(id);
            cx.session.replace_tenant(t);
            cx.toast(Toast::success(ok));
        }
        Response::TenantDetail(data) => {
            if let Some(d) = detail {
                let msg = |e: ApiError| e.message();
                d.members = data
                    .members
                    .map_or_else(|e| Load::Failed(msg(e)), Load::Loaded);
                d.invitations = data
                    .invitations
                    .map_or_else(|e| Load::Failed(msg(e)), Load::Loaded);
                d.keys = data
                    .keys
                    .map_or_else(|e| Load::Failed(msg(e)), Load::Loaded);
                d.workspaces = data
                    .workspaces
                    .map_or_else(|e| Load::Failed(msg(e)), Load::Loaded);
                d.clamp();
            }
        }
        Response::MemberAdded(Ok(MemberAdded::Invited(invitation))) => {
            cx.finish_form(id);
            let email = invitation.email.clone();
            if let Some(list) = detail.and_then(|d| d.invitations.loaded_mut()) {
                list.push(invitation);
            }
            cx.toast(Toast::success(format!(
                "Invited {email}: they join when they accept it, signed in (:invitations)"
            )));
        }
        Response::MemberAdded(Ok(MemberAdded::Added(m))) => {
            cx.finish_form(id);
            if let Some(list) = detail.and_then(|d| d.members.loaded_mut()) {
                list.push(m);
            }
            cx.toast(Toast::success(ok));
            // The header and the table show member counts.
            return cx.load_tenants();
        }
        Response::RoleChanged(Ok(m)) => {
            cx.finish_form(id);
            if let Some(list) = detail.and_then(|d| d.members.loaded_mut()) {
                if let Some(x) = list.iter_mut().find(|x| x.user_id == m.user_id) {
                    *x = m;
                }
            }
            cx.toast(Toast::success(ok));
        }
        Response::MemberPermissionsSaved(Ok(saved)) => {
            if let Some(d) = detail {
                if let Some(m) = d
                    .members
                    .loaded_mut()
                    .and_then(|list| list.iter_mut().find(|m| m.user_id == saved.user_id))
                {
                    m.role = saved.role;
                    m.grants = saved.grants.clone();
                }
                if d.checklist.as_ref().map(|c| c.user) == Some(saved.user_id) {
                    d.checklist = None;
                }
            }
            cx.toast(Toast::success(ok));
            // Your own permissions changed: `?` and the panes read them from Me.
            if cx.session.me.loaded().map(|me| me.user.id) == Some(saved.user_id) {
                return cx.send(
                    Request::Me,
                    Some(Slot::Me),
                    "",
                    "Could not load your profile",
                );
            }
        }
        Response::MemberRemoved(Ok(())) => {
            if let Some(d) = detail {
                if let Some(list) = d.members.loaded_mut() {
                    list.retain(|m| Some(m.user_id) != flight.target);
                }
            }
            if let Some(d) = &mut view.detail {
                d.clamp();
            }
            cx.toast(Toast::success(ok));
            return cx.load_tenants();
        }
        Response::Invited(Ok(created)) => {
            cx.finish_form(id);
            let email = created.invitation.email.clone();
            if let Some(list) = detail.and_then(|d| d.invitations.loaded_mut()) {
                list.push(created.invitation.clone());
            }
            *cx.modal = Some(Modal::Secret(SecretDialog {
                title: "Invitation token".into(),
                what: format!("Send this token to {email}; they accept with it."),
                secret: created.token,
                copied: false,
            }));
            cx.toast(Toast::success(ok));
        }
        Response::KeyCreated(Ok(created)) => {
            cx.finish_form(id);
            let name = created.api_key.name.clone();
            if let Some(list) = detail.and_then(|d| d.keys.loaded_mut()) {
                list.push(created.api_key.clone());
            }
            *cx.modal = Some(Modal::Secret(SecretDialog {
                title: "New API key".into(),
                what: format!("API key “{name}” (scope leads:ingest):"),
                secret: created.key,
                copied: false,
            }));
            cx.toast(Toast::success(ok));
        }
        Response::KeyRotated(Ok(rotated)) => {
            cx.finish_form(id);
            let name = rotated.api_key.name.clone();
            if let Some(list) = detail.and_then(|d| d.keys.loaded_mut()) {
                // The old key as the server now has it (expiring or revoked).
                for k in list.iter_mut().filter(|k| k.id == rotated.previous.id) {
                    *k = rotated.previous.clone();
                }
                list.push(rotated.api_key.clone());
            }
            *cx.modal = Some(Modal::Secret(SecretDialog {
                title: "Rotated API key".into(),
                what: format!("New key for “{name}”; put it in place of the old one:"),
                secret: rotated.key,
                copied: false,
            }));
            cx.toast(Toast::success(ok));
        }
        Response::KeyRevoked(Ok(())) => {
            cx.toast(Toast::success(ok));
            // The list shows when it was revoked, which only the server knows.
            if let Some(t) = detail.map(|d| d.tenant) {
                return super::detail::load(&mut view.detail, t, cx);
            }
        }
        Response::InvitationRevoked(Ok(())) => {
            if let Some(d) = detail {
                if let Some(list) = d.invitations.loaded_mut() {
                    list.retain(|i| Some(i.id) != flight.target);
                }
            }
            if let Some(d) = &mut view.detail {
                d.clamp();
            }
            cx.toast(Toast::success(ok));
        }
        // Failures were handled by the router.
        _ => {}
    }
    Vec::new()
}
