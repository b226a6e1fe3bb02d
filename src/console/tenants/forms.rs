//! The Tenants feature's forms: what each asks, prefilled from the session,
//! and the request its save sends.

use super::{hours, profile, Detail};
use crate::console::component::Cx;
use crate::console::effect::{Effect, Request};
use crate::console::session::Session;
use crate::console::state::{FormPurpose, OpenForm};
use crate::console::theme::Theme;
use crate::console::widgets::form::{Field, Form};
use crate::console::widgets::toast::Toast;
use crate::domain::{
    NewApiKey, NewInvitation, NewMember, NewTenant, Role, Stage, StageInput, TenantPatch,
    TenantSettingsPatch, Tier, MAX_ROTATION_OVERLAP_MINUTES,
};

const TIERS: [&str; 3] = ["starter", "pro", "enterprise"];
/// A new tenant's tier: first, the platform's default (the server applies
/// its platform settings when the request names no tier).
const NEW_TIERS: [&str; 4] = ["default", "starter", "pro", "enterprise"];
/// Whether "Initialize tenant" imports the sample leads.
pub(crate) const SAMPLES: [&str; 2] = ["import", "skip"];
const ROLES: [&str; 4] = ["admin", "manager", "agent", "viewer"];

/// The forms this feature opens and saves (onboarding only opens its own).
pub(crate) fn is_tenant_form(purpose: &FormPurpose) -> bool {
    matches!(
        purpose,
        FormPurpose::NewTenant
            | FormPurpose::EditTenant(_)
            | FormPurpose::DeleteTenant(_)
            | FormPurpose::TenantSecret(_)
            | FormPurpose::TenantLimits(_)
            | FormPurpose::Invite(_)
            | FormPurpose::AddMember(_)
            | FormPurpose::ChangeRole { .. }
            | FormPurpose::NewKey(_)
            | FormPurpose::RotateKey { .. }
    )
}

pub(super) fn open(
    purpose: FormPurpose,
    session: &Session,
    detail: Option<&Detail>,
    theme: &Theme,
) -> Option<Box<OpenForm>> {
    let (title, fields) = form_fields(&purpose, session, detail)?;
    Some(Box::new(OpenForm {
        form: Form::new(title, fields, theme),
        purpose,
        pending: None,
    }))
}

