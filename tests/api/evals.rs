//! Prompt evaluations: eval sets, cases and imports (all or none), runs of
//! a set against two versions of an agent on a scripted OpenAI-compatible
//! server whose answers depend on the prompt (so the versions differ,
//! deterministically), cancel, isolation and permissions; and one run on
//! the real local model when its weights are installed.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use switchboard::api::Client;
use switchboard::domain::eval::{
    Category, CheckKind, EvalCaseInput, EvalExpectations, EvalImport, EvalLead, EvalRunDetail,
    EvalRunStatus, NewEvalCase, NewEvalRun, NewEvalSet, Phrase, PlaygroundMessageRef,
};
use switchboard::domain::{AgentPatch, NewAgent, PlaygroundRole, Role, Tier};
use switchboard::llm::{LlmConfig, LocalConfig, ProviderConfig, ProviderKind, Providers};
use switchboard::server::clock::SystemClock;
use switchboard::server::ServerSettings;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use uuid::Uuid;

use crate::common::{spawn_full, spawn_with_providers, TestApp};
use crate::research::read_body;

/// What version 2's prompt adds: the scripted model then names the hours.
const HOURS_RULE: &str = "Always give our opening hours.";

/// An OpenAI-compatible server answering like a tiny deterministic model:
/// a qualify request with the category its message calls for (price: hot,
/// unsubscribe: spam, else warm); a draft with the hours when the agent's
/// prompt asks for them, else a thank-you. A message with "slowly" is
/// answered after 400 ms.
pub(crate) async fn upstream() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(answer(socket));
        }
    });
    base_url
}

async fn answer(mut socket: TcpStream) {
    let body = read_body(&mut socket).await;
    let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let content = |role: &str| {
        request["messages"]
            .as_array()
            .and_then(|ms| ms.iter().find(|m| m["role"] == role))
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default()
            .to_lowercase()
    };
    let (system, user) = (content("system"), content("user"));
    if user.contains("slowly") {
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    let text = if system.contains("category:") {
        let category = if user.contains("price") {
            "hot"
        } else if user.contains("unsubscribe") {
            "spam"
        } else {
            "warm"
        };
        format!("CATEGORY: {category}\nREASON: scripted")
    } else if system.contains(&HOURS_RULE.to_lowercase()) {
        "Thanks! We are open Monday to Friday, 8:00 to 18:00.".to_string()
    } else {
        "Thanks for your message, we will get back to you.".to_string()
    };
    let mut out = String::from(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n",
    );
    for piece in text.split_inclusive(' ') {
        out.push_str(&format!(
            "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":{piece:?}}}}}]}}\n\n"
        ));
    }
    out.push_str(
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":40,\"completion_tokens\":9}}\n\n",
    );
    out.push_str("data: [DONE]\n\n");
    let _ = socket.write_all(out.as_bytes()).await;
    let _ = socket.shutdown().await;
}

pub(crate) fn providers(base_url: &str) -> Providers {
    let mut cfg = LlmConfig {
        local: LocalConfig {
            enabled: false,
            model_path: None,
            threads: None,
        },
        ..Default::default()
    };
    cfg.providers.insert(
        "up".into(),
        ProviderConfig {
            kind: ProviderKind::Openai,
            base_url: base_url.into(),
            api_key_env: None,
            models: vec!["tiny".into()],
            timeout_secs: 5,
        },
    );
    Providers::from_config(&cfg, std::path::Path::new("/nonexistent")).unwrap()
}

async fn fixture() -> TestApp {
    let base = upstream().await;
    let settings = ServerSettings {
        workflow_workers: 0,
        ..ServerSettings::default()
    };
    let app = spawn_full(settings, Arc::new(SystemClock), providers(&base)).await;
    app.tenant("Open Arms", Tier::Pro).await;
    app
}

/// "Front desk" at version 1 (no hours) and 2 (the hours rule).
async fn two_versions(client: &Client, tenant: &str) -> Uuid {
    let new = NewAgent {
        name: "Front desk".into(),
        system_prompt: "You answer a dental clinic's new patients.".into(),
        model: "up/tiny".into(),
        ..Default::default()
    };
    let agent = client.create_agent(tenant, &new).await.unwrap();
    let patch = AgentPatch {
        system_prompt: Some(format!("{} {HOURS_RULE}", new.system_prompt)),
        ..Default::default()
    };
    client.update_agent(tenant, agent.id, &patch).await.unwrap();
    agent.id
}

