//! Console frame cost: the Leads pane drawn with 100 and with 100k leads
//! loaded, into a `TestBackend` and through the real crossterm backend into a
//! byte-counting writer; and the bytes one `j` keystroke writes.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use chrono::{Duration, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::{CrosstermBackend, TestBackend};
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use uuid::Uuid;

use crate::console::effect::{Effect, Request};
use crate::console::keymap::Keymap;
use crate::console::request::Response;
use crate::console::theme::Theme;
use crate::console::{ui, App};
use crate::domain::{
    Lead, LeadSource, Me, Page, SlaState, Tenant, TenantSettings, TenantStatus, TenantUsage, Tier,
    User, Utm,
};

const WIDTH: u16 = 200;
const HEIGHT: u16 = 50;

/// Counts what the terminal would receive.
#[derive(Default, Clone)]
struct Counter(Arc<AtomicUsize>);

impl Counter {
    fn bytes(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.fetch_add(buf.len(), Ordering::Relaxed);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn lead(tenant: Uuid, i: usize) -> Lead {
    let now = Utc::now();
    let created = now - Duration::minutes(i as i64 % 3000);
    Lead {
        id: Uuid::from_u128(i as u128 + 1),
        tenant_id: tenant,
        name: format!("Lead number {i}"),
        email: Some(format!("lead{i}@example.com")),
        phone: None,
        company: Some(format!("Company {}", i % 97)),
        message: "We would like a quote for next month.".into(),
        source: LeadSource::Form,
        source_page: None,
        utm: Utm::default(),
        fields: serde_json::json!({}),
        stage: "new".into(),
        workspace_id: None,
        assignee_id: None,
        spam: false,
        spam_reason: None,
        qualification: None,
        created_at: created,
        updated_at: created,
        sla_due_at: created + Duration::hours(24),
        sla_at_risk_at: created + Duration::hours(18),
        first_response_at: None,
        sla: SlaState::OnTrack,
    }
}

fn answer(app: &mut App, effects: Vec<Effect>, tenant: &Tenant, leads: &mut Option<Vec<Lead>>) {
    for e in effects {
        let Effect::Api(id, req) = e else { continue };
        let resp = match req {
            Request::Me => Response::Me(Ok(Me {
                user: User {
                    id: Uuid::from_u128(900),
                    email: "bench@local".into(),
                    name: "Bench".into(),
                    platform_admin: true,
                    created_at: Utc::now(),
                    invited_by_tenant: None,
                },
                platform_admin: true,
                memberships: Vec::new(),
            })),
            Request::ListTenants => Response::Tenants(Ok(vec![tenant.clone()])),
            Request::ListLeads { .. } => Response::Leads(Ok(Page {
                items: leads.take().unwrap_or_default(),
                next_cursor: None,
            })),
            Request::ListLeadMembers { .. } => Response::LeadMembers(Ok(Vec::new())),
            _ => continue,
        };
        let more = app.on_response(id, resp);
        answer(app, more, tenant, leads);
    }
}

/// An app on the Leads pane with `n` leads loaded.
fn app_with(n: usize) -> App {
    let tenant = Tenant {
        id: Uuid::from_u128(1),
        name: "Open Arms".into(),
        slug: "open-arms".into(),
        tier: Tier::Enterprise,
        status: TenantStatus::Active,
        is_platform: false,
        created_at: Utc::now(),
        settings: TenantSettings::default(),
        user_limit_override: None,
        usage: TenantUsage {
            users: 1,
            user_limit: None,
            leads_this_month: n as u32,
            lead_limit: None,
        },
    };
    let mut app = App::new(Keymap::default(), Theme::default(), "bench");
    app.now = Utc::now();
    let mut leads = Some((0..n).map(|i| lead(tenant.id, i)).collect());
    let fx = app.start();
    answer(&mut app, fx, &tenant, &mut leads);
    let fx = app.on_key(KeyEvent::new(KeyCode::Char('2'), KeyModifiers::NONE));
    answer(&mut app, fx, &tenant, &mut leads);
    app
}

struct Figures {
    test_backend: (f64, f64),
    crossterm: (f64, f64),
    bytes_per_key: f64,
}

fn percentiles(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (super::percentile(&v, 0.5), super::percentile(&v, 0.99))
}

fn measure(n: usize, frames: usize) -> anyhow::Result<Figures> {
    let j = KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE);
    let mut app = app_with(n);
    let mut term = Terminal::new(TestBackend::new(WIDTH, HEIGHT))?;
    let mut times = Vec::with_capacity(frames);
    for _ in 0..frames {
        app.on_key(j);
        let t = Instant::now();
        term.draw(|f| ui::draw(f, &app))?;
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let test_backend = percentiles(times);

    let mut app = app_with(n);
    let options = TerminalOptions {
        viewport: Viewport::Fixed(Rect::new(0, 0, WIDTH, HEIGHT)),
    };
    let counter = Counter::default();
    let mut term = Terminal::with_options(CrosstermBackend::new(counter.clone()), options)?;
    term.draw(|f| ui::draw(f, &app))?;
    let mut times = Vec::with_capacity(frames);
    let before = counter.bytes();
    for _ in 0..frames {
        app.on_key(j);
        let t = Instant::now();
        term.draw(|f| ui::draw(f, &app))?;
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let bytes = counter.bytes() - before;
    Ok(Figures {
        test_backend,
        crossterm: percentiles(times),
        bytes_per_key: bytes as f64 / frames as f64,
    })
}

/// `large_n`: leads loaded in the large run; `frames`: frames per measurement; `idle_secs`: how long each idle
/// period of the real console lasts (0: skip).
pub async fn run(large_n: usize, frames: usize, idle_secs: u64) -> anyhow::Result<()> {
    let small = measure(100, frames)?;
    let large = measure(large_n, frames)?;
    println!("render benchmark: Leads pane, {WIDTH}x{HEIGHT}, {frames} frames, one `j` per frame");
    println!(
        "{:<10} {:>16} {:>16} {:>16} {:>16} {:>12}",
        "leads", "test p50 µs", "test p99 µs", "crossterm p50", "crossterm p99", "bytes/key"
    );
    for (n, f) in [(100, &small), (large_n, &large)] {
        println!(
            "{:<10} {:>16.0} {:>16.0} {:>16.0} {:>16.0} {:>12.0}",
            n, f.test_backend.0, f.test_backend.1, f.crossterm.0, f.crossterm.1, f.bytes_per_key
        );
    }
    let ratio = large.crossterm.1 / small.crossterm.1.max(1.0);
    if idle_secs == 0 {
        println!("ratio p99 {large_n}/100 (crossterm): {ratio:.2}");
        return Ok(());
    }
    let idle = super::idle::measure(idle_secs).await?;
    println!(
        "idle: real console (remote, tmux 200x50, SSE connection open), {idle_secs} s per pane"
    );
    println!(
        "{:<24} {:>14} {:>10} {:>22}",
        "pane", "bytes written", "CPU ms", "then `?` (check)"
    );
    for f in &idle {
        println!(
            "{:<24} {:>14} {:>10} {:>22}",
            f.pane,
            f.bytes,
            f.cpu.as_millis(),
            f.check_bytes
        );
    }
    println!(
        "ratio p99 {large_n}/100 (crossterm): {ratio:.2}; idle: {} bytes, {} ms CPU in {idle_secs} s on the Tenants pane",
        idle.first().map_or(0, |f| f.bytes),
        idle.first().map_or(0, |f| f.cpu.as_millis())
    );
    Ok(())
}