/// The title and fields of a tenant form (and of onboarding's first step),
/// prefilled; `None` when what it edits is gone or the form is another's.
pub(crate) fn form_fields(
    purpose: &FormPurpose,
    session: &Session,
    detail: Option<&Detail>,
) -> Option<(String, Vec<Field>)> {
    Some(match purpose {
        FormPurpose::Onboarding => (
            "Initialize tenant".to_string(),
            vec![
                Field::line("name", "Name", ""),
                Field::choice("tier", "Tier", &TIERS, "starter"),
                Field::line_with_placeholder(
                    "business",
                    "Business",
                    "",
                    "what it does, e.g. a family dental clinic in Porto",
                ),
                Field::choice("samples", "Sample leads", &SAMPLES, SAMPLES[0]),
            ],
        ),
        FormPurpose::NewTenant => (
            "New tenant".to_string(),
            vec![
                Field::line("name", "Name", ""),
                Field::line_with_placeholder("slug", "Slug", "", "derived from the name"),
                Field::choice("tier", "Tier", &NEW_TIERS, NEW_TIERS[0]),
            ],
        ),
        FormPurpose::EditTenant(id) => {
            let t = session.tenant(*id)?;
            let s = &t.settings;
            let hours_of = s.business_hours.as_ref();
            let mut fields = vec![
                Field::line("name", "Name", &t.name),
                Field::line("slug", "Slug", &t.slug),
                Field::choice("tier", "Tier", &TIERS, t.tier.as_str()),
                Field::line("settings.sla_hours", "SLA hours", &s.sla_hours.to_string()),
                Field::line(
                    "settings.sla_at_risk_percent",
                    "At risk at %",
                    &s.sla_at_risk_percent.to_string(),
                ),
                Field::multi(
                    "settings.pipeline_stages",
                    "Stages",
                    &s.pipeline_stages
                        .iter()
                        .map(|st| st.name.as_str())
                        .collect::<Vec<_>>()
                        .join("\n"),
                ),
                Field::multi(
                    "settings.spam_keywords",
                    "Spam words",
                    &s.spam_keywords.join("\n"),
                ),
                Field::line(
                    "settings.manager_email",
                    "Manager email",
                    s.manager_email.as_deref().unwrap_or(""),
                ),
                Field::line_with_placeholder(
                    hours::TZ_FIELD,
                    "Time zone",
                    hours_of.map_or("", |h| h.time_zone.as_str()),
                    "e.g. Europe/Lisbon; empty: SLA counts every hour",
                ),
                Field::multi(
                    hours::WEEK_FIELD,
                    "Open hours",
                    &hours_of
                        .map(|h| hours::week_text(&h.week))
                        .unwrap_or_default(),
                ),
                Field::multi(
                    hours::CLOSURES_FIELD,
                    "Closed on",
                    &hours_of
                        .map(|h| hours::closures_text(&h.closures))
                        .unwrap_or_default(),
                ),
                Field::line(
                    "settings.description",
                    "Description",
                    s.description.as_deref().unwrap_or(""),
                ),
                Field::line_with_placeholder(
                    "settings.domain",
                    "Domain",
                    s.domain.as_deref().unwrap_or(""),
                    "e.g. example.com",
                ),
                Field::multi(
                    profile::CONFIG_FIELD,
                    "Config",
                    &profile::config_text(&s.config),
                ),
            ];
            // Only a platform admin may override the limit; others see it
            // on the Settings tab.
            if session.is_platform_admin() {
                let tier = t
                    .tier
                    .user_limit()
                    .map_or("unlimited".to_string(), |n| n.to_string());
                fields.push(Field::line_with_placeholder(
                    profile::USER_LIMIT_FIELD,
                    "User limit",
                    &t.user_limit_override
                        .map(|n| n.to_string())
                        .unwrap_or_default(),
                    &format!("empty: the tier's ({tier})"),
                ));
            }
            (format!("Edit {}", t.name), fields)
        }
        FormPurpose::DeleteTenant(id) => {
            let t = session.tenant(*id)?;
            (
                format!(
                    "Delete {}: every lead, agent, key and member goes, for good",
                    t.name
                ),
                vec![Field::line_with_placeholder(
                    "confirm",
                    "Type its slug",
                    "",
                    &format!("{} (to confirm)", t.slug),
                )],
            )
        }
        FormPurpose::TenantSecret(id) => {
            let t = session.tenant(*id)?;
            (
                format!(
                    "A secret of {} (write-only; an empty value removes it)",
                    t.name
                ),
                vec![
                    Field::line_with_placeholder(
                        "name",
                        "Name",
                        "",
                        "e.g. openai_api_key: that provider's key for the agents",
                    ),
                    Field::secret("value", "Value"),
                ],
            )
        }
        FormPurpose::TenantLimits(id) => {
            let t = session.tenant(*id)?;
            let usage = detail
                .filter(|d| d.tenant == *id)
                .and_then(|d| d.usage.loaded());
            super::usage::limits_fields(t, usage)
        }
        FormPurpose::Invite(_) => (
            "Invite a member".to_string(),
            vec![
                Field::line("email", "Email", ""),
                Field::choice("role", "Role", &ROLES, "agent"),
            ],
        ),
        FormPurpose::AddMember(_) => (
            "Add an existing user".to_string(),
            vec![
                Field::line("email", "Email", ""),
                Field::choice("role", "Role", &ROLES, "agent"),
            ],
        ),
        FormPurpose::ChangeRole { user, .. } => {
            let member = detail.and_then(|d| d.member(*user));
            let (email, role) = member.map_or((String::new(), "agent"), |m| {
                (m.email.clone(), m.role.as_str())
            });
            (
                format!("Role of {email}"),
                vec![Field::choice("role", "Role", &ROLES, role)],
            )
        }
        FormPurpose::NewKey(_) => {
            let labels = workspace_options(detail);
            let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
            (
                "New API key".to_string(),
                vec![
                    Field::line_with_placeholder("name", "Name", "", "e.g. website form"),
                    Field::choice("workspace_id", "Workspace", &labels, labels[0]),
                ],
            )
        }
        FormPurpose::RotateKey { id, .. } => {
            let key = detail?.keys.loaded()?.iter().find(|k| k.id == *id)?;
            (
                format!("Rotate key {}… ({})", key.prefix, key.name),
                // Empty is the default, which the placeholder says with the range.
                vec![Field::line_with_placeholder(
                    "overlap_minutes",
                    "Overlap (min)",
                    "",
                    "60; 0 revokes the old key now; 10080 (7 days) at most",
                )],
            )
        }
        _ => return None,
    })
}

/// What the rotate form offers: an hour for forms to move to the new key.
const DEFAULT_OVERLAP_MINUTES: u32 = 60;