fn case(message: &str, expect: EvalExpectations) -> EvalCaseInput {
    EvalCaseInput {
        message: message.into(),
        lead: EvalLead::default(),
        expect,
    }
}

fn phrases(ps: &[&str]) -> Vec<Phrase> {
    ps.iter().map(|p| Phrase(p.to_string())).collect()
}

/// Three cases: the price question wants the hours (only version 2 gives
/// them), the Monday question passes either way, the spam gets no reply.
fn dental_cases() -> Vec<EvalCaseInput> {
    vec![
        case(
            "What is the price of a cleaning?",
            EvalExpectations {
                category: Some(Category::Hot),
                must_contain: phrases(&["monday  TO friday"]),
                ..Default::default()
            },
        ),
        case(
            "Do you see new patients on Mondays?",
            EvalExpectations {
                category: Some(Category::Warm),
                must_not_contain: phrases(&["discount"]),
                max_chars: Some(120),
                ..Default::default()
            },
        ),
        case(
            "unsubscribe me from everything",
            EvalExpectations {
                category: Some(Category::Spam),
                must_not_contain: phrases(&["Monday"]),
                ..Default::default()
            },
        ),
    ]
}

async fn wait_done(client: &Client, tenant: &str, set: Uuid, run: Uuid) -> EvalRunDetail {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let detail = client.eval_run(tenant, set, run).await.unwrap();
        if detail.run.status.is_finished() {
            return detail;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the run did not finish: {:?}",
            detail.run
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_run_of_two_versions_judges_each_expectation_and_shows_where_they_differ() {
    let app = fixture().await;
    let c = &app.admin;
    let agent = two_versions(c, "open-arms").await;
    let new = NewEvalSet {
        name: "Dental FAQ".into(),
        cases: dental_cases(),
        ..Default::default()
    };
    let set = c.create_eval_set("open-arms", &new).await.unwrap();
    assert_eq!(set.cases.len(), 3);
    let ids: Vec<Uuid> = set.cases.iter().map(|c| c.id).collect();

    let start = NewEvalRun {
        agent_id: agent,
        version: Some(2),
        against: Some(1),
    };
    let started = c
        .start_eval_run("open-arms", set.set.id, &start)
        .await
        .unwrap();
    assert_eq!(started.status, EvalRunStatus::Running);
    assert_eq!(started.progress.total, 6);
    let detail = wait_done(c, "open-arms", set.set.id, started.id).await;
    let run = &detail.run;
    assert_eq!(run.status, EvalRunStatus::Completed, "{run:?}");
    assert_eq!((run.progress.done, run.progress.total), (6, 6));
    assert_eq!(run.summary[0].version, 2);
    assert_eq!((run.summary[0].passed, run.summary[0].pass_rate), (3, 1.0));
    assert_eq!((run.summary[1].version, run.summary[1].passed), (1, 2));
    assert_eq!(
        detail.differing,
        vec![ids[0]],
        "only the price case differs"
    );

    let result = |case: Uuid, lane: u8| {
        detail
            .results
            .iter()
            .find(|r| r.case_id == case && r.lane == lane)
            .unwrap()
    };
    // Version 1 misses the hours: the category holds, the phrase fails.
    let v1 = result(ids[0], 1);
    assert_eq!(v1.category.as_deref(), Some("hot"));
    assert!(!v1.passed);
    let failing: Vec<_> = v1.checks.iter().filter(|c| !c.passed).collect();
    assert_eq!(failing.len(), 1, "{:?}", v1.checks);
    assert_eq!(failing[0].kind, CheckKind::Contains);
    assert_eq!(failing[0].detail, "missing from the reply");
    let v2 = result(ids[0], 0);
    assert!(v2.passed && v2.reply.contains("Monday to Friday"), "{v2:?}");
    assert!(v2.prompt_tokens >= 40 && v2.completion_tokens > 0, "{v2:?}");
    // The spam lead gets no draft (the default policy drafts hot and warm).
    let spam = result(ids[2], 0);
    assert_eq!(spam.category.as_deref(), Some("spam"));
    assert!(
        !spam.drafted && spam.reply.is_empty() && spam.passed,
        "{spam:?}"
    );
    assert_eq!(run.draft_categories, ["hot", "warm"]);

    // Kept: a later run of version 1 alone compares with this one.
    let only_v1 = NewEvalRun {
        agent_id: agent,
        version: Some(1),
        against: None,
    };
    let later = c
        .start_eval_run("open-arms", set.set.id, &only_v1)
        .await
        .unwrap();
    let later = wait_done(c, "open-arms", set.set.id, later.id).await;
    assert_eq!(later.run.summary.len(), 1);
    assert!(later.differing.is_empty());
    let runs = c.eval_runs("open-arms", set.set.id).await.unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].id, later.run.id, "newest first");
    assert_eq!(runs[1].summary[1].passed, 2, "the list carries the summary");
    let cmp = c
        .compare_eval_runs("open-arms", set.set.id, run.id, later.run.id)
        .await
        .unwrap();
    assert_eq!((cmp.left.version, cmp.right.version), (2, 1));
    let differs: Vec<Uuid> = cmp
        .cases
        .iter()
        .filter(|c| c.differs)
        .map(|c| c.case_id)
        .collect();
    assert_eq!(differs, vec![ids[0]]);

    // Progress went to the tenant's event stream, and the end.
    let tenant = app.admin.tenant("open-arms").await.unwrap().id;
    let events = app.store.events_after(tenant, 0, 1000).await.unwrap();
    let kinds = |k: &str| events.iter().filter(|e| e.kind == k).count();
    assert_eq!(kinds("eval.progress"), 9);
    assert_eq!(kinds("eval.finished"), 2);

    // A finished run cannot be cancelled; it can be deleted.
    let e = c
        .cancel_eval_run("open-arms", set.set.id, run.id)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(409), "{e:?}");
    c.delete_eval_run("open-arms", set.set.id, run.id)
        .await
        .unwrap();
    assert_eq!(c.eval_runs("open-arms", set.set.id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_run_is_cancelled_between_cases_and_keeps_what_it_ran() {
    let app = fixture().await;
    let c = &app.admin;
    let agent = two_versions(c, "open-arms").await;
    let slow: Vec<EvalCaseInput> = (0..6)
        .map(|i| case(&format!("Answer slowly, please ({i})"), Default::default()))
        .collect();
    let new = NewEvalSet {
        name: "Slow".into(),
        cases: slow,
        ..Default::default()
    };
    let set = c.create_eval_set("open-arms", &new).await.unwrap().set;
    let start = NewEvalRun {
        agent_id: agent,
        ..Default::default()
    };
    let run = c.start_eval_run("open-arms", set.id, &start).await.unwrap();
    // Deleting the set while it runs is refused.
    let e = c.delete_eval_set("open-arms", set.id).await.unwrap_err();
    assert_eq!(e.status(), Some(409), "{e:?}");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while c
        .eval_run("open-arms", set.id, run.id)
        .await
        .unwrap()
        .run
        .progress
        .done
        == 0
    {
        assert!(std::time::Instant::now() < deadline, "no case finished");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cancelled = c
        .cancel_eval_run("open-arms", set.id, run.id)
        .await
        .unwrap();
    assert_eq!(cancelled.status, EvalRunStatus::Cancelled);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after = c.eval_run("open-arms", set.id, run.id).await.unwrap();
    assert_eq!(after.run.status, EvalRunStatus::Cancelled);
    let done = after.run.progress.done;
    assert!((1..6).contains(&done), "{:?}", after.run.progress);
    assert_eq!(after.results.len() as u32, done);
    assert_eq!(after.run.summary[0].pending, 6 - done);
    c.delete_eval_set("open-arms", set.id).await.unwrap();
}

#[tokio::test]
async fn cases_come_from_csv_json_a_lead_or_a_playground_message_and_a_bad_import_changes_nothing()
{
    let app = fixture().await;
    let c = &app.admin;
    let new = NewEvalSet {
        name: "Imports".into(),
        ..Default::default()
    };
    let set = c.create_eval_set("open-arms", &new).await.unwrap().set;
    let same = NewEvalSet {
        name: "IMPORTS".into(),
        ..Default::default()
    };
    let e = c.create_eval_set("open-arms", &same).await.unwrap_err();
    assert_eq!(e.status(), Some(409), "names are unique, any case: {e:?}");

    let csv = "message,name,category,must_contain,max_chars\n\
               \"Hi, openings next week?\",Ana,hot,Monday|Friday,300\n\
               Just looking,,cold,,\n";
    let report = c
        .import_eval_csv("open-arms", set.id, csv.into())
        .await
        .unwrap();
    assert_eq!(report.imported, 2);
    assert_eq!(report.cases[0].expect.must_contain.len(), 2);
    assert_eq!(report.cases[1].position, 2);

    // One bad row: 422 naming each, and nothing imported.
    let bad = "message,category,max_chars\nFine,warm,10\n,lukewarm,ten\n";
    let e = c
        .import_eval_csv("open-arms", set.id, bad.into())
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(422), "{e:?}");
    let fields: Vec<&str> = e
        .problem()
        .unwrap()
        .errors
        .iter()
        .map(|f| f.field.as_str())
        .collect();
    assert_eq!(
        fields,
        ["row 3.category", "row 3.max_chars", "row 3.message"]
    );
    let json = EvalImport {
        cases: vec![
            case("Good one", Default::default()),
            case(" ", Default::default()),
        ],
    };
    let e = c
        .import_eval_json("open-arms", set.id, &json)
        .await
        .unwrap_err();
    assert_eq!(e.problem().unwrap().errors[0].field, "row 2.message");
    let detail = c.eval_set("open-arms", set.id).await.unwrap();
    assert_eq!(detail.cases.len(), 2, "a rejected import changed the set");
    assert_eq!(detail.set.cases, 2);

    // From a lead: its message and sender.
    let lead = c
        .create_lead("open-arms", &crate::common::lead("Ana Silva"))
        .await
        .unwrap();
    let from_lead = NewEvalCase {
        from_lead: Some(lead.id),
        expect: EvalExpectations {
            category: Some(Category::Hot),
            ..Default::default()
        },
        ..Default::default()
    };
    let made = c
        .add_eval_case("open-arms", set.id, &from_lead)
        .await
        .unwrap();
    assert_eq!(made.message, lead.message);
    assert_eq!(made.lead.name.as_deref(), Some("Ana Silva"));
    assert_eq!(made.position, 3);

    // From a playground message (the lead's, not the agent's reply).
    let agent = two_versions(c, "open-arms").await;
    let session =
        crate::playground::session(c, "open-arms", crate::playground::with_agent(agent)).await;
    crate::playground::drain(
        c.send_playground_message("open-arms", session, "Can I book for Saturday?")
            .await
            .unwrap(),
    )
    .await;
    let transcript = c.playground_session("open-arms", session).await.unwrap();
    let pick = |role| {
        transcript
            .messages
            .iter()
            .find(|m| m.role == role)
            .unwrap()
            .id
    };
    let at = |message_id| NewEvalCase {
        from_playground: Some(PlaygroundMessageRef {
            session_id: session,
            message_id,
        }),
        ..Default::default()
    };
    let made = c
        .add_eval_case("open-arms", set.id, &at(pick(PlaygroundRole::User)))
        .await
        .unwrap();
    assert_eq!(made.message, "Can I book for Saturday?");
    let e = c
        .add_eval_case("open-arms", set.id, &at(pick(PlaygroundRole::Assistant)))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(422), "a reply is no lead message: {e:?}");
    let both = NewEvalCase {
        message: Some("Hi".into()),
        from_lead: Some(lead.id),
        ..Default::default()
    };
    let e = c
        .add_eval_case("open-arms", set.id, &both)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(422));
    assert_eq!(
        c.eval_set("open-arms", set.id).await.unwrap().cases.len(),
        4
    );
}

