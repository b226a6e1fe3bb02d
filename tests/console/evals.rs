//! The Evals screen: the sets with their last run, a set's cases, a run of
//! two versions side by side (the differing case highlighted, progress
//! while it runs, followed by events and polling), two runs compared, a
//! case added from a lead with `E`, and a refused save keeping the draft.

use super::leads::{lead, leads_loaded, now, timeline};
use super::views::command;
use super::*;
use chrono::Duration;
use ratatui::style::Modifier;
use switchboard::console::evals::{EvalRequest, EvalResponse, Screen};
use switchboard::domain::eval::{
    CaseSnapshot, Category, CheckKind, ComparedCase, ComparedLane, EvalCase, EvalCheck,
    EvalComparison, EvalExpectations, EvalLane, EvalLaneSummary, EvalLead, EvalProgress,
    EvalResult, EvalRun, EvalRunDetail, EvalRunStatus, EvalSet, EvalSetDetail, Phrase,
};
use switchboard::domain::{Lead, ServerEvent};

fn tenant_id() -> Uuid {
    Uuid::from_u128(1)
}

fn set(n: u128, name: &str, cases: u32) -> EvalSet {
    EvalSet {
        id: Uuid::from_u128(n),
        tenant_id: tenant_id(),
        name: name.into(),
        description: String::new(),
        cases,
        created_by: None,
        created_at: now() - Duration::days(9),
        updated_at: now() - Duration::days(9),
    }
}

fn sets() -> Vec<EvalSet> {
    vec![set(81, "Booking requests", 3), set(82, "Spam and abuse", 0)]
}

fn case(n: u128, position: u32, message: &str, expect: EvalExpectations) -> EvalCase {
    EvalCase {
        id: Uuid::from_u128(n),
        set_id: Uuid::from_u128(81),
        position,
        message: message.into(),
        lead: EvalLead {
            name: Some("Maria Lopez".into()),
            ..EvalLead::default()
        },
        expect,
        source: None,
        created_at: now() - Duration::days(8),
        updated_at: now() - Duration::days(8),
    }
}

fn hot_booking() -> EvalExpectations {
    EvalExpectations {
        category: Some(Category::Hot),
        must_contain: vec![Phrase("Saturday".into())],
        must_not_contain: vec![Phrase("sorry".into())],
        max_chars: Some(600),
    }
}

fn cases() -> Vec<EvalCase> {
    vec![
        case(
            91,
            1,
            "Can I book a cut for Saturday morning?",
            hot_booking(),
        ),
        case(
            92,
            2,
            "What do you charge for colour?",
            EvalExpectations {
                category: Some(Category::Warm),
                ..EvalExpectations::default()
            },
        ),
        case(
            93,
            3,
            "Do you have parking nearby?",
            EvalExpectations::default(),
        ),
    ]
}

fn summary(version: u32, passed: u32, cases: u32) -> EvalLaneSummary {
    EvalLaneSummary {
        version,
        cases,
        passed,
        failed: cases - passed,
        errors: 0,
        pending: 0,
        pass_rate: passed as f64 / cases as f64,
    }
}

fn run(n: u128, versions: &[u32], status: EvalRunStatus, done: u32, days_ago: i64) -> EvalRun {
    let total = 3 * versions.len() as u32;
    EvalRun {
        id: Uuid::from_u128(n),
        set_id: Uuid::from_u128(81),
        set_name: "Booking requests".into(),
        agent_id: Uuid::from_u128(50),
        agent_name: "Receptionist".into(),
        lanes: versions
            .iter()
            .map(|v| EvalLane {
                version: *v,
                model: "openai/gpt-4o-mini".into(),
            })
            .collect(),
        status,
        cases: 3,
        progress: EvalProgress { done, total },
        summary: match status {
            EvalRunStatus::Running => versions.iter().map(|v| summary(*v, 1, 3)).collect(),
            _ => versions
                .iter()
                .enumerate()
                .map(|(i, v)| summary(*v, 2 + i as u32 % 2, 3))
                .collect(),
        },
        draft_categories: Vec::new(),
        error: None,
        created_by: None,
        created_at: now() - Duration::days(days_ago),
        finished_at: None,
    }
}

