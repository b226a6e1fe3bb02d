//! PostgreSQL only: two real `switchboard serve` processes on one database,
//! both dispatching webhooks and sending mail. Every event reaches the
//! receiver exactly once and every message is sent exactly once: each
//! claim (`FOR UPDATE SKIP LOCKED` in `sb_claim_webhook_deliveries` and
//! `sb_claim_outbox`) goes to one process, and both processes take a share.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use sqlx::Connection;
use switchboard::api::Client;
use switchboard::domain::{NewTenant, Tier};
use switchboard::server::password;
use switchboard::store;

use crate::common::{lead, postgres_admin_url, PgDatabase, PASSWORD};
use crate::processes::Serve;
use crate::receivers::{free_addr, HookReceiver, SmtpMode, SmtpReceiver};
use crate::webhooks::hook;

const EVENTS: usize = 50;
const MAILS: usize = 30;

/// How many log lines of each process contain `needle`.
fn lines_with(logs: &[std::path::PathBuf], needle: &str) -> Vec<usize> {
    logs.iter()
        .map(|p| {
            std::fs::read_to_string(p)
                .unwrap_or_default()
                .lines()
                .filter(|l| l.contains(needle))
                .count()
        })
        .collect()
}

#[tokio::test]
async fn two_serve_processes_deliver_each_webhook_and_email_exactly_once() {
    let Some(admin_url) = postgres_admin_url() else {
        eprintln!("skipped: set SWITCHBOARD_TEST_DATABASE_URL to run the PostgreSQL tests");
        return;
    };
    let pg = PgDatabase::create(&admin_url).await;
    let setup = store::open(&pg.app_url).await.unwrap();
    let hash = password::hash(PASSWORD.to_string()).await.unwrap();
    setup
        .create_user("root@platform.test", "Root", Some(&hash), true)
        .await
        .unwrap();

    // Slow receivers, so one process cannot take everything before the
    // other looks.
    let hooks = HookReceiver::start().await;
    hooks.delay(Duration::from_millis(100));
    let smtp_addr = free_addr().await;
    let smtp =
        SmtpReceiver::start_with(smtp_addr, SmtpMode::Plain, Duration::from_millis(100)).await;
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[smtp]\nhost = \"127.0.0.1\"\nport = {}\nfrom = \"alerts@switchboard.test\"\n\
             tls = \"none\"\n",
            smtp_addr.port()
        ),
    )
    .unwrap();
    let config = config.to_string_lossy().into_owned();
    let env = [
        ("SWITCHBOARD_CONFIG", config.as_str()),
        ("SWITCHBOARD_WEBHOOK_PRIVATE_TARGETS", "true"),
        ("SWITCHBOARD_LOG", "info"),
        ("NO_COLOR", "1"),
    ];
    let logs: Vec<_> = (0..2)
        .map(|i| home.path().join(format!("serve-{i}.log")))
        .collect();
    let servers: Vec<Serve> = logs
        .iter()
        .map(|log| {
            let file = std::fs::File::create(log).unwrap();
            Serve::start_with(&pg.app_url, home.path(), &env, file)
        })
        .collect();

    let mut clients = Vec::new();
    for s in &servers {
        let login = Client::new(&s.url)
            .unwrap()
            .login("root@platform.test", PASSWORD)
            .await
            .unwrap();
        clients.push(Client::new(&s.url).unwrap().with_token(login.token));
    }
    let tenant = clients[0]
        .create_tenant(&NewTenant {
            name: "Shared".into(),
            tier: Some(Tier::Enterprise),
            ..Default::default()
        })
        .await
        .unwrap();
    clients[0]
        .create_webhook("shared", &hook(&hooks.url, &["lead.created"]))
        .await
        .unwrap();

    // The outbox, written as the SLA sweep would; the events wake both mailers.
    let mut owner = sqlx::PgConnection::connect(&pg.owner_url).await.unwrap();
    sqlx::query(
        "INSERT INTO outbox (tenant_id, id, kind, recipient, subject, body, created_at) \
         SELECT $1, gen_random_uuid(), 'lead.sla_breached', 'boss@shared.test', \
                'Alert ' || n, 'Body ' || n, now() - interval '1 second' \
           FROM generate_series(1, $2) n",
    )
    .bind(tenant.id)
    .bind(MAILS as i32)
    .execute(&mut owner)
    .await
    .unwrap();
    // Events written through both processes at once.
    let mut tasks = Vec::new();
    for i in 0..EVENTS {
        let client = clients[i % 2].clone();
        tasks.push(tokio::spawn(async move {
            client
                .create_lead("shared", &lead(&format!("Lead {i}")))
                .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }

    hooks.wait_for(EVENTS).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while smtp.mails().len() < MAILS {
        assert!(
            Instant::now() < deadline,
            "only {} of {MAILS} mails",
            smtp.mails().len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Time for a duplicate, if a claim were shared, to arrive too.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let mut per_event: BTreeMap<String, usize> = BTreeMap::new();
    for r in hooks.received() {
        *per_event
            .entry(r.json()["id"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(per_event.len(), EVENTS, "every event id arrived");
    let twice: Vec<_> = per_event.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");

    let mut per_message: BTreeMap<String, usize> = BTreeMap::new();
    for m in smtp.mails() {
        let id = m
            .data
            .lines()
            .find_map(|l| l.strip_prefix("Message-ID: "))
            .unwrap_or_else(|| panic!("no Message-ID in {}", m.data))
            .to_string();
        *per_message.entry(id).or_default() += 1;
    }
    assert_eq!(per_message.len(), MAILS, "every message arrived");
    let twice: Vec<_> = per_message.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");

    // The store agrees: one attempt per delivery and per message.
    let (delivered, attempts): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered' \
                   AND attempts = 1), \
                (SELECT count(*) FROM webhook_attempts)",
    )
    .fetch_one(&mut owner)
    .await
    .unwrap();
    assert_eq!((delivered, attempts), (EVENTS as i64, EVENTS as i64));
    let sent: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL AND attempts = 1",
    )
    .fetch_one(&mut owner)
    .await
    .unwrap();
    assert_eq!(sent, MAILS as i64);

    // Both processes did part of the work: the claims were contended.
    let hook_work = lines_with(&logs, "webhook attempt");
    let mail_work = lines_with(&logs, "email sent");
    println!("webhook attempts per process {hook_work:?}, emails per process {mail_work:?}");
    assert_eq!(hook_work.iter().sum::<usize>(), EVENTS, "{hook_work:?}");
    assert_eq!(mail_work.iter().sum::<usize>(), MAILS, "{mail_work:?}");
    assert!(hook_work.iter().all(|n| *n > 0), "{hook_work:?}");
    assert!(mail_work.iter().all(|n| *n > 0), "{mail_work:?}");
    drop(servers);
    owner.close().await.ok();
}
