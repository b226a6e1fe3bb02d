//! The console's live event stream against a scripted server on port 0:
//! a dropped stream is reopened with the last event seen as its resume
//! point, so nothing is lost or shown twice.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{follow_tenant, stream_events, Inbox, Live};
use crate::api::Client;

/// One SSE event of the all-tenant stream, naming its tenant.
fn event(id: i64, tenant: Uuid, slug: &str) -> String {
    let data = serde_json::json!({
        "tenant": { "id": tenant, "slug": slug, "name": slug },
        "lead": { "id": Uuid::from_u128(id as u128) },
    });
    format!("id: {id}\nevent: lead.updated\ndata: {data}\n\n")
}

/// A server that answers its n-th request with `bodies[n].0` as an event
/// stream, then closes it, or with `bodies[n].1` keeps it open as a live
/// one; it reports each request's head.
async fn scripted(bodies: Vec<(String, bool)>) -> (String, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let (heads, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        for (body, keep_open) in bodies {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let heads = heads.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.ends_with(b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => head.extend_from_slice(&buf[..k]),
                    }
                }
                let _ = heads.send(String::from_utf8_lossy(&head).to_lowercase());
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                     connection: close\r\n\r\n{body}"
                );
                let _ = socket.write_all(reply.as_bytes()).await;
                let _ = socket.flush().await;
                if keep_open {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                }
            });
        }
        // Later connections are held unanswered.
        tokio::time::sleep(Duration::from_secs(60)).await;
    });
    (url, rx)
}

/// The next live event the loop receives: (id, tenant routed to).
async fn next_event(rx: &mut mpsc::UnboundedReceiver<Inbox>) -> (i64, Uuid) {
    loop {
        let got = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("an event within 10 s");
        match got {
            Some(Inbox::Event(tenant, ev)) => return (ev.id, tenant),
            Some(_) => {}
            None => panic!("the stream task ended"),
        }
    }
}

fn last_event_id(head: &str) -> Option<&str> {
    head.lines()
        .find_map(|l| l.strip_prefix("last-event-id:"))
        .map(str::trim)
}

#[tokio::test]
async fn a_dropped_all_tenant_stream_resumes_after_the_last_event_seen() {
    let (alpha, beta, current) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
    // The first connection delivers two events and drops; the reconnect
    // gets what came after the second.
    let first = format!("{}{}", event(7, alpha, "alpha"), event(9, beta, "beta"));
    let second = event(12, alpha, "alpha");
    let (url, mut heads) = scripted(vec![(first, false), (second, true)]).await;
    let client = Client::new(&url).expect("client").with_token("sbt_test");
    let (tx, mut rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(stream_events(client, current, true, tx));

    let mut seen = Vec::new();
    while seen.len() < 3 {
        let got = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("an event within 10 s");
        match got {
            Some(Inbox::Event(tenant, ev)) => seen.push((ev.id, tenant)),
            Some(_) => {}
            None => panic!("the stream task ended"),
        }
    }
    task.abort();
    assert_eq!(
        seen,
        vec![(7, alpha), (9, beta), (12, alpha)],
        "each event once, in order, routed to its own tenant"
    );
    let opened = heads.recv().await.expect("the first request");
    assert!(opened.starts_with("get /api/v1/events "), "{opened}");
    assert_eq!(
        last_event_id(&opened),
        None,
        "the first open starts from now"
    );
    let reopened = heads.recv().await.expect("the reconnect");
    assert!(reopened.starts_with("get /api/v1/events "), "{reopened}");
    assert_eq!(
        last_event_id(&reopened),
        Some("9"),
        "the reconnect resumes after the last event seen"
    );
}

/// Issue 15: with the all-tenants queue shown, `:tenant` used to reopen the
/// stream from "now", dropping what came in between. It stays open now,
/// and only the per-tenant list opens that tenant's stream.
#[tokio::test]
async fn switching_the_current_tenant_keeps_the_all_tenant_stream_open() {
    let (alpha, beta) = (Uuid::from_u128(1), Uuid::from_u128(2));
    let all = (event(7, alpha, "alpha"), true);
    let theirs = (event(8, beta, "beta"), true);
    let (url, mut heads) = scripted(vec![all, theirs]).await;
    let client = Client::new(&url).expect("client").with_token("sbt_test");
    let mut live = Live::new(client);
    follow_tenant(&mut live, Some(alpha), true);
    assert_eq!(next_event(&mut live.rx).await, (7, alpha));
    follow_tenant(&mut live, Some(beta), true);
    let opened = heads.recv().await.expect("the all-tenant stream");
    assert!(opened.starts_with("get /api/v1/events "), "{opened}");
    let again = tokio::time::timeout(Duration::from_millis(1500), heads.recv()).await;
    assert!(again.is_err(), "reopened on a switch of tenant: {again:?}");

    // The current tenant's list again: its own stream.
    follow_tenant(&mut live, Some(beta), false);
    assert_eq!(next_event(&mut live.rx).await, (8, beta));
    let opened = heads.recv().await.expect("the tenant's stream");
    assert!(
        opened.starts_with(&format!("get /api/v1/tenants/{beta}/events ")),
        "{opened}"
    );
    live.teardown();
}