fn check(kind: CheckKind, expected: &str, passed: bool) -> EvalCheck {
    EvalCheck {
        kind,
        expected: expected.into(),
        passed,
        detail: if passed {
            "ok".into()
        } else {
            "missing".into()
        },
    }
}

fn result(c: &EvalCase, lane: u8, version: u32, passed: bool, reply: &str) -> EvalResult {
    EvalResult {
        case_id: c.id,
        lane,
        version,
        case: CaseSnapshot::from(c),
        reply: reply.into(),
        drafted: true,
        category: Some("hot".into()),
        reason: None,
        checks: vec![
            check(CheckKind::Category, "hot", true),
            check(CheckKind::Contains, "Saturday", passed),
        ],
        passed,
        error: None,
        prompt_tokens: 310,
        completion_tokens: 42 + lane as u32,
        latency_ms: 900 + 100 * lane as u64,
        finished_at: now(),
    }
}

/// A run of v3 against v5, two of three cases done in each lane: the
/// first case fails on v3 and passes on v5.
fn running_detail() -> EvalRunDetail {
    let cs = cases();
    EvalRunDetail {
        run: run(101, &[3, 5], EvalRunStatus::Running, 4, 0),
        results: vec![
            result(&cs[0], 0, 3, false, "We are open on weekdays."),
            result(&cs[0], 1, 5, true, "Yes! Saturday at 10 works."),
            result(&cs[1], 0, 3, true, "A colour is 45 euros."),
            result(&cs[1], 1, 5, true, "Colour starts at 45 euros."),
        ],
        differing: vec![cs[0].id],
    }
}

/// The evals request among `fx`, and its id.
fn eval_request(fx: &[Effect]) -> (RequestId, EvalRequest) {
    eval_requests(fx)
        .into_iter()
        .next()
        .expect("an eval request")
}

fn eval_requests(fx: &[Effect]) -> Vec<(RequestId, EvalRequest)> {
    requests(fx)
        .into_iter()
        .filter_map(|(id, r)| match r {
            Request::Eval(e) => Some((id, e)),
            _ => None,
        })
        .collect()
}

/// `:evals` on Open Arms: the sets loaded, then each set's runs.
fn sets_open() -> App {
    let mut app = loaded();
    app.now = now();
    let fx = command(&mut app, "evals");
    let (id, req) = eval_request(&fx);
    assert_eq!(
        req,
        EvalRequest::Sets {
            tenant: tenant_id().to_string()
        }
    );
    assert!(app.evals.is_open());
    let fx = app.on_response(id, Response::Eval(EvalResponse::Sets(Ok(sets()))));
    // The list's "last run" column: each set's runs, read quietly.
    let runs = eval_requests(&fx);
    assert_eq!(runs.len(), 2, "{runs:?}");
    for (id, req) in runs {
        let EvalRequest::Runs { set, .. } = req else {
            panic!("expected the runs of a set, got {req:?}");
        };
        let list = if set == Uuid::from_u128(81) {
            vec![run(102, &[3, 5], EvalRunStatus::Completed, 6, 2)]
        } else {
            Vec::new()
        };
        app.on_response(id, Response::Eval(EvalResponse::Runs(Ok(list))));
    }
    app.toasts.clear();
    app
}

/// The first set open, its cases loaded.
fn cases_open() -> App {
    let mut app = sets_open();
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let (id, req) = eval_request(&fx);
    assert_eq!(
        req,
        EvalRequest::Set {
            tenant: tenant_id().to_string(),
            set: Uuid::from_u128(81)
        }
    );
    let detail = EvalSetDetail {
        set: set(81, "Booking requests", 3),
        cases: cases(),
    };
    app.on_response(id, Response::Eval(EvalResponse::Set(Ok(detail))));
    assert_eq!(app.evals.screen(), Screen::Cases);
    app
}

