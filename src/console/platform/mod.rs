//! `:platform`: the platform settings form for platform admins — the
//! defaults a new tenant starts with (tier, SLA hours, stages, business
//! hours) and whether tenant admins may delete their tenant. The settings
//! are read first; the form opens with them.

mod requests;

pub use requests::{execute, PlatformRequest, PlatformResponse};

use super::app::{App, FormPurpose, InFlight, Modal, OpenForm};
use super::effect::{Effect, Request, RequestId};
use super::tenants::hours;
use super::widgets::form::{Field, Form};
use super::widgets::toast::Toast;
use crate::api::ApiResult;
use crate::domain::platform::{PlatformSettings, TenantDefaults};
use crate::domain::Tier;

const TIERS: [&str; 3] = ["starter", "pro", "enterprise"];
const YES_NO: [&str; 2] = ["yes", "no"];
const TIER_FIELD: &str = "tenant_defaults.tier";
const SLA_FIELD: &str = "tenant_defaults.sla_hours";
const STAGES_FIELD: &str = "tenant_defaults.pipeline_stages";
const DELETE_FIELD: &str = "tenant_admins_may_delete";

/// The form's fields, prefilled from `s`.
pub(crate) fn form_fields(s: &PlatformSettings) -> (String, Vec<Field>) {
    let d = &s.tenant_defaults;
    let hours_of = d.business_hours.as_ref();
    (
        "Platform settings: new tenants' defaults, and who deletes a tenant".to_string(),
        vec![
            Field::choice(TIER_FIELD, "New tier", &TIERS, d.tier.as_str()),
            Field::line(SLA_FIELD, "New SLA hours", &d.sla_hours.to_string()),
            Field::multi(STAGES_FIELD, "New stages", &d.pipeline_stages.join("\n")),
            Field::line_with_placeholder(
                hours::TZ_FIELD,
                "New time zone",
                hours_of.map_or("", |h| h.time_zone.as_str()),
                "e.g. Europe/Lisbon; empty: SLA counts every hour",
            ),
            Field::multi(
                hours::WEEK_FIELD,
                "New open hours",
                &hours_of
                    .map(|h| hours::week_text(&h.week))
                    .unwrap_or_default(),
            ),
            Field::multi(
                hours::CLOSURES_FIELD,
                "New closed on",
                &hours_of
                    .map(|h| hours::closures_text(&h.closures))
                    .unwrap_or_default(),
            ),
            Field::choice(
                DELETE_FIELD,
                "Admins delete",
                &YES_NO,
                if s.tenant_admins_may_delete {
                    "yes"
                } else {
                    "no"
                },
            ),
        ],
    )
}

/// The settings the form holds, or the field to mark and why.
fn read(form: &Form) -> Result<PlatformSettings, (&'static str, String)> {
    let sla_hours = form
        .value(SLA_FIELD)
        .trim()
        .parse::<u32>()
        .map_err(|_| (SLA_FIELD, "must be a whole number of hours".to_string()))?;
    let business_hours = hours::read(
        &form.value(hours::TZ_FIELD),
        &form.value(hours::WEEK_FIELD),
        &form.value(hours::CLOSURES_FIELD),
    )?;
    let settings = PlatformSettings {
        tenant_defaults: TenantDefaults {
            tier: Tier::parse(&form.value(TIER_FIELD)).unwrap_or(Tier::Starter),
            sla_hours,
            pipeline_stages: form
                .value(STAGES_FIELD)
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect(),
            business_hours,
        },
        tenant_admins_may_delete: form.value(DELETE_FIELD) != "no",
    };
    // The server's own rules, said before sending.
    match settings.validate().into_iter().next() {
        Some(e) if e.field.starts_with(SLA_FIELD) => Err((SLA_FIELD, e.message)),
        Some(e) => Err((STAGES_FIELD, e.message)),
        None => Ok(settings),
    }
}

impl App {
    /// `:platform`: reads the settings, then opens the form.
    pub(crate) fn platform_command(&mut self) -> Result<Vec<Effect>, String> {
        if !self.session.is_platform_admin() {
            return Err("only platform admins see the platform settings".into());
        }
        Ok(self.send(
            Request::Platform(PlatformRequest::Load),
            None,
            "",
            "Could not read the platform settings",
        ))
    }

    /// Checks what can be checked here, then sends; a mistake is marked on
    /// its field and the draft stays.
    pub(crate) fn submit_platform(&mut self, open: &mut OpenForm) -> (Vec<Effect>, bool) {
        open.form.clear_errors();
        let settings = match read(&open.form) {
            Ok(s) => s,
            Err((field, why)) => {
                open.form.set_error(field, why, &self.theme);
                open.form
                    .set_failure("Fix the marked field and save again.".into());
                return (Vec::new(), true);
            }
        };
        let effects = self.send(
            Request::Platform(PlatformRequest::Save(Box::new(settings))),
            None,
            "Saved the platform settings",
            "Could not save the platform settings",
        );
        open.pending = Some(RequestId(self.requests.next_id));
        open.form.submitting = true;
        (effects, true)
    }

    pub(crate) fn on_platform_response(
        &mut self,
        flight: &InFlight,
        r: PlatformResponse,
    ) -> Vec<Effect> {
        match r {
            PlatformResponse::Loaded(Ok(s)) => {
                let (title, fields) = form_fields(&s);
                self.modal = Some(Modal::Form(Box::new(OpenForm {
                    form: Form::new(title, fields, &self.theme),
                    purpose: FormPurpose::PlatformSettings,
                    pending: None,
                })));
            }
            PlatformResponse::Loaded(Err(e)) => {
                self.toast(Toast::error(format!("{}: {}", flight.fail, e.message())));
            }
            PlatformResponse::Saved(r) => self.on_platform_saved(flight, r),
        }
        Vec::new()
    }

    fn on_platform_saved(&mut self, flight: &InFlight, r: ApiResult<PlatformSettings>) {
        let open = match &mut self.modal {
            Some(Modal::Form(open)) if open.purpose == FormPurpose::PlatformSettings => Some(open),
            _ => None,
        };
        match (r, open) {
            (Ok(_), open) => {
                if open.is_some() {
                    self.modal = None;
                }
                self.toast(Toast::success(flight.ok.clone()));
            }
            // The open form says what went wrong where it went wrong.
            (Err(e), Some(open)) => {
                open.pending = None;
                open.form.submitting = false;
                match e.problem() {
                    Some(p) => open.form.apply_problem(p),
                    None => open.form.set_failure(e.message()),
                }
            }
            (Err(e), None) => {
                self.toast(Toast::error(format!("{}: {}", flight.fail, e.message())));
            }
        }
    }
}