/// The overlap typed (nothing: the default), or the message the field shows.
fn overlap_minutes(typed: &str) -> Result<u32, String> {
    let limit = MAX_ROTATION_OVERLAP_MINUTES;
    let typed = typed.trim();
    if typed.is_empty() {
        return Ok(DEFAULT_OVERLAP_MINUTES);
    }
    match typed.parse::<u32>() {
        Ok(m) if m <= limit => Ok(m),
        _ => Err(format!("must be 0 to {limit} minutes (7 days)")),
    }
}

/// The workspace choice of the new-key form: none first, then each of the
/// tenant's workspaces, in the order the detail listed them.
fn workspace_options(detail: Option<&Detail>) -> Vec<String> {
    let listed = detail.and_then(|d| d.workspaces.loaded());
    let mut labels = vec!["— none".to_string()];
    labels.extend(listed.into_iter().flatten().map(|w| w.name.clone()));
    labels
}

/// Saves a tenant form; the bool says whether it stays open.
pub(crate) fn submit(
    open: &mut OpenForm,
    detail: Option<&Detail>,
    cx: &mut Cx<'_>,
) -> (Vec<Effect>, bool) {
    let f = &open.form;
    let text = |name: &str| f.value(name).trim().to_string();
    let tier = Tier::parse(&f.value("tier"));
    let role = Role::parse(&f.value("role")).unwrap_or(Role::Agent);
    let (req, ok, fail, tenant) = match &open.purpose {
        FormPurpose::Onboarding | FormPurpose::NewTenant => {
            let slug = text("slug");
            let new = NewTenant {
                name: text("name"),
                slug: (!slug.is_empty()).then_some(slug),
                tier,
                settings: None,
                user_limit: None,
            };
            let ok = format!("Created tenant {}", new.name);
            (
                Request::CreateTenant(new),
                ok,
                "Could not create the tenant".to_string(),
                None,
            )
        }
        FormPurpose::EditTenant(id) => {
            let numbers = (
                text("settings.sla_hours").parse::<u32>(),
                text("settings.sla_at_risk_percent").parse::<u8>(),
            );
            let (sla_hours, at_risk) = match numbers {
                (Ok(h), Ok(p)) => (h, p),
                (hours, percent) => {
                    // Caught here: the server would only see a number.
                    open.form.clear_errors();
                    for (name, bad, msg) in [
                        (
                            "settings.sla_hours",
                            hours.is_err(),
                            "must be a whole number of hours",
                        ),
                        (
                            "settings.sla_at_risk_percent",
                            percent.is_err(),
                            "must be a whole number from 1 to 90",
                        ),
                    ] {
                        if let Some(field) =
                            open.form.fields.iter_mut().find(|x| x.name == name && bad)
                        {
                            field.error = Some(msg.into());
                        }
                    }
                    open.form
                        .set_failure("Fix the marked field and save again.".into());
                    return (Vec::new(), true);
                }
            };
            let hours_changed = [hours::TZ_FIELD, hours::WEEK_FIELD, hours::CLOSURES_FIELD]
                .iter()
                .any(|n| f.changed(n));
            let business_hours = if hours_changed {
                match hours::read(
                    &f.value(hours::TZ_FIELD),
                    &f.value(hours::WEEK_FIELD),
                    &f.value(hours::CLOSURES_FIELD),
                ) {
                    Ok(h) => Some(h),
                    Err((field, why)) => {
                        // Caught here, with the line: the draft stays.
                        open.form.clear_errors();
                        open.form.set_error(field, why, cx.theme);
                        open.form
                            .set_failure("Fix the marked field and save again.".into());
                        return (Vec::new(), true);
                    }
                }
            } else {
                None
            };
            // Read here, with the line: the draft stays.
            let profile_fields = (
                f.changed(profile::CONFIG_FIELD)
                    .then(|| profile::parse_config(&f.value(profile::CONFIG_FIELD)))
                    .transpose(),
                f.changed(profile::USER_LIMIT_FIELD)
                    .then(|| profile::parse_user_limit(&f.value(profile::USER_LIMIT_FIELD)))
                    .transpose(),
            );
            let (config, user_limit) = match profile_fields {
                (Ok(c), Ok(l)) => (c, l),
                (c, l) => {
                    open.form.clear_errors();
                    if let Err(why) = c {
                        open.form.set_error(profile::CONFIG_FIELD, why, cx.theme);
                    }
                    if let Err(why) = l {
                        open.form
                            .set_error(profile::USER_LIMIT_FIELD, why, cx.theme);
                    }
                    open.form
                        .set_failure("Fix the marked field and save again.".into());
                    return (Vec::new(), true);
                }
            };
            let list = |name: &str| -> Vec<String> {
                f.value(name)
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(String::from)
                    .collect()
            };
            let mut settings = TenantSettingsPatch::default();
            let mut patch = TenantPatch::default();
            if f.changed("name") {
                patch.name = Some(text("name"));
            }
            if f.changed("slug") {
                patch.slug = Some(text("slug"));
            }
            if f.changed("tier") {
                patch.tier = tier;
            }
            if f.changed("settings.sla_hours") {
                settings.sla_hours = Some(sla_hours);
            }
            if f.changed("settings.sla_at_risk_percent") {
                settings.sla_at_risk_percent = Some(at_risk);
            }
            if f.changed("settings.pipeline_stages") {
                let current = cx
                    .session
                    .tenant(*id)
                    .map(|t| t.settings.pipeline_stages.clone())
                    .unwrap_or_default();
                settings.pipeline_stages =
                    Some(stage_inputs(&current, &list("settings.pipeline_stages")));
            }
            if f.changed("settings.spam_keywords") {
                settings.spam_keywords = Some(list("settings.spam_keywords"));
            }
            if f.changed("settings.manager_email") {
                settings.manager_email = Some(text("settings.manager_email"));
            }
            // The whole value, or null to count wall-clock hours again.
            settings.business_hours = business_hours;
            if f.changed("settings.description") {
                settings.description = Some(text("settings.description"));
            }
            if f.changed("settings.domain") {
                settings.domain = Some(text("settings.domain"));
            }
            settings.config = config;
            patch.user_limit = user_limit;
            if settings != TenantSettingsPatch::default() {
                patch.settings = Some(settings);
            }
            if patch == TenantPatch::default() {
                cx.toast(Toast::info("Nothing changed"));
                return (Vec::new(), false);
            }
            let name = cx
                .session
                .tenant(*id)
                .map(|t| t.name.clone())
                .unwrap_or_default();
            let req = Request::UpdateTenant {
                tenant: id.to_string(),
                patch,
            };
            (
                req,
                format!("Saved {name}"),
                format!("Could not save {name}"),
                Some(*id),
            )
        }
        FormPurpose::DeleteTenant(id) => {
            let Some(t) = cx.session.tenant(*id).cloned() else {
                return (Vec::new(), false);
            };
            if text("confirm") != t.slug {
                // Nothing is sent until the slug is typed exactly.
                open.form.clear_errors();
                open.form.set_error(
                    "confirm",
                    format!("type {} exactly; nothing was deleted", t.slug),
                    cx.theme,
                );
                return (Vec::new(), true);
            }
            (
                Request::DeleteTenant {
                    tenant: t.id.to_string(),
                },
                format!("Deleted {}; its data is being purged", t.name),
                format!("Could not delete {}", t.name),
                Some(t.id),
            )
        }
        FormPurpose::TenantSecret(id) => {
            let Some(t) = cx.session.tenant(*id).cloned() else {
                return (Vec::new(), false);
            };
            let name = text("name");
            // The value is taken as typed (a key may not be trimmed).
            let value = f.value("value");
            let refusal = if !secret_name_ok(&name) {
                Some((
                    "name",
                    "use 1 to 64 letters, digits, _ or -, e.g. openai_api_key".to_string(),
                ))
            } else if value.is_empty() && !t.settings.secrets.contains_key(&name) {
                Some((
                    "value",
                    format!("{name} is not set, so there is nothing to remove; type a value"),
                ))
            } else {
                None
            };
            if let Some((field, why)) = refusal {
                open.form.clear_errors();
                open.form.set_error(field, why, cx.theme);
                return (Vec::new(), true);
            }
            let ok = if value.is_empty() {
                format!("Removed the secret {name} of {}", t.name)
            } else {
                format!("Set the secret {name} of {}", t.name)
            };
            let settings = TenantSettingsPatch {
                secrets: Some([(name.clone(), value)].into_iter().collect()),
                ..TenantSettingsPatch::default()
            };
            (
                Request::UpdateTenant {
                    tenant: t.id.to_string(),
                    patch: TenantPatch {
                        settings: Some(settings),
                        ..TenantPatch::default()
                    },
                },
                ok,
                format!("Could not save the secret {name}"),
                Some(t.id),
            )
        }
        FormPurpose::TenantLimits(id) => {
            let Some(t) = cx.session.tenant(*id).cloned() else {
                return (Vec::new(), false);
            };
            let limits = match super::usage::read_limits(f) {
                Ok(limits) => limits,
                Err((field, why)) => {
                    // Caught here: the draft stays, nothing is sent.
                    open.form.clear_errors();
                    open.form.set_error(field, why, cx.theme);
                    return (Vec::new(), true);
                }
            };
            (
                Request::TenantUsage(super::usage::UsageRequest::SetLimits {
                    tenant: t.id.to_string(),
                    limits,
                }),
                format!("Saved the rate limits of {}", t.name),
                format!("Could not save the rate limits of {}", t.name),
                Some(t.id),
            )
        }
        FormPurpose::Invite(t) => {
            let new = NewInvitation {
                email: text("email"),
                role,
            };
            let ok = format!("Invited {} as {}", new.email, role);
            (
                Request::Invite {
                    tenant: t.to_string(),
                    new,
                },
                ok,
                "Could not invite".into(),
                Some(*t),
            )
        }
        FormPurpose::AddMember(t) => {
            let new = NewMember {
                email: text("email"),
                role,
            };
            let ok = format!("Added {} as {}", new.email, role);
            (
                Request::AddMember {
                    tenant: t.to_string(),
                    new,
                },
                ok,
                "Could not add the member".into(),
                Some(*t),
            )
        }
        FormPurpose::ChangeRole { tenant, user } => {
            let email = detail
                .and_then(|d| d.member(*user))
                .map(|m| m.email.clone())
                .unwrap_or_default();
            let req = Request::ChangeRole {
                tenant: tenant.to_string(),
                user: *user,
                role,
            };
            (
                req,
                format!("{email} is now {role}"),
                "Could not change the role".into(),
                Some(*tenant),
            )
        }
        FormPurpose::NewKey(t) => {
            // Option 0 is "none"; option i the (i-1)th workspace listed.
            let workspace = f
                .choice_index("workspace_id")
                .and_then(|i| i.checked_sub(1))
                .and_then(|i| detail?.workspaces.loaded()?.get(i));
            let new = NewApiKey {
                name: text("name"),
                scope: None,
                workspace_id: workspace.map(|w| w.id),
            };
            let ok = match workspace {
                Some(w) => format!("Created API key {} for {}", new.name, w.name),
                None => format!("Created API key {}", new.name),
            };
            (
                Request::CreateKey {
                    tenant: t.to_string(),
                    new,
                },
                ok,
                "Could not create the key".into(),
                Some(*t),
            )
        }
        FormPurpose::RotateKey { tenant, id } => {
            let overlap = match overlap_minutes(&f.value("overlap_minutes")) {
                Ok(m) => m,
                Err(msg) => {
                    // Caught here: the server would only see a number.
                    open.form.clear_errors();
                    open.form.set_error("overlap_minutes", msg, cx.theme);
                    return (Vec::new(), true);
                }
            };
            let label = detail
                .and_then(|d| d.keys.loaded()?.iter().find(|k| k.id == *id))
                .map(|k| format!("{}… ({})", k.prefix, k.name))
                .unwrap_or_default();
            let ok = match overlap {
                0 => format!("Rotated key {label}: the old key is revoked"),
                m => format!("Rotated key {label}: the old key works {m} more minutes"),
            };
            (
                Request::RotateKey {
                    tenant: tenant.to_string(),
                    id: *id,
                    overlap_minutes: overlap,
                },
                ok,
                format!("Could not rotate key {label}"),
                Some(*tenant),
            )
        }
        _ => return (Vec::new(), true),
    };
    let effects = cx.send_about(req, None, &ok, &fail, tenant, None);
    open.pending = Some(cx.requests.last_id());
    open.form.clear_errors();
    open.form.submitting = true;
    (effects, true)
}

/// Turns the edited lines of the stages text area back into stages with ids:
/// a line naming an existing stage keeps it (reorder); a line whose text
/// changed where a stage no longer named anywhere stood is that stage
/// renamed; any other line is a new stage.
pub fn stage_inputs(current: &[Stage], lines: &[String]) -> Vec<StageInput> {
    let named: Vec<Option<&Stage>> = lines
        .iter()
        .map(|l| current.iter().find(|s| s.name.eq_ignore_ascii_case(l)))
        .collect();
    let unnamed: Vec<&Stage> = current
        .iter()
        .filter(|s| !named.iter().flatten().any(|n| n.id == s.id))
        .collect();
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let id = match named[i] {
                Some(stage) => Some(stage.id.clone()),
                None => current
                    .get(i)
                    .filter(|s| unnamed.iter().any(|u| u.id == s.id))
                    .map(|s| s.id.clone()),
            };
            StageInput {
                id,
                name: line.clone(),
            }
        })
        .collect()
}

/// The server's rule for a secret's name, checked before sending.
fn secret_name_ok(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}