/// The set's runs (Tab), the running run first, last week's run of v3
/// after it.
fn runs_open() -> App {
    let mut app = cases_open();
    let fx = press(&mut app, &[code(KeyCode::Tab)]);
    let (id, req) = eval_request(&fx);
    assert!(matches!(req, EvalRequest::Runs { .. }), "{req:?}");
    let list = vec![
        run(101, &[3, 5], EvalRunStatus::Running, 4, 0),
        run(103, &[3], EvalRunStatus::Completed, 3, 7),
    ];
    app.on_response(id, Response::Eval(EvalResponse::Runs(Ok(list))));
    assert_eq!(app.evals.screen(), Screen::Runs);
    app
}

fn run_open() -> App {
    let mut app = runs_open();
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let (id, req) = eval_request(&fx);
    assert!(
        matches!(req, EvalRequest::Run { run, .. } if run == Uuid::from_u128(101)),
        "{req:?}"
    );
    app.on_response(id, Response::Eval(EvalResponse::Run(Ok(running_detail()))));
    app
}

#[test]
fn snapshot_eval_sets_with_their_last_run() {
    let app = sets_open();
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Booking requests"), "{screen}");
    assert!(screen.contains("v3 67% · v5 100%"), "{screen}");
    assert!(screen.contains("never run"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn snapshot_eval_set_cases() {
    let app = cases_open();
    let screen = render(&app, 80, 24);
    assert!(screen.contains("hot · +1 · −1 · ≤600"), "{screen}");
    assert!(screen.contains("Must contain \"Saturday\""), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn snapshot_eval_runs_newest_first() {
    let app = runs_open();
    let screen = render(&app, 80, 24);
    assert!(screen.contains("4/6 cases"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn snapshot_eval_run_side_by_side_with_difference_and_progress() {
    let mut app = run_open();
    // Select the second row, so the differing first row is not the
    // selection's reversed style.
    press(&mut app, &[key('j')]);
    let mut term = Terminal::new(TestBackend::new(110, 24)).unwrap();
    term.draw(|f| ui::draw(f, &app)).unwrap();
    let buf = term.backend().buffer().clone();
    let screen = buffer_text(&buf);
    assert!(screen.contains("running 4/6 cases"), "{screen}");
    assert!(screen.contains("1 case differs"), "{screen}");
    let rows: Vec<(u16, &str)> = screen
        .lines()
        .enumerate()
        .map(|(y, l)| (y as u16, l))
        .collect();
    let (y, row) = rows
        .iter()
        .find(|(_, l)| l.contains("1 Can I book"))
        .expect("the first case's row");
    assert!(
        row.contains('≠') && row.contains("FAIL") && row.contains("pass"),
        "{row}"
    );
    let x = row
        .find("Can I")
        .map(|b| row[..b].chars().count() as u16)
        .unwrap_or(0);
    assert!(
        buf[(x, *y)].modifier.contains(Modifier::BOLD),
        "the differing row is highlighted"
    );
    let (y2, other) = rows
        .iter()
        .find(|(_, l)| l.contains("2 What do"))
        .expect("the second case's row");
    assert!(!other.contains('≠'), "{other}");
    let x2 = other
        .find("What")
        .map(|b| other[..b].chars().count() as u16)
        .unwrap_or(0);
    assert!(!buf[(x2, *y2)].modifier.contains(Modifier::BOLD));
    insta::assert_snapshot!(screen);
}

#[test]
fn a_running_run_follows_progress_events_and_polls_until_it_finishes() {
    let mut app = run_open();
    let ev = ServerEvent {
        id: 7,
        kind: "eval.progress".into(),
        data: serde_json::json!({
            "run_id": Uuid::from_u128(101), "set_id": Uuid::from_u128(81),
            "done": 5, "total": 6,
        }),
    };
    let fx = app.on_event(tenant_id(), ev.clone());
    let (id, req) = eval_request(&fx);
    assert!(matches!(req, EvalRequest::Run { .. }), "{req:?}");
    // A second event while that read is on its way asks for nothing more.
    assert!(eval_requests(&app.on_event(tenant_id(), ev)).is_empty());
    let mut detail = running_detail();
    detail.run.progress.done = 5;
    app.on_response(id, Response::Eval(EvalResponse::Run(Ok(detail))));
    assert!(render(&app, 110, 24).contains("5/6 cases"));
    // Without events the run is read again every two ticks.
    assert!(eval_requests(&app.update(Action::Tick)).is_empty());
    let fx = app.update(Action::Tick);
    let (id, req) = eval_request(&fx);
    assert!(matches!(req, EvalRequest::Run { .. }), "{req:?}");
    let mut done = running_detail();
    done.run.status = EvalRunStatus::Completed;
    done.run.progress.done = 6;
    app.on_response(id, Response::Eval(EvalResponse::Run(Ok(done))));
    // Finished: no more polling.
    for _ in 0..4 {
        assert!(eval_requests(&app.update(Action::Tick)).is_empty());
    }
}

#[test]
fn leaving_a_running_run_stops_the_polling() {
    let mut app = run_open();
    let fx = app.update(Action::Tick);
    assert!(eval_requests(&fx).is_empty());
    press(&mut app, &[code(KeyCode::Esc)]);
    assert_eq!(app.evals.screen(), Screen::Runs);
    for _ in 0..4 {
        let polled: Vec<_> = eval_requests(&app.update(Action::Tick))
            .into_iter()
            .filter(|(_, r)| matches!(r, EvalRequest::Run { .. }))
            .collect();
        assert!(polled.is_empty(), "{polled:?}");
    }
}

#[test]
fn opening_a_case_shows_both_replies_in_full() {
    let mut app = run_open();
    press(&mut app, &[code(KeyCode::Enter)]);
    assert_eq!(app.evals.screen(), Screen::Result);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("We are open on weekdays."), "{screen}");
    assert!(screen.contains("Yes! Saturday at 10 works."), "{screen}");
    assert!(screen.contains("v3 FAIL"), "{screen}");
    assert!(screen.contains("v5 pass"), "{screen}");
}

#[test]
fn snapshot_two_runs_compared() {
    let mut app = runs_open();
    // Mark last week's run, go back to this one, compare.
    press(&mut app, &[key('j'), key(' '), key('k')]);
    let fx = press(&mut app, &[key('c')]);
    let (id, req) = eval_request(&fx);
    assert_eq!(
        req,
        EvalRequest::Compare {
            tenant: tenant_id().to_string(),
            set: Uuid::from_u128(81),
            run: Uuid::from_u128(103),
            other: Uuid::from_u128(101),
        }
    );
    let cs = cases();
    let cmp = EvalComparison {
        left: ComparedLane {
            run_id: Uuid::from_u128(103),
            version: 3,
            summary: summary(3, 1, 3),
        },
        right: ComparedLane {
            run_id: Uuid::from_u128(101),
            version: 5,
            summary: summary(5, 2, 3),
        },
        cases: cs
            .iter()
            .map(|c| ComparedCase {
                case_id: c.id,
                position: c.position,
                message: c.message.clone(),
                left: Some(c.position != 1),
                right: Some(c.position != 3),
                differs: c.position != 2,
            })
            .collect(),
    };
    app.on_response(id, Response::Eval(EvalResponse::Compared(Ok(cmp))));
    assert_eq!(app.evals.screen(), Screen::Compare);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("2 differ"), "{screen}");
    insta::assert_snapshot!(screen);
}

/// The Leads pane with `l` open.
fn lead_open(l: Lead) -> App {
    let mut app = leads_loaded(vec![l.clone()], None);
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    let load = id_of(&fx, |r| matches!(r, Request::LoadLead { .. }));
    app.on_response(
        load,
        Response::Lead(Box::new(LeadData {
            lead: Ok(l),
            timeline: Ok(timeline()),
        })),
    );
    app
}

#[test]
fn snapshot_add_case_from_a_lead() {
    let l = lead(31, "Maria Lopez", "Lopez Bakery", 2);
    let mut app = lead_open(l.clone());
    let fx = press(&mut app, &[key('E')]);
    let (id, req) = eval_request(&fx);
    assert_eq!(
        req,
        EvalRequest::Sets {
            tenant: tenant_id().to_string()
        }
    );
    app.on_response(id, Response::Eval(EvalResponse::Sets(Ok(sets()))));
    let Some(Modal::Form(open)) = &app.modal else {
        panic!("the add-to-set form opens");
    };
    assert_eq!(open.form.value("message"), l.message);
    assert_eq!(open.form.value("set"), "Booking requests");
    let screen = render(&app, 80, 24);
    insta::assert_snapshot!(screen);
    // The second set, saved unchanged: the server copies the lead.
    press(&mut app, &[code(KeyCode::Right)]);
    let fx = press(&mut app, &[ctrl('s')]);
    let (id, req) = eval_request(&fx);
    let EvalRequest::AddCase { set, new, .. } = req else {
        panic!("expected a case, got {req:?}");
    };
    assert_eq!(set, Uuid::from_u128(82));
    assert_eq!(new.from_lead, Some(l.id));
    assert_eq!(new.message, None);
    let saved = case(94, 1, &l.message, EvalExpectations::default());
    app.on_response(id, Response::Eval(EvalResponse::CaseSaved(Ok(saved))));
    assert!(app.modal.is_none());
    assert!(
        app.toasts
            .iter()
            .any(|t| t.text.contains("Added a case to \"Spam and abuse\"")),
        "{:?}",
        app.toasts
    );
}

#[test]
fn snapshot_a_refused_case_save_keeps_the_draft() {
    let mut app = cases_open();
    press(&mut app, &[key('n')]);
    typed(&mut app, "Is the salon open on Sunday?");
    // To "Longest reply" (message, name, category, must, must not, max).
    press(&mut app, &[code(KeyCode::Tab); 5]);
    typed(&mut app, "400");
    let fx = press(&mut app, &[ctrl('s')]);
    let (id, req) = eval_request(&fx);
    let EvalRequest::AddCase { new, .. } = req else {
        panic!("expected a case, got {req:?}");
    };
    assert_eq!(new.message.as_deref(), Some("Is the salon open on Sunday?"));
    assert_eq!(new.expect.max_chars, Some(400));
    app.on_response(
        id,
        Response::Eval(EvalResponse::CaseSaved(Err(validation(
            "expect.max_chars",
            "the set already holds 200 cases",
        )))),
    );
    let Some(Modal::Form(open)) = &app.modal else {
        panic!("the form stays open");
    };
    assert_eq!(open.form.value("message"), "Is the salon open on Sunday?");
    assert!(!open.form.submitting);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("200 cases"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn a_bad_version_is_refused_in_the_run_form() {
    let mut app = cases_open();
    let fx = press(&mut app, &[key('s')]);
    let (id, req) = eval_request(&fx);
    assert!(matches!(req, EvalRequest::Agents { .. }), "{req:?}");
    app.on_response(
        id,
        Response::Eval(EvalResponse::Agents(Ok(super::agents::mixed_agents()))),
    );
    assert!(matches!(&app.modal, Some(Modal::Form(_))));
    press(&mut app, &[code(KeyCode::Tab)]);
    typed(&mut app, "three");
    let fx = press(&mut app, &[ctrl('s')]);
    assert!(eval_requests(&fx).is_empty());
    let Some(Modal::Form(open)) = &app.modal else {
        panic!("the form stays open");
    };
    assert!(open
        .form
        .field("version")
        .is_some_and(|f| f.error.is_some()));
    // Numbers go through, the second version as the one compared.
    press(&mut app, &[code(KeyCode::Backspace); 5]);
    typed(&mut app, "3");
    press(&mut app, &[code(KeyCode::Tab)]);
    typed(&mut app, "v5");
    let fx = press(&mut app, &[ctrl('s')]);
    let (_, req) = eval_request(&fx);
    let EvalRequest::StartRun { new, .. } = req else {
        panic!("expected a run, got {req:?}");
    };
    assert_eq!(new.agent_id, super::agents::mixed_agents()[0].id);
    assert_eq!((new.version, new.against), (Some(3), Some(5)));
}

#[test]
fn e_in_the_playground_adds_the_last_message_and_a_failure_keeps_the_form() {
    use super::playground::{chat_with, message, session};
    use switchboard::domain::ReplyStatus;
    let s = session(false);
    let mut app = chat_with(
        s.clone(),
        vec![
            message(&s, 1, None, "Do you cut curly hair?", None),
            message(&s, 2, Some(0), "Yes, we do.", Some(ReplyStatus::Complete)),
            message(&s, 3, None, "Can I come on Saturday?", None),
            message(
                &s,
                4,
                Some(0),
                "Saturday works.",
                Some(ReplyStatus::Complete),
            ),
        ],
    );
    // Esc gives the transcript the focus; E asks which set.
    let fx = press(&mut app, &[code(KeyCode::Esc), key('E')]);
    let (id, req) = eval_request(&fx);
    assert!(matches!(req, EvalRequest::Sets { .. }), "{req:?}");
    app.on_response(id, Response::Eval(EvalResponse::Sets(Ok(sets()))));
    let Some(Modal::Form(open)) = &app.modal else {
        panic!("the add-to-set form opens");
    };
    assert_eq!(open.form.value("message"), "Can I come on Saturday?");
    let fx = press(&mut app, &[ctrl('s')]);
    let (id, req) = eval_request(&fx);
    let EvalRequest::AddCase { set, new, .. } = req else {
        panic!("expected a case, got {req:?}");
    };
    assert_eq!(set, Uuid::from_u128(81));
    let at = new
        .from_playground
        .expect("made from the playground message");
    assert_eq!((at.session_id, at.message_id), (s.id, Uuid::from_u128(803)));
    app.on_response(
        id,
        Response::Eval(EvalResponse::CaseSaved(Err(unreachable()))),
    );
    let Some(Modal::Form(open)) = &app.modal else {
        panic!("a failed save keeps the form");
    };
    assert_eq!(open.form.value("message"), "Can I come on Saturday?");
    assert!(!open.form.submitting);
    assert!(
        app.toasts.iter().any(|t| t
            .text
            .contains("Could not add the case to \"Booking requests\"")),
        "{:?}",
        app.toasts
    );
}

#[test]
fn an_import_file_is_read_as_csv_or_json() {
    use switchboard::console::evals::{read_import, ImportBody};
    let dir = std::env::temp_dir().join(format!("sb-evals-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let csv = dir.join("cases.csv");
    std::fs::write(&csv, "message,category\nHello,hot\n").expect("write csv");
    let json = dir.join("cases.JSON");
    std::fs::write(
        &json,
        r#"[{"message": "Hi", "expect": {"category": "warm"}}]"#,
    )
    .expect("write json");
    let wrapped = dir.join("wrapped.json");
    std::fs::write(&wrapped, r#"{"cases": [{"message": "Hey"}]}"#).expect("write json");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{not json").expect("write json");
    assert_eq!(
        read_import(&csv.to_string_lossy()),
        Ok(ImportBody::Csv("message,category\nHello,hot\n".into()))
    );
    let Ok(ImportBody::Json(list)) = read_import(&json.to_string_lossy()) else {
        panic!("a JSON list of cases");
    };
    assert_eq!(list.cases[0].message, "Hi");
    assert_eq!(list.cases[0].expect.category, Some(Category::Warm));
    let Ok(ImportBody::Json(w)) = read_import(&wrapped.to_string_lossy()) else {
        panic!("a JSON object of cases");
    };
    assert_eq!(w.cases[0].message, "Hey");
    let err = read_import(&bad.to_string_lossy()).expect_err("not JSON");
    assert!(err.contains("bad.json"), "{err}");
    let missing = read_import(&dir.join("none.csv").to_string_lossy()).expect_err("missing");
    assert!(missing.contains("could not read"), "{missing}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn snapshot_eval_run_at_80_columns() {
    let app = run_open();
    let screen = render(&app, 80, 24);
    assert!(screen.contains("4/6 cases"), "{screen}");
    assert!(screen.contains("FAIL"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn an_import_into_the_selected_set_counts_its_cases() {
    let mut app = sets_open();
    let fx = command(&mut app, "evals import ~/cases.csv");
    let (id, req) = eval_request(&fx);
    assert_eq!(
        req,
        EvalRequest::Import {
            tenant: tenant_id().to_string(),
            set: Uuid::from_u128(81),
            path: "~/cases.csv".into(),
        }
    );
    let report = switchboard::domain::eval::EvalImportReport {
        imported: 2,
        cases: Vec::new(),
    };
    app.on_response(id, Response::Eval(EvalResponse::Imported(Ok(report))));
    assert!(
        app.toasts.iter().any(|t| t.text == "Imported 2 cases"),
        "{:?}",
        app.toasts
    );
    assert!(render(&app, 80, 24).contains("Booking requests           5"));
}

#[test]
fn a_set_is_created_renamed_and_deleted_after_a_yes() {
    let mut app = sets_open();
    press(&mut app, &[key('n')]);
    typed(&mut app, "Opening hours");
    let fx = press(&mut app, &[ctrl('s')]);
    let (id, req) = eval_request(&fx);
    let EvalRequest::CreateSet { new, .. } = req else {
        panic!("expected a new set, got {req:?}");
    };
    assert_eq!(new.name, "Opening hours");
    let created = EvalSetDetail {
        set: set(83, "Opening hours", 0),
        cases: Vec::new(),
    };
    app.on_response(id, Response::Eval(EvalResponse::SetCreated(Ok(created))));
    assert!(app.modal.is_none());
    let names: Vec<String> = app
        .evals
        .sets()
        .loaded()
        .map(|l| l.iter().map(|s| s.name.clone()).collect())
        .unwrap_or_default();
    assert_eq!(
        names,
        ["Booking requests", "Opening hours", "Spam and abuse"]
    );
    // The new set is selected: rename it.
    press(&mut app, &[key('e')]);
    press(&mut app, &[code(KeyCode::Backspace); 5]);
    typed(&mut app, "times");
    let fx = press(&mut app, &[ctrl('s')]);
    let (_, req) = eval_request(&fx);
    let EvalRequest::UpdateSet { set: id, patch, .. } = req else {
        panic!("expected a rename, got {req:?}");
    };
    assert_eq!(id, Uuid::from_u128(83));
    assert_eq!(patch.name.as_deref(), Some("Opening times"));
    press(&mut app, &[code(KeyCode::Esc)]);
    // Delete asks first; no request before the yes.
    let fx = press(&mut app, &[key('d')]);
    assert!(eval_requests(&fx).is_empty());
    assert!(matches!(app.modal, Some(Modal::Confirm { .. })));
    let fx = press(&mut app, &[key('y')]);
    let (id, req) = eval_request(&fx);
    assert_eq!(
        req,
        EvalRequest::DeleteSet {
            tenant: tenant_id().to_string(),
            set: Uuid::from_u128(83)
        }
    );
    app.on_response(id, Response::Eval(EvalResponse::SetDeleted(Ok(()))));
    assert_eq!(app.evals.sets().loaded().map(Vec::len), Some(2));
}
