//! The workflow's research step and the tenant's draft policy, against a
//! scripted OpenAI-compatible server that records every request: the
//! sources (knowledge snippets, the lead's earlier leads and notes, the
//! tenant's settings) are stored on the workflow and reach the qualify and
//! draft prompts with the rule that a reply states only what they hold;
//! another tenant's knowledge never does; and categories outside the policy
//! are qualified and recorded without a draft.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use switchboard::api::Client;
use switchboard::domain::{
    AgentKnowledge, KnowledgeMode, LeadInput, NewAgent, NewKnowledgeDocument, NewNote,
    NewPlaygroundSession, Tenant, TenantPatch, TenantSettingsPatch, Tier, Workflow, WorkflowStatus,
};
use switchboard::llm::{LlmConfig, LocalConfig, ProviderConfig, ProviderKind, Providers};
use switchboard::server::clock::SystemClock;
use switchboard::server::ServerSettings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use uuid::Uuid;

use crate::common::{spawn_full, TestApp};

const HOURS: &str = "We are open Monday to Friday, 8:00 to 18:00.";
const DRAFT: &str = "Thanks! We are open Monday to Friday, 8:00 to 18:00.";

/// An OpenAI-compatible server: answers a qualify request (its system
/// prompt asks for `CATEGORY:`) with `category`, anything else with
/// [`DRAFT`], and keeps every request's messages.
struct Upstream {
    base_url: String,
    category: Arc<Mutex<String>>,
    /// `(system prompt, user message)` of each request, in order.
    requests: Arc<Mutex<Vec<(String, String)>>>,
}

impl Upstream {
    async fn start() -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
        let category = Arc::new(Mutex::new("hot".to_string()));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (cat, seen) = (category.clone(), requests.clone());
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(answer(socket, cat.clone(), seen.clone()));
            }
        });
        Upstream {
            base_url,
            category,
            requests,
        }
    }

    fn set_category(&self, category: &str) {
        *self.category.lock().unwrap() = category.to_string();
    }

    fn requests(&self) -> Vec<(String, String)> {
        self.requests.lock().unwrap().clone()
    }

    fn providers(&self) -> Providers {
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
                base_url: self.base_url.clone(),
                api_key_env: None,
                models: vec!["tiny".into()],
                timeout_secs: 5,
            },
        );
        Providers::from_config(&cfg, std::path::Path::new("/nonexistent")).unwrap()
    }
}

async fn answer(
    mut socket: TcpStream,
    category: Arc<Mutex<String>>,
    seen: Arc<Mutex<Vec<(String, String)>>>,
) {
    let body = read_body(&mut socket).await;
    let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let content = |role: &str| {
        request["messages"]
            .as_array()
            .and_then(|ms| ms.iter().find(|m| m["role"] == role))
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    let (system, user) = (content("system"), content("user"));
    let text = if system.contains("CATEGORY:") {
        let c = category.lock().unwrap().clone();
        format!("CATEGORY: {c}\nREASON: asked about opening hours")
    } else {
        DRAFT.to_string()
    };
    seen.lock().unwrap().push((system, user));
    let mut out = String::from(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n",
    );
    for piece in text.split_inclusive(' ') {
        out.push_str(&format!(
            "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":{piece:?}}}}}]}}\n\n"
        ));
    }
    out.push_str("data: [DONE]\n\n");
    let _ = socket.write_all(out.as_bytes()).await;
    let _ = socket.shutdown().await;
}

/// The body of one HTTP request (headers, then Content-Length bytes).
pub(crate) async fn read_body(socket: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = socket.read(&mut chunk).await.unwrap_or(0);
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_lowercase()
                        .strip_prefix("content-length:")
                        .and_then(|v| v.trim().parse::<usize>().ok())
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                return String::from_utf8_lossy(&buf[end + 4..end + 4 + length]).to_string();
            }
        }
        if n == 0 {
            return String::new();
        }
    }
}

async fn fixture() -> (TestApp, Upstream) {
    let up = Upstream::start().await;
    let settings = ServerSettings {
        workflow_workers: 1,
        ..ServerSettings::default()
    };
    let app = spawn_full(settings, Arc::new(SystemClock), up.providers()).await;
    (app, up)
}

