//! Bulk lead movement: sample data, CSV import with a per-row report, and a
//! streamed CSV export that honours the list filters.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use uuid::Uuid;

use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path, Query, Session};
use super::leads::{filter_from, LeadScope};
use super::AppState;
use crate::domain::lead::{spam_reason, SampleLead};
use crate::domain::{
    secret, ImportReport, ImportRowError, Lead, LeadInput, LeadQuery, LeadSource, Permission,
    Problem, Tenant, Utm,
};
use crate::store::{Actor, IngestOutcome, LeadLimit, NewLeadRow, StoreError};

const SAMPLE: &str = include_str!("../../assets/sample-leads.json");
const MAX_IMPORT_ROWS: usize = 10_000;

/// Imports rows into one tenant and keeps the report.
struct Importer<'a> {
    state: &'a AppState,
    actor: &'a Actor,
    tenant: &'a Tenant,
    /// The tenant's SLA rule, its opening hours parsed once for all rows.
    rule: crate::domain::SlaRule,
    report: ImportReport,
}

/// One validated row and where it came from.
struct Row {
    input: LeadInput,
    source: LeadSource,
    received_at: Option<chrono::DateTime<chrono::Utc>>,
    import_key: String,
    line: u32,
}

impl Importer<'_> {
    /// Inserts one row; the limit and duplicates become report entries.
    async fn row(&mut self, row: Row) -> ApiResult<()> {
        let (state, tenant) = (self.state, self.tenant);
        let now = state.clock.now();
        let (sla_due_at, sla_at_risk_at) = self.rule.clock(row.received_at.unwrap_or(now));
        let new = NewLeadRow {
            spam_reason: spam_reason(&row.input, &tenant.settings.spam_keywords),
            stage: tenant.settings.first_stage(),
            sla_due_at,
            sla_at_risk_at,
            source: row.source,
            input: row.input,
            received_at: row.received_at,
            workspace_id: None,
            import_key: Some(row.import_key),
        };
        let limit = LeadLimit {
            tier: tenant.tier,
            limit: tenant.tier.lead_limit(),
        };
        match state
            .store
            .insert_lead(self.actor, tenant.id, new, limit, None, now)
            .await
        {
            Ok(IngestOutcome::Created(_)) => self.report.imported += 1,
            Ok(IngestOutcome::Duplicate) | Ok(IngestOutcome::Replayed(_)) => {
                self.report.duplicates += 1
            }
            Err(e @ StoreError::LimitReached { .. }) => self.report.errors.push(ImportRowError {
                row: row.line,
                field: "row".into(),
                reason: format!("not imported: {e}"),
            }),
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/leads/import-sample", tag = "leads",
    params(("tenant" = String, Path, description = "tenant id or slug")),
    responses((status = 200, body = ImportReport), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn import_sample(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
) -> ApiResult<Json<ImportReport>> {
    let scope =
        LeadScope::resolve(&state, &session, &tenant, Some(Permission::LeadsEdit), true).await?;
    let samples: Vec<SampleLead> = serde_json::from_str(SAMPLE).map_err(|e| {
        ApiError::Internal(anyhow::anyhow!("the bundled sample leads are broken: {e}"))
    })?;
    let mut importer = Importer {
        state: &state,
        actor: &scope.access.actor,
        tenant: &scope.access.tenant,
        rule: scope.access.tenant.settings.sla_rule(),
        report: ImportReport::default(),
    };
    let now = state.clock.now();
    for (i, s) in samples.into_iter().enumerate() {
        let input = s.input.normalized().map_err(|e| {
            ApiError::Internal(anyhow::anyhow!("sample lead {i} is invalid: {e:?}"))
        })?;
        let received = now - Duration::minutes(s.received_minutes_ago.max(0));
        importer
            .row(Row {
                input,
                source: s.source,
                received_at: Some(received),
                import_key: format!("sample:{i}"),
                line: i as u32 + 1,
            })
            .await?;
    }
    let report = importer.report;
    state.notify(scope.access.tenant.id);
    Ok(Json(report))
}

const KNOWN: [&str; 9] = [
    "name",
    "email",
    "phone",
    "company",
    "message",
    "source_page",
    "utm_source",
    "utm_medium",
    "utm_campaign",
];

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/leads/import", tag = "leads",
    params(("tenant" = String, Path, description = "tenant id or slug")),
    request_body(content = String, content_type = "text/csv",
        description = "header row with name, email, phone, company, message, source_page, utm_source, utm_medium, utm_campaign; other columns become fields"),
    responses((status = 200, body = ImportReport), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn import_csv(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
    body: Bytes,
) -> ApiResult<Json<ImportReport>> {
    let scope =
        LeadScope::resolve(&state, &session, &tenant, Some(Permission::LeadsEdit), true).await?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(body.as_ref());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| ApiError::field("body", format!("the CSV header cannot be read: {e}")))?
        .iter()
        .map(|h| h.to_lowercase())
        .collect();
    if !headers.iter().any(|h| h == "name") {
        return Err(ApiError::field(
            "body",
            "the CSV needs a header row with at least a `name` column (and email or phone)",
        ));
    }
    let mut importer = Importer {
        state: &state,
        actor: &scope.access.actor,
        tenant: &scope.access.tenant,
        rule: scope.access.tenant.settings.sla_rule(),
        report: ImportReport::default(),
    };
    for (i, record) in reader.records().enumerate() {
        let report = &mut importer.report;
        let line = i as u32 + 2;
        if i >= MAX_IMPORT_ROWS {
            report.errors.push(ImportRowError {
                row: line,
                field: "row".into(),
                reason: format!("only {MAX_IMPORT_ROWS} rows per import; split the file"),
            });
            break;
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                report.errors.push(ImportRowError {
                    row: line,
                    field: "row".into(),
                    reason: format!("unreadable CSV: {e}"),
                });
                continue;
            }
        };
        let input = match lead_of(&headers, &record).normalized() {
            Ok(input) => input,
            Err(errors) => {
                report
                    .errors
                    .extend(errors.into_iter().map(|e| ImportRowError {
                        row: line,
                        field: e.field,
                        reason: e.message,
                    }));
                continue;
            }
        };
        let key = format!(
            "csv:{}",
            secret::hash(&record.iter().collect::<Vec<_>>().join("\u{1f}"))
        );
        importer
            .row(Row {
                input,
                source: LeadSource::Import,
                received_at: None,
                import_key: key,
                line,
            })
            .await?;
    }
    let report = importer.report;
    if report.imported > 0 {
        state.notify(scope.access.tenant.id);
    }
    Ok(Json(report))
}

/// A cell a spreadsheet shows as text: one that would start a formula
/// (`=`, `+`, `-`, `@`, or a tab or carriage return before one) gets a
/// leading `'` (OWASP's CSV injection advice). Lead text comes from public
/// forms, and a person opens the export in a spreadsheet.
pub fn spreadsheet_safe(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// One CSV record as the lead it describes (not yet validated); columns
/// that are not lead fields become `fields`.
fn lead_of(headers: &[String], record: &csv::StringRecord) -> LeadInput {
    let get = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .and_then(|idx| record.get(idx))
            .filter(|v| !v.is_empty())
            .map(String::from)
    };
    let mut extra = serde_json::Map::new();
    for (h, v) in headers.iter().zip(record.iter()) {
        if !KNOWN.contains(&h.as_str()) && !v.is_empty() {
            extra.insert(h.clone(), serde_json::Value::String(v.to_string()));
        }
    }
    LeadInput {
        name: get("name").unwrap_or_default(),
        email: get("email"),
        phone: get("phone"),
        company: get("company"),
        message: get("message").unwrap_or_default(),
        source_page: get("source_page"),
        utm: Some(Utm {
            source: get("utm_source"),
            medium: get("utm_medium"),
            campaign: get("utm_campaign"),
            ..Utm::default()
        }),
        fields: (!extra.is_empty()).then_some(extra),
    }
}

fn csv_rows(leads: &[Lead]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    for l in leads {
        let cells = [
            l.id.to_string(),
            l.name.clone(),
            l.email.clone().unwrap_or_default(),
            l.phone.clone().unwrap_or_default(),
            l.company.clone().unwrap_or_default(),
            l.message.clone(),
            l.source.as_str().to_string(),
            l.stage.clone(),
            l.assignee_id.map(|u| u.to_string()).unwrap_or_default(),
            l.spam.to_string(),
            l.qualification
                .as_ref()
                .map(|q| q.category.clone())
                .unwrap_or_default(),
            l.created_at.to_rfc3339(),
            l.sla_due_at.to_rfc3339(),
            l.first_response_at
                .map(|t| t.to_rfc3339())
                .unwrap_or_default(),
            l.sla.as_str().to_string(),
        ];
        w.write_record(cells.map(spreadsheet_safe))?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

const EXPORT_HEADER: &str = "id,name,email,phone,company,message,source,stage,assignee_id,spam,qualification,created_at,sla_due_at,first_response_at,sla\n";

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/leads/export.csv", tag = "leads",
    params(("tenant" = String, Path, description = "tenant id or slug"), LeadQuery),
    responses((status = 200, content_type = "text/csv", description = "every matching lead, streamed"),
        (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn export_csv(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
    Query(q): Query<LeadQuery>,
) -> ApiResult<Response> {
    let scope = LeadScope::resolve(
        &state,
        &session,
        &tenant,
        Some(Permission::LeadsExport),
        false,
    )
    .await?;
    let mut filter = filter_from(&q, session.user.id, scope.only_assigned_to)?;
    filter.limit = 500;
    filter.cursor = None;
    let tenant_id: Uuid = scope.access.tenant.id;
    let header_chunk =
        futures::stream::once(async { Ok::<_, std::io::Error>(Bytes::from(EXPORT_HEADER)) });
    // Pages are read as the client consumes them: memory stays flat.
    let pages = futures::stream::unfold(Some(filter), move |next| {
        let state = state.clone();
        async move {
            let filter = next?;
            let page = match state
                .store
                .list_leads(tenant_id, &filter, state.clock.now())
                .await
            {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(error = %e, "export failed mid-stream");
                    return Some((Err(std::io::Error::other("export failed")), None));
                }
            };
            let chunk = csv_rows(&page.items)
                .map_err(std::io::Error::other)
                .map(Bytes::from);
            let following = page.next_cursor.map(|c| crate::store::LeadFilter {
                cursor: Some(c),
                ..filter
            });
            Some((chunk, following))
        }
    });
    let body = Body::from_stream(futures::StreamExt::chain(header_chunk, pages));
    let filename = format!(
        "attachment; filename=\"{}-leads.csv\"",
        scope.access.tenant.slug
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, filename),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text::arbitrary;
    use proptest::prelude::*;

    #[test]
    fn formulas_are_shown_as_text() {
        for (cell, safe) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("Ana = buyer", "Ana = buyer"),
            ("", ""),
        ] {
            assert_eq!(spreadsheet_safe(cell.to_string()), safe);
        }
    }

    proptest! {
        /// Any uploaded bytes (text with CSV's own punctuation, or not
        /// even UTF-8): rows are read or reported, never a panic.
        #[test]
        fn any_csv_upload_reads_without_panic(
            text in arbitrary::text(&[",", "\"", "\n", "\r\n", "name", "email", "phone", "message", "x@y.io"]),
            bytes in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            for body in [text.as_bytes(), &bytes[..]] {
                let mut reader = csv::ReaderBuilder::new()
                    .flexible(true)
                    .trim(csv::Trim::All)
                    .from_reader(body);
                let Ok(headers) = reader.headers() else { continue };
                let headers: Vec<String> = headers.iter().map(|h| h.to_lowercase()).collect();
                for record in reader.records().flatten() {
                    let _ = lead_of(&headers, &record).normalized();
                }
            }
        }

        #[test]
        fn a_neutralised_cell_never_starts_a_formula(cell in arbitrary::text(&["=", "+", "-", "@"])) {
            let safe = spreadsheet_safe(cell.clone());
            prop_assert!(!safe.starts_with(['=', '+', '-', '@', '\t', '\r']));
            prop_assert!(safe.ends_with(&cell));
        }
    }
}
