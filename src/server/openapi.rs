//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, RefOr, Response};
use utoipa::{Modify, OpenApi};

use super::extract::Json;
use super::{
    account, agents, analytics, api_keys, auth, evals, events, events_all, import, ingest,
    knowledge, leads, members, platform, playground, queue, tenants, usage, webhooks, workflows,
    workspaces,
};
use crate::domain::*;

#[derive(OpenApi)]
#[openapi(
    info(title = "Switchboard API", description = "Tenants, members, API keys and audit for the Switchboard platform."),
    paths(
        auth::login, auth::logout, auth::me, auth::models, account::change_password,
        account::logout_all, account::my_invitations, account::accept_mine, account::decline_mine,
        platform::get, platform::put,
        tenants::list, tenants::create, tenants::get, tenants::update, tenants::delete, tenants::suspend, tenants::reactivate,
        members::list, members::add, members::change_role, members::remove,
        members::permissions, members::set_permissions,
        members::list_invitations, members::invite, members::revoke_invitation, members::accept,
        api_keys::list, api_keys::create, api_keys::revoke, api_keys::rotate, api_keys::audit,
        ingest::ingest,
        leads::list, leads::create, leads::get, leads::update, leads::delete, leads::add_note,
        leads::timeline, leads::bulk, events::stream, queue::list,
        events_all::stream,
        import::import_sample, import::import_csv, import::export_csv,
        agents::list, agents::create, agents::get, agents::update, agents::delete,
        agents::versions, agents::version, agents::restore, agents::set_sharing, agents::copy,
        knowledge::agent_get, knowledge::agent_set,
        knowledge::list, knowledge::create, knowledge::search, knowledge::get, knowledge::update,
        knowledge::delete,
        evals::list_sets, evals::create_set, evals::get_set, evals::update_set, evals::delete_set,
        evals::add_case, evals::update_case, evals::delete_case, evals::import,
        evals::list_runs, evals::start_run, evals::get_run, evals::cancel_run, evals::delete_run,
        evals::compare,
        workspaces::list, workspaces::create, workspaces::get, workspaces::update, workspaces::delete,
        playground::list, playground::create, playground::get, playground::delete,
        playground::send, playground::regenerate, playground::cancel, playground::save_as_lead,
        workflows::start, workflows::list, workflows::get, workflows::approve, workflows::reject,
        workflows::cancel, workflows::retry,
        analytics::tenant, analytics::platform, analytics::overview,
        webhooks::list, webhooks::create, webhooks::get, webhooks::update, webhooks::delete,
        webhooks::rotate_secret, webhooks::deliveries, webhooks::replay, webhooks::send_test,
        webhooks::delivery,
        usage::usage, usage::set_limits,
    ),
    components(schemas(Problem, FieldError, Tenant, Role, Permission, Tier, TenantStatus, WebhookPayload)),
    modifiers(&BearerAuth, &ExtractorResponses)
)]
pub struct ApiDoc;

/// The media type of every error the API answers with (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";
const PROBLEM_REF: &str = "#/components/schemas/Problem";

/// Declares the answers the shared extractors give, once for every
/// operation instead of on each handler: 401 from the session or API key,
/// 404 from a path that names nothing, 422 from a body or query string that
/// does not parse, 413 from a body over the limit. Then writes every
/// `Problem` response as `application/problem+json`, which is what
/// `problem_response` sends (utoipa would say `application/json`).
struct ExtractorResponses;

impl Modify for ExtractorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in operations.into_iter().flatten() {
                declare_extractor_responses(op);
                for response in op.responses.responses.values_mut() {
                    if let RefOr::T(response) = response {
                        problem_as_problem_json(response);
                    }
                }
            }
        }
    }
}

fn declare_extractor_responses(op: &mut Operation) {
    let authenticated = op.security.as_ref().is_some_and(|reqs| {
        serde_json::to_value(reqs)
            .ok()
            .and_then(|v| v.as_array().cloned())
            .is_some_and(|reqs| {
                reqs.iter()
                    .any(|r| r.as_object().is_some_and(|o| !o.is_empty()))
            })
    });
    let params = op.parameters.as_deref().unwrap_or_default();
    let in_path = params
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Path));
    let in_query = params
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Query));
    let body = op.request_body.is_some();
    if authenticated {
        declare(
            op,
            401,
            "Not signed in: no credentials, or a session or key that is invalid or expired.",
        );
    }
    if in_path {
        declare(
            op,
            404,
            "Nothing here: no such resource, or not one the caller may see.",
        );
    }
    if body || in_query {
        declare(
            op,
            422,
            "The request is not valid; `errors` names each failing field.",
        );
    }
    if body {
        declare(op, 413, "The request body is over the size limit.");
    }
}