async fn agent(client: &Client, t: &Tenant) -> Uuid {
    let new = NewAgent {
        name: "Front desk".into(),
        system_prompt: "You answer a dental clinic's new patients.".into(),
        model: "up/tiny".into(),
        ..Default::default()
    };
    client.create_agent(&t.slug, &new).await.unwrap().id
}

async fn knowledge(client: &Client, t: &Tenant, title: &str, body: &str) -> Uuid {
    let doc = NewKnowledgeDocument {
        title: title.into(),
        body: body.into(),
        format: None,
    };
    client.create_knowledge(&t.slug, &doc).await.unwrap().id
}

fn lead(name: &str, email: &str, message: &str) -> LeadInput {
    LeadInput {
        name: name.into(),
        email: Some(email.into()),
        message: message.into(),
        ..Default::default()
    }
}

async fn wait_for(client: &Client, slug: &str, lead: Uuid, status: WorkflowStatus) -> Workflow {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        let found = client.workflows(slug, None, Some(lead)).await.unwrap();
        if let Some(wf) = found.into_iter().find(|w| w.status == status) {
            return wf;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let now = client.workflows(slug, None, Some(lead)).await.unwrap();
    panic!("the workflow never became {status:?}: {now:?}")
}

#[tokio::test]
async fn research_gathers_the_sources_and_the_prompts_may_state_only_them() {
    let (app, up) = fixture().await;
    let admin = &app.admin;
    let t = app.tenant("Open Arms", Tier::Pro).await;
    let other = app.tenant("Rival", Tier::Pro).await;
    let hours = knowledge(admin, &t, "Opening hours", HOURS).await;
    knowledge(admin, &t, "Parking", "Free parking behind the clinic.").await;
    // Another tenant's knowledge answers the same question, differently.
    knowledge(
        admin,
        &other,
        "Opening hours",
        "RIVAL-ONLY: we are open on Friday evenings until 23:00.",
    )
    .await;
    let agent = agent(admin, &t).await;
    // An earlier enquiry from the same person, with a note from the team.
    let earlier = admin
        .create_lead(
            &t.slug,
            &lead(
                "Ana Lima",
                "ana@example.com",
                "Do you do check-ups for kids?",
            ),
        )
        .await
        .unwrap();
    let note = NewNote {
        body: "Prefers mornings; two children.".into(),
        is_reply: false,
    };
    admin.add_note(&t.slug, earlier.id, &note).await.unwrap();
    let asked = "Are you open on Friday afternoon? And what does whitening cost?";
    let now = admin
        .create_lead(&t.slug, &lead("Ana Lima", "ANA@example.com ", asked))
        .await
        .unwrap();
    admin
        .start_workflow(&t.slug, now.id, Some(agent))
        .await
        .unwrap();
    let wf = wait_for(admin, &t.slug, now.id, WorkflowStatus::AwaitingApproval).await;

    // The sources, on the workflow for the approval screen.
    let sources = wf.sources.expect("sources");
    assert_eq!(sources.knowledge, KnowledgeMode::All);
    assert_eq!(sources.snippets[0].document_id, hours, "{sources:?}");
    assert_eq!(sources.snippets[0].text, HOURS);
    assert!(sources.snippets.iter().all(|s| !s.text.contains("RIVAL")));
    assert_eq!(sources.leads.len(), 1, "{:?}", sources.leads);
    assert_eq!(sources.leads[0].lead_id, earlier.id);
    assert_eq!(sources.leads[0].notes, ["Prefers mornings; two children."]);
    assert_eq!(sources.settings[0].value, "Open Arms");
    assert_eq!(
        wf.draft_policy.as_deref(),
        Some(&["hot".to_string(), "warm".to_string()][..])
    );
    assert_eq!(wf.draft.as_deref(), Some(DRAFT));

    // What the model was told: qualify and draft both see the sources.
    let requests = up.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    let (qualify, draft) = (&requests[0].0, &requests[1].0);
    assert!(qualify.contains("CATEGORY:"));
    for system in [qualify, draft] {
        assert!(system.contains(HOURS), "{system}");
        assert!(
            system.contains("Prefers mornings; two children."),
            "{system}"
        );
        assert!(system.contains("business name: Open Arms"), "{system}");
        assert!(
            !system.contains("RIVAL"),
            "another tenant's knowledge: {system}"
        );
    }
    assert!(requests[1].1.contains(asked));
    // The draft may state only what the sources hold, and they hold no
    // price for whitening: the prompt says so, and carries none.
    assert!(
        draft.contains("State only facts found in the SOURCES"),
        "{draft}"
    );
    assert!(
        draft.contains("a person from the team will confirm it"),
        "{draft}"
    );
    let sources_part = &draft[draft.find("SOURCES (").expect("a sources section")..];
    assert!(
        !sources_part.to_lowercase().contains("whitening"),
        "{sources_part}"
    );
    assert!(!sources_part.contains('€') && !sources_part.contains("EUR"));
}

#[tokio::test]
async fn an_agent_without_knowledge_gets_no_snippets_and_a_list_limits_them() {
    let (app, up) = fixture().await;
    let admin = &app.admin;
    let t = app.tenant("Open Arms", Tier::Pro).await;
    knowledge(admin, &t, "Opening hours", HOURS).await;
    let parking = knowledge(
        admin,
        &t,
        "Parking",
        "Free parking on Friday behind the clinic.",
    )
    .await;
    let agent = agent(admin, &t).await;
    let none = AgentKnowledge {
        mode: KnowledgeMode::None,
        documents: vec![],
    };
    admin
        .set_agent_knowledge(&t.slug, agent, &none)
        .await
        .unwrap();
    let asked = "Are you open on Friday?";
    let first = admin
        .create_lead(&t.slug, &lead("Bo", "bo@example.com", asked))
        .await
        .unwrap();
    admin
        .start_workflow(&t.slug, first.id, Some(agent))
        .await
        .unwrap();
    let wf = wait_for(admin, &t.slug, first.id, WorkflowStatus::AwaitingApproval).await;
    let sources = wf.sources.expect("sources");
    assert_eq!(sources.knowledge, KnowledgeMode::None);
    assert!(sources.snippets.is_empty());
    let draft = &up.requests()[1].0;
    assert!(!draft.contains(HOURS));
    assert!(draft.contains("Knowledge base: nothing found"), "{draft}");

    let only = AgentKnowledge {
        mode: KnowledgeMode::Documents,
        documents: vec![parking],
    };
    admin
        .set_agent_knowledge(&t.slug, agent, &only)
        .await
        .unwrap();
    let second = admin
        .create_lead(&t.slug, &lead("Cy", "cy@example.com", asked))
        .await
        .unwrap();
    admin
        .start_workflow(&t.slug, second.id, Some(agent))
        .await
        .unwrap();
    let wf = wait_for(admin, &t.slug, second.id, WorkflowStatus::AwaitingApproval).await;
    let sources = wf.sources.expect("sources");
    let docs: Vec<Uuid> = sources.snippets.iter().map(|s| s.document_id).collect();
    assert_eq!(docs, [parking]);
}

#[tokio::test]
async fn the_draft_policy_qualifies_cold_and_spam_without_a_draft_until_changed() {
    let (app, up) = fixture().await;
    let admin = &app.admin;
    let t = app.tenant("Open Arms", Tier::Pro).await;
    assert_eq!(t.settings.draft_categories, ["hot", "warm"]);
    let agent = agent(admin, &t).await;
    up.set_category("cold");
    let cold = admin
        .create_lead(&t.slug, &lead("Di", "di@example.com", "Just browsing."))
        .await
        .unwrap();
    admin
        .start_workflow(&t.slug, cold.id, Some(agent))
        .await
        .unwrap();
    let wf = wait_for(admin, &t.slug, cold.id, WorkflowStatus::Qualified).await;
    assert_eq!(
        wf.qualification.as_ref().map(|q| q.category.as_str()),
        Some("cold")
    );
    assert_eq!(wf.draft, None);
    assert_eq!(wf.decided_by.as_deref(), Some("draft policy"));
    let note = wf.decision_note.as_deref().unwrap_or_default();
    assert!(
        note.contains("cold") && note.contains("hot, warm"),
        "{note}"
    );
    assert_eq!(
        wf.draft_policy.as_deref(),
        Some(&["hot".to_string(), "warm".to_string()][..])
    );
    // Qualified and recorded on the lead; the model was asked once only.
    let recorded = admin.lead(&t.slug, cold.id).await.unwrap();
    assert_eq!(
        recorded.qualification.map(|q| q.category).as_deref(),
        Some("cold")
    );
    assert_eq!(up.requests().len(), 1);
    assert!(admin
        .workflows(&t.slug, Some(WorkflowStatus::AwaitingApproval), None)
        .await
        .unwrap()
        .is_empty());

    // A bad policy is refused and changes nothing.
    let patch = |categories: &[&str]| TenantPatch {
        settings: Some(TenantSettingsPatch {
            draft_categories: Some(categories.iter().map(|c| c.to_string()).collect()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let err = admin
        .update_tenant(&t.slug, &patch(&["hot", "lukewarm"]))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
    let p = err.problem().expect("a problem");
    assert_eq!(p.errors[0].field, "settings.draft_categories");
    assert!(p.errors[0].message.contains("lukewarm"), "{p:?}");
    let same = admin.tenant(&t.slug).await.unwrap();
    assert_eq!(same.settings.draft_categories, ["hot", "warm"]);

    // Cold leads get drafts once the policy says so; the finished run of
    // the first did not block a new one.
    let changed = admin
        .update_tenant(&t.slug, &patch(&["hot", "warm", "cold"]))
        .await
        .unwrap();
    assert_eq!(changed.settings.draft_categories, ["hot", "warm", "cold"]);
    admin
        .start_workflow(&t.slug, cold.id, Some(agent))
        .await
        .unwrap();
    let drafted = wait_for(admin, &t.slug, cold.id, WorkflowStatus::AwaitingApproval).await;
    assert_eq!(drafted.draft.as_deref(), Some(DRAFT));
    assert_eq!(
        drafted.draft_policy.as_deref(),
        Some(&["hot".to_string(), "warm".to_string(), "cold".to_string()][..])
    );

    // An empty policy qualifies only.
    admin.update_tenant(&t.slug, &patch(&[])).await.unwrap();
    up.set_category("hot");
    let hot = admin
        .create_lead(&t.slug, &lead("Ed", "ed@example.com", "Can I book today?"))
        .await
        .unwrap();
    admin
        .start_workflow(&t.slug, hot.id, Some(agent))
        .await
        .unwrap();
    let wf = wait_for(admin, &t.slug, hot.id, WorkflowStatus::Qualified).await;
    assert!(wf.decision_note.unwrap_or_default().contains("no category"));
}

#[tokio::test]
async fn the_playground_retrieves_like_research_and_says_which_snippets_it_used() {
    let (app, up) = fixture().await;
    let admin = &app.admin;
    let t = app.tenant("Open Arms", Tier::Pro).await;
    let other = app.tenant("Rival", Tier::Pro).await;
    let hours = knowledge(admin, &t, "Opening hours", HOURS).await;
    knowledge(
        admin,
        &other,
        "Opening hours",
        "RIVAL-ONLY: open Fridays until 23:00.",
    )
    .await;
    let agent = agent(admin, &t).await;
    let session = admin
        .create_playground_session(
            &t.slug,
            &NewPlaygroundSession {
                agent_id: Some(agent),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let stream = admin
        .send_playground_message(&t.slug, session.id, "Are you open on Friday?")
        .await
        .unwrap();
    let replies = crate::playground::replies(&crate::playground::drain(stream).await);
    let stats = replies[0].stats.clone().expect("stats");
    assert_eq!(stats.snippets.len(), 1, "{stats:?}");
    assert_eq!(stats.snippets[0].document_id, hours);
    assert_eq!(stats.snippets[0].title, "Opening hours");
    let system = &up.requests()[0].0;
    assert!(system.contains(HOURS), "{system}");
    assert!(system.contains("State only facts found in the SOURCES"));
    assert!(!system.contains("RIVAL"), "{system}");
    // Kept with the transcript.
    let transcript = admin.playground_session(&t.slug, session.id).await.unwrap();
    let kept = transcript.messages.iter().find_map(|m| m.stats.clone());
    assert_eq!(kept.map(|s| s.snippets), Some(stats.snippets));

    // An agent that may use no knowledge: none retrieved, none named.
    let none = AgentKnowledge {
        mode: KnowledgeMode::None,
        documents: vec![],
    };
    admin
        .set_agent_knowledge(&t.slug, agent, &none)
        .await
        .unwrap();
    let stream = admin
        .send_playground_message(&t.slug, session.id, "And on Saturday?")
        .await
        .unwrap();
    let replies = crate::playground::replies(&crate::playground::drain(stream).await);
    assert!(replies[0]
        .stats
        .as_ref()
        .expect("stats")
        .snippets
        .is_empty());
    assert!(!up.requests()[1].0.contains("SOURCES"));
}
