"""Schemathesis hooks for .ci/schemathesis (loaded with SCHEMATHESIS_HOOKS).

A schema-valid request may still be refused for what JSON Schema cannot say:
a value that is valid only against stored state (an opaque cursor or token
the server issued, an id in the body that must name one of the tenant's
resources, a tenant's own pipeline stages) or only together with another
field (`from` before `to`). Those refusals, and only those, are accepted
here: a 422 from the positive-data check whose every failing field is listed
below for its operation, with the reason. Any other failure, and any other
field in the same problem, still fails the run.
"""

import json
import os

import schemathesis

CURSOR = "a cursor is a token the server issued (for leads, with the sort it was issued for)"
# A (message start, reason) pair accepts the field only with that message.
EMAIL_OR_PHONE = ("give an email or a phone", "an email or a phone: a rule across two fields")

# (method, path) -> {field the problem names: why no schema can say it}
ACCEPTED = {
    ("GET", "/api/v1/analytics"): {"from": "from is not after to, and the period is at most 366 days"},
    ("GET", "/api/v1/tenants/{tenant}/usage"): {
        "from": "from is not after to, and the period is at most 366 days"
    },
    ("GET", "/api/v1/tenants/{tenant}/analytics"): {
        "from": "from is not after to, and the period is at most 366 days"
    },
    ("POST", "/api/v1/invitations/accept"): {
        "token": "an invitation token is one the server issued",
        "password": "required only when no account exists for the invited email",
    },
    ("POST", "/api/v1/tenants"): {
        "slug": "when absent, derived from the name, which may leave nothing usable",
        "settings": "pipeline stage names unique; spam keywords and secret names (item rules not yet in \
the schema); manager_email empty or an email (not yet in the schema); draft_categories unique \
names of the five categories (not yet an enum in the schema); business_hours: an IANA time zone \
name (a list no schema carries) and at least one opening range in the week; domain a host name and \
config keys `^[a-z][a-z0-9_.-]{0,63}$` (key patterns are not in the schema)",
    },
    ("PATCH", "/api/v1/tenants/{tenant}"): {
        "slug": "the platform tenant's slug cannot change",
        "settings": "pipeline stage names unique and ids known; spam keywords and secret names \
(item rules not yet in the schema); manager_email empty or an email (not yet in the schema); draft_categories unique \
names of the five categories (not yet an enum in the schema); business_hours: an IANA time zone \
name (a list no schema carries) and at least one opening range in the week; domain a host name and \
config keys `^[a-z][a-z0-9_.-]{0,63}$` (key patterns are not in the schema)",
    },
    ("PUT", "/api/v1/platform/settings"): {
        "tenant_defaults": "pipeline stage names unique, each 1 to 40 characters and not blank \
(item rules not yet in the schema); business_hours: an IANA time zone name (a list no schema \
carries) and at least one opening range in the week",
    },
    ("POST", "/api/v1/tenants/{tenant}/workflows/{id}/approve"): {"reply": "required while the run has no draft"},
    ("POST", "/api/v1/tenants/{tenant}/members"): {
        "email": ("has no account yet", "an existing account's email (others are invited)")
    },
    ("PUT", "/api/v1/tenants/{tenant}/members/{user_id}/permissions"): {
        "withdrawn": "a permission is granted or withdrawn, not both (a rule across two fields)"
    },
    ("POST", "/api/v1/tenants/{tenant}/api-keys"): {"workspace_id": "must name one of the tenant's workspaces"},
    ("PUT", "/api/v1/tenants/{tenant}/agents/{id}/sharing"): {
        "sharing": "`global` only for the platform tenant's agents",
        "tenants": "must name tenants the caller can see, other than the agent's own",
    },
    ("PUT", "/api/v1/tenants/{tenant}/agents/{id}/knowledge"): {
        "documents": "ids of the tenant's own documents, listed with mode `documents` only (a rule across two fields)"
    },
    ("POST", "/api/v1/tenants/{tenant}/workspaces"): {"agent_id": "must name an agent the tenant can use"},
    ("POST", "/api/v1/tenants/{tenant}/playground/sessions/{id}/regenerate"): {
        "lane": "must name one of the session's lanes (a single-agent session has only lane 0)",
        "version": "a version the lane's agent has; in a session comparing two agents, only with `lane` \
(a rule across stored state and two fields)",
    },
    ("PATCH", "/api/v1/tenants/{tenant}/workspaces/{id}"): {
        "agent_id": "must name an agent the tenant can use",
        "strategy_active": "needs a linked agent",
    },
    ("POST", "/api/v1/ingest/leads"): {"email": EMAIL_OR_PHONE, "fields": "at most 16 KiB of JSON"},
    ("POST", "/api/v1/tenants/{tenant}/leads"): {"email": EMAIL_OR_PHONE, "fields": "at most 16 KiB of JSON"},
    ("PATCH", "/api/v1/tenants/{tenant}/leads/{id}"): {
        "stage": "must be one of the tenant's stage ids",
        "assignee_id": "must be a member of the tenant",
    },
    ("POST", "/api/v1/tenants/{tenant}/leads/bulk"): {
        "stage": "one of the tenant's stage ids; a stage or an assignee_id must be given",
        "assignee_id": "must be a member of the tenant",
    },
    ("POST", "/api/v1/tenants/{tenant}/leads/import"): {"body": "CSV with a header row naming the columns"},
    ("POST", "/api/v1/tenants/{tenant}/leads/{id}/workflow"): {
        "agent_id": "the lead's workspace agent, or one the tenant can use"
    },
    ("POST", "/api/v1/tenants/{tenant}/playground/sessions"): {
        "agent_id": "must name an agent the tenant can use (or come from the workspace)",
        "workspace_id": "must name one of the tenant's workspaces, with an agent",
        "compare": "must name an agent the tenant can use",
    },
    ("POST", "/api/v1/tenants/{tenant}/evals/{id}/cases"): {
        "message": "exactly one of message, from_lead and from_playground (a rule across three fields)",
        "lead": "goes with message only (a rule across two fields)",
        "from_lead": "must name a lead of the tenant that the caller sees",
        "from_playground": "must name one of the lead's messages in a playground session of the tenant",
    },
    ("POST", "/api/v1/tenants/{tenant}/evals/{id}/import"): {
        "body": "CSV with a header row naming the columns",
        "cases": "at least one case (not yet minItems in the schema)",
    },
    ("POST", "/api/v1/tenants/{tenant}/evals/{id}/runs"): {
        "agent_id": "must name an agent the tenant can use",
        "version": "a version the agent has",
        "against": "another version the agent has",
    },
    ("POST", "/api/v1/tenants/{tenant}/webhooks"): {
        "url": "a public http(s) address without credentials, resolved and checked when saved",
        "events": "event kinds, `lead.*` or `*` (not yet an enum in the schema)",
    },
    ("PATCH", "/api/v1/tenants/{tenant}/webhooks/{id}"): {
        "url": "a public http(s) address without credentials, resolved and checked when saved",
        "events": "event kinds, `lead.*` or `*` (not yet an enum in the schema)",
    },
}
# Every list operation.
EVERYWHERE = {"cursor": CURSOR}


