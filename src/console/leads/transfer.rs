//! `:import sample`, `:import PATH` and `:export [PATH]`: leads in and out of
//! the current tenant, and the confirmed deletion of a lead. Files are read
//! and written by the request task, never by the UI loop.

use uuid::Uuid;

use super::LeadsView;
use crate::console::component::Cx;
use crate::console::effect::{Effect, Request};
use crate::console::state::{Confirmable, InFlight};
use crate::console::widgets::toast::Toast;
use crate::domain::ImportReport;

impl LeadsView {
    /// `:import`: the router shows the Leads pane when it answers `Ok`.
    pub(crate) fn import_command(
        &mut self,
        arg: &str,
        cx: &mut Cx<'_>,
    ) -> Result<Vec<Effect>, String> {
        let tenant = cx
            .session
            .current()
            .cloned()
            .ok_or("pick a tenant first (:tenant <slug>)")?;
        let (req, what) = match arg {
            "" => return Err("usage: :import sample  or  :import path/to/leads.csv".into()),
            "sample" => (
                Request::ImportSample {
                    tenant: tenant.id.to_string(),
                },
                "sample leads".to_string(),
            ),
            path => (
                Request::ImportCsv {
                    tenant: tenant.id.to_string(),
                    path: path.to_string(),
                },
                path.to_string(),
            ),
        };
        let mut out = self.follow_tenant(true, true, cx);
        out.extend(cx.send_about(
            req,
            None,
            &format!("Imported {what} into {}", tenant.name),
            &format!("Could not import {what}"),
            Some(tenant.id),
            None,
        ));
        Ok(out)
    }

    pub(crate) fn export_command(&self, arg: &str, cx: &mut Cx<'_>) -> Result<Vec<Effect>, String> {
        let tenant = cx
            .session
            .current()
            .cloned()
            .ok_or("pick a tenant first (:tenant <slug>)")?;
        let path = if arg.is_empty() {
            format!("{}-leads.csv", tenant.slug)
        } else {
            arg.to_string()
        };
        Ok(self.export_to(tenant.id, path, false, cx))
    }

    /// Sends the export; over an existing file only when `replace` (the
    /// user said yes to replacing it).
    fn export_to(&self, tenant: Uuid, path: String, replace: bool, cx: &mut Cx<'_>) -> Vec<Effect> {
        // The Leads pane's filter applies when it shows this tenant.
        let query = if self.tenant == Some(tenant) {
            self.filter.query(None)
        } else {
            Default::default()
        };
        // The reason names the file; the toast has room for little more.
        let fail = "Could not export".to_string();
        let req = Request::ExportCsv {
            tenant: tenant.to_string(),
            query,
            path,
            replace,
        };
        cx.send_about(req, None, "", &fail, Some(tenant), None)
    }

    /// A file is where the export would go: replace it only after a yes.
    pub(super) fn on_export_exists(&self, flight: &InFlight, path: String, cx: &mut Cx<'_>) {
        let Some(tenant) = flight.tenant else {
            return;
        };
        cx.confirm(
            format!(
                "{path} already exists. Replace it? (No keeps it; :export NAME writes \
                 elsewhere.)"
            ),
            Confirmable::ReplaceExport { tenant, path },
        );
    }

    pub(super) fn on_imported(
        &mut self,
        flight: &InFlight,
        report: ImportReport,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        let mut text = format!("{}: {} new", flight.ok, report.imported);
        if report.duplicates > 0 {
            text.push_str(&format!(", {} already there", report.duplicates));
        }
        cx.toast(Toast::success(text));
        if !report.errors.is_empty() {
            // Every rejected row is named; the first few fit in a toast.
            let mut lines: Vec<String> = report
                .errors
                .iter()
                .take(5)
                .map(|e| format!("line {} {}: {}", e.row, e.field, e.reason))
                .collect();
            if report.errors.len() > 5 {
                lines.push(format!("… and {} more", report.errors.len() - 5));
            }
            cx.toast(Toast::error(format!(
                "{} rows not imported: {}",
                report.errors.len(),
                lines.join("; ")
            )));
        }
        let mut out = Vec::new();
        if let Some(t) = flight.tenant {
            if self.tenant == Some(t) {
                out.extend(self.load(cx));
            }
            out.extend(cx.load_usage(t));
        }
        out
    }
}

/// Sends a confirmed destructive action of this feature; gives it back when
/// it is another's.
pub(crate) fn perform(
    what: Confirmable,
    leads: &mut LeadsView,
    cx: &mut Cx<'_>,
) -> Result<Vec<Effect>, Confirmable> {
    match what {
        Confirmable::DeleteLead { tenant, id, name } => Ok(cx.send_about(
            Request::DeleteLead {
                tenant: tenant.to_string(),
                id,
            },
            None,
            &format!("Deleted lead {name}"),
            &format!("Could not delete {name}"),
            Some(tenant),
            Some(id),
        )),
        // The API deletes one lead at a time: one request per marked lead,
        // tallied per tenant.
        Confirmable::DeleteLeads { leads: marked } => Ok(leads.send_batch(
            "deleted",
            marked,
            |tenant, id| Request::DeleteLead {
                tenant: tenant.to_string(),
                id,
            },
            cx,
        )),
        Confirmable::ReplaceExport { tenant, path } => Ok(leads.export_to(tenant, path, true, cx)),
        other => Err(other),
    }
}
