//! `:import sample`, `:import PATH` and `:export [PATH]`: leads in and out of
//! the current tenant. Files are read and written by the request task, never
//! by the UI loop.

use uuid::Uuid;

use crate::console::app::{App, Confirmable, InFlight, Modal, Pane};
use crate::console::effect::{Effect, Request};
use crate::console::widgets::toast::Toast;
use crate::domain::ImportReport;

impl App {
    pub(crate) fn import_command(&mut self, arg: &str) -> Result<Vec<Effect>, String> {
        let tenant = self
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
        self.pane = Pane::Leads;
        let mut out = self.sync_leads(true);
        out.extend(self.send_about(
            req,
            None,
            &format!("Imported {what} into {}", tenant.name),
            &format!("Could not import {what}"),
            Some(tenant.id),
            None,
        ));
        Ok(out)
    }

    pub(crate) fn export_command(&mut self, arg: &str) -> Result<Vec<Effect>, String> {
        let tenant = self
            .session
            .current()
            .cloned()
            .ok_or("pick a tenant first (:tenant <slug>)")?;
        let path = if arg.is_empty() {
            format!("{}-leads.csv", tenant.slug)
        } else {
            arg.to_string()
        };
        Ok(self.export_to(tenant.id, path, false))
    }

    /// Sends the export; over an existing file only when `replace` (the
    /// user said yes to replacing it).
    pub(crate) fn export_to(&mut self, tenant: Uuid, path: String, replace: bool) -> Vec<Effect> {
        // The Leads pane's filter applies when it shows this tenant.
        let query = if self.leads.tenant == Some(tenant) {
            self.leads.filter.query(None)
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
        self.send_about(req, None, "", &fail, Some(tenant), None)
    }

    /// A file is where the export would go: replace it only after a yes.
    pub(crate) fn on_export_exists(&mut self, flight: &InFlight, path: String) {
        let Some(tenant) = flight.tenant else {
            return;
        };
        self.modal = Some(Modal::Confirm {
            question: format!(
                "{path} already exists. Replace it? (No keeps it; :export NAME writes \
                 elsewhere.)"
            ),
            action: Confirmable::ReplaceExport { tenant, path },
        });
    }

    pub(crate) fn on_imported(&mut self, flight: &InFlight, report: ImportReport) -> Vec<Effect> {
        let mut text = format!("{}: {} new", flight.ok, report.imported);
        if report.duplicates > 0 {
            text.push_str(&format!(", {} already there", report.duplicates));
        }
        self.toast(Toast::success(text));
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
            self.toast(Toast::error(format!(
                "{} rows not imported: {}",
                report.errors.len(),
                lines.join("; ")
            )));
        }
        let mut out = Vec::new();
        if let Some(t) = flight.tenant {
            if self.leads.tenant == Some(t) {
                out.extend(self.load_leads());
            }
            out.extend(self.load_usage(t));
        }
        out
    }
}