def refused_fields(response):
    """{field: message} of a validation problem, or None."""
    try:
        problem = json.loads(response.content)
    except ValueError:
        return None
    errors = problem.get("errors") if isinstance(problem, dict) else None
    fields = {e.get("field"): e.get("message") or "" for e in errors or [] if isinstance(e, dict)}
    return fields or None


def is_accepted(field, message, accepted):
    rule = accepted.get(field, accepted.get(field.split(".")[0]))
    if rule is None:
        return False
    return not isinstance(rule, tuple) or message.startswith(rule[0])


# A 5xx that is not the server's fault: the agent's model provider cannot be
# reached or is not installed here (documented as 502/503 on these operations).
UPSTREAM = {"/problems/provider-failed", "/problems/model-unavailable"}


def problem_type(response):
    try:
        return json.loads(response.content).get("type")
    except (ValueError, AttributeError):
        return None


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """Keep every failure except a 422 to valid data that only names the fields above,
    and a documented 502/503 from the model provider."""
    code = getattr(failure, "code", None)
    if code == "ST101" and response.status_code in (502, 503):
        return problem_type(response) not in UPSTREAM
    if code != "ST202" or response.status_code != 422:
        return True
    fields = refused_fields(response)
    if fields is None:
        return True
    accepted = dict(EVERYWHERE)
    accepted.update(ACCEPTED.get((case.operation.method.upper(), case.operation.path), {}))
    keep = not all(is_accepted(f, m, accepted) for f, m in fields.items())
    if not keep and os.environ.get("SCHEMATHESIS_DROPPED_LOG"):
        # What the list accepted, to review it: .ci/schemathesis prints a summary.
        with open(os.environ["SCHEMATHESIS_DROPPED_LOG"], "a", encoding="utf-8") as log:
            log.write(f"{case.operation.method.upper()} {case.operation.path} {','.join(sorted(fields))}\n")
    return keep


# The run's tenant is enterprise (no user limit). A user-limit override drawn
# for it (as low as 1) would make every later invitation and member addition
# of the run answer 402, so PATCH /tenants/{tenant} is sent without
# `user_limit`; the override is covered by tests/api/tenant_profile.rs.
@schemathesis.hook
def map_body(ctx, body):
    operation = getattr(ctx, "operation", None)
    if (
        operation is not None
        and operation.method.upper() == "PATCH"
        and operation.path == "/api/v1/tenants/{tenant}"
        and isinstance(body, dict)
    ):
        body.pop("user_limit", None)
    return body