/// Adds a problem response for `status` unless the handler declared one.
fn declare(op: &mut Operation, status: u16, description: &str) {
    op.responses
        .responses
        .entry(status.to_string())
        .or_insert_with(|| {
            let mut response = Response::new(description);
            response.content.insert(
                PROBLEM_JSON.to_string(),
                Content::new(Some(RefOr::Ref(utoipa::openapi::Ref::new(PROBLEM_REF)))),
            );
            RefOr::T(response)
        });
}

const UUID_PATTERN: &str =
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

/// `format` is only an annotation in JSON Schema 2020-12 (OpenAPI 3.1), and
/// the server does assert these two: each string with `format: uuid` or
/// `format: email` also gets the `pattern` the server applies, so a client
/// or a fuzzer reading the document knows what is refused. (Done on the
/// JSON: utoipa's types do not read their own output back.)
fn add_format_patterns(value: &mut serde_json::Value) {
    use crate::domain::validate::{EMAIL_MAX_CHARS, EMAIL_PATTERN, WHITE_SPACE};
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::String(pattern)) = map.get_mut("pattern") {
                *pattern = spell_out_blanks(pattern);
            }
            let format = map
                .get("format")
                .and_then(|f| f.as_str())
                .map(str::to_owned);
            if !map.contains_key("pattern") {
                match format.as_deref() {
                    Some("uuid") => {
                        map.insert("pattern".into(), UUID_PATTERN.into());
                    }
                    Some("email") => {
                        // The server's rule, not RFC 5321's: the pattern says it all.
                        map.remove("format");
                        map.insert("pattern".into(), EMAIL_PATTERN.into());
                        map.entry("maxLength").or_insert(EMAIL_MAX_CHARS.into());
                    }
                    // Request types mark an optional email the server trims
                    // (blank is none) with `IdnEmail`: no field here takes
                    // internationalised addresses, so the marker is free.
                    Some("idn-email") => {
                        map.remove("format");
                        let either = format!(r"^[{WHITE_SPACE}]*$|{EMAIL_PATTERN}");
                        map.insert("pattern".into(), either.into());
                        map.entry("maxLength").or_insert(EMAIL_MAX_CHARS.into());
                    }
                    _ => {}
                }
            }
            // A query or header parameter is absent or has a value: `null`
            // cannot be sent in either, so an `Option` there is not nullable.
            if map.get("in").is_some_and(|v| v == "query" || v == "header") {
                if let Some(ty) = map.get_mut("schema").and_then(|s| s.get_mut("type")) {
                    if let Some(types) = ty.as_array() {
                        let kept: Vec<_> = types.iter().filter(|t| *t != "null").cloned().collect();
                        *ty = match kept.as_slice() {
                            [one] => one.clone(),
                            _ => kept.into(),
                        };
                    }
                }
            }
            map.values_mut().for_each(add_format_patterns);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(add_format_patterns),
        _ => {}
    }
}

/// Request types write "blank" as `\s` and "not blank" as `\S` in their
/// patterns, meaning what the server means: Rust's White_Space, which
/// `str::trim` removes. Regex dialects disagree on `\s` (ECMA-262 counts
/// U+FEFF and not U+0085), so the document spells both out with
/// [`WHITE_SPACE`](crate::domain::validate::WHITE_SPACE). `[\s\S]`, any
/// character in every dialect, is kept.
fn spell_out_blanks(pattern: &str) -> String {
    const ANY: &str = r"[\s\S]";
    pattern
        .split(ANY)
        .map(spell_out_piece)
        .collect::<Vec<_>>()
        .join(ANY)
}

fn spell_out_piece(piece: &str) -> String {
    use crate::domain::validate::{NOT_BLANK, WHITE_SPACE};
    let mut out = String::with_capacity(piece.len());
    let mut chars = piece.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('s') if in_class => out.push_str(WHITE_SPACE),
                Some('s') => {
                    out.push('[');
                    out.push_str(WHITE_SPACE);
                    out.push(']');
                }
                Some('S') if !in_class => out.push_str(NOT_BLANK),
                // `\S` inside another class has no spelled-out form; the
                // document test refuses it.
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            '[' if !in_class => {
                in_class = true;
                out.push(c);
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn problem_as_problem_json(response: &mut Response) {
    let is_problem =
        |c: &Content| matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location == PROBLEM_REF);
    if let Some(content) = response.content.get("application/json") {
        if is_problem(content) {
            if let Some(content) = response.content.shift_remove("application/json") {
                response.content.insert(PROBLEM_JSON.to_string(), content);
            }
        }
    }
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
            components.add_security_scheme(
                "api_key",
                SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Api-Key"))),
            );
        }
    }
}

/// The document as served, built once.
pub fn document_json() -> &'static serde_json::Value {
    static DOC: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
        add_format_patterns(&mut doc);
        doc
    })
}

pub async fn document() -> Json<&'static serde_json::Value> {
    Json(document_json())
}

#[cfg(test)]
#[path = "openapi_patterns_tests.rs"]
mod patterns_tests;