#[tokio::test]
async fn another_tenant_sees_nothing_and_each_role_does_what_its_permissions_say() {
    let app = fixture().await;
    let c = &app.admin;
    let other = app.tenant("Beta", Tier::Pro).await;
    let open_arms = app.admin.tenant("open-arms").await.unwrap();
    let agent = two_versions(c, "open-arms").await;
    let new = NewEvalSet {
        name: "FAQ".into(),
        cases: vec![case("Do you open on Mondays?", Default::default())],
        ..Default::default()
    };
    let set = c.create_eval_set("open-arms", &new).await.unwrap().set;

    // Another tenant's admin: 404 through its own tenant and through ours.
    let (_, beta) = app.member(&other, "admin@beta.test", Role::Admin).await;
    for tenant in ["beta", "open-arms"] {
        let e = beta.eval_set(tenant, set.id).await.unwrap_err();
        assert_eq!(e.status(), Some(404), "{tenant}: {e:?}");
        let e = beta
            .start_eval_run(
                tenant,
                set.id,
                &NewEvalRun {
                    agent_id: agent,
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
        assert_eq!(e.status(), Some(404), "{tenant}: {e:?}");
    }
    assert!(beta.eval_sets("beta").await.unwrap().is_empty());

    let (_, viewer) = app.member(&open_arms, "viewer@oa.test", Role::Viewer).await;
    let (_, member) = app.member(&open_arms, "agent@oa.test", Role::Agent).await;
    let run = NewEvalRun {
        agent_id: agent,
        ..Default::default()
    };
    // Viewers read, and nothing else.
    assert_eq!(viewer.eval_sets("open-arms").await.unwrap().len(), 1);
    let e = viewer
        .start_eval_run("open-arms", set.id, &run)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(403), "{e:?}");
    let e = viewer.create_eval_set("open-arms", &new).await.unwrap_err();
    assert_eq!(e.status(), Some(403), "{e:?}");
    // Agents run (their playground's model) but do not keep sets.
    let e = member
        .add_eval_case(
            "open-arms",
            set.id,
            &NewEvalCase {
                message: Some("Hi".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(403), "{e:?}");
    let started = member
        .start_eval_run("open-arms", set.id, &run)
        .await
        .unwrap();
    let done = wait_done(&member, "open-arms", set.id, started.id).await;
    assert_eq!(done.run.status, EvalRunStatus::Completed);
    assert_eq!(done.run.created_by.as_deref(), Some("agent@oa.test"));
    // A version the agent does not have.
    let e = c
        .start_eval_run(
            "open-arms",
            set.id,
            &NewEvalRun {
                agent_id: agent,
                version: Some(9),
                against: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.problem().unwrap().errors[0].field, "version", "{e:?}");
}

/// The embedded model for real: skipped (saying why) without its weights.
#[tokio::test]
async fn the_local_model_runs_an_eval_case() {
    let Some(path) = std::env::var_os("SWITCHBOARD_MODEL_PATH").map(std::path::PathBuf::from)
    else {
        println!(
            "SKIPPED: set SWITCHBOARD_MODEL_PATH to the fetched model (`switchboard model fetch`)"
        );
        return;
    };
    assert!(path.is_file(), "SWITCHBOARD_MODEL_PATH names no file");
    let dir = tempfile::tempdir().unwrap();
    let cfg = LlmConfig {
        local: LocalConfig {
            enabled: true,
            model_path: Some(path),
            threads: None,
        },
        ..Default::default()
    };
    let app = spawn_with_providers(Providers::from_config(&cfg, dir.path()).unwrap()).await;
    app.tenant("Open Arms", Tier::Pro).await;
    let c = &app.admin;
    let new = NewAgent {
        name: "Greeter".into(),
        system_prompt: "You are the front desk of Open Arms, a guest house. Reply in one \
                        short, friendly sentence."
            .into(),
        model: "local/smollm2-135m".into(),
        temperature: Some(0.0),
        max_tokens: Some(24),
        ..Default::default()
    };
    let agent = c.create_agent("open-arms", &new).await.unwrap().id;
    let set = NewEvalSet {
        name: "Rooms".into(),
        cases: vec![case(
            "Hi! Do you have a room for two on Friday? We want to book it now.",
            EvalExpectations {
                max_chars: Some(2000),
                ..Default::default()
            },
        )],
        ..Default::default()
    };
    let set = c.create_eval_set("open-arms", &set).await.unwrap().set;
    let start = NewEvalRun {
        agent_id: agent,
        ..Default::default()
    };
    let run = c.start_eval_run("open-arms", set.id, &start).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    let detail = loop {
        let d = c.eval_run("open-arms", set.id, run.id).await.unwrap();
        if d.run.status.is_finished() || std::time::Instant::now() > deadline {
            break d;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        detail.run.status,
        EvalRunStatus::Completed,
        "{:?}",
        detail.run
    );
    let r = &detail.results[0];
    assert!(r.error.is_none(), "{r:?}");
    assert!(
        r.category.is_some(),
        "scored qualification reads a category: {r:?}"
    );
    assert!(r.prompt_tokens > 0 && r.latency_ms > 0, "{r:?}");
    if r.drafted {
        assert!(!r.reply.trim().is_empty() && !r.reply.contains("<|im_end|>"));
    }
}
