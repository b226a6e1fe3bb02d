//! The all-tenants overdue queue through the real binary (issue 15): `o`
//! opens it for a user with several tenants, three leads of two tenants
//! are marked and assigned with one `a`, the screen says the outcome per
//! tenant, and the API shows the leads assigned.

use super::*;
use switchboard::api::Client;
use switchboard::domain::{LeadQuery, NewMember, NewTenant, Role};

const PASSWORD: &str = "a good long password";

fn add_user(root: &Path, email: &str, name: &str, admin: bool) {
    let mut add = cmd(root);
    add.args(["user", "add", email, "--name", name, "--password-stdin"]);
    if admin {
        add.arg("--platform-admin");
    }
    let out = run_with_stdin(add, &format!("{PASSWORD}\n"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The lead rows of the queue on screen, top to bottom: (the row's left
/// part, where no toast covers it, and its tenant).
fn rows<'a>(screen: &str, tenants: &[&'a str]) -> Vec<(String, &'a str)> {
    screen
        .lines()
        .skip(4) // header, tabs, title, column names
        .map(|l| l.chars().take(56).collect::<String>())
        .filter_map(|l| {
            let t = tenants.iter().find(|t| l.contains(**t))?;
            Some((l, *t))
        })
        .collect()
}

#[tokio::test]
async fn tmux_the_overdue_queue_of_two_tenants_assigned_in_one_go() {
    let server_root = test_root();
    add_user(server_root.path(), "boss@agency.test", "Boss", true);
    add_user(server_root.path(), "kim@agency.test", "Kim Lee", false);
    let server = serve(server_root.path());
    let client = Client::new(&server.url).expect("client");
    let token = client
        .login("boss@agency.test", PASSWORD)
        .await
        .expect("login")
        .token;
    let admin = client.with_token(token);
    let tenants = ["Alpha Dental", "Beta Law"];
    let mut slugs = Vec::new();
    for name in tenants {
        let t = admin
            .create_tenant(&NewTenant {
                name: name.into(),
                ..Default::default()
            })
            .await
            .expect("create tenant");
        // The samples include leads received more than a day ago: overdue
        // under the default 24 h SLA.
        admin.import_sample(&t.slug).await.expect("import samples");
        admin
            .add_member(
                &t.slug,
                &NewMember {
                    email: "kim@agency.test".into(),
                    role: Role::Agent,
                },
            )
            .await
            .expect("add Kim");
        slugs.push(t.slug);
    }

    let me = test_root();
    let mut login = cmd(me.path());
    login.args(["login", "--server", &server.url, "--password-stdin"]);
    let out = run_with_stdin(login, &format!("boss@agency.test\n{PASSWORD}\n"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let Some(tmux) = console_in_tmux(me.path()) else {
        return;
    };
    tmux.wait_for("tenant: ");
    tmux.keys(&["2"]);
    tmux.wait_for("Leads (");
    // Several tenants: `o` is every tenant's overdue queue, and says how to
    // narrow it.
    tmux.keys(&["o"]);
    tmux.wait_for("Overdue queue across your 2 tenants");
    let screen = tmux.wait_for(") · all tenants · overdue queue");
    assert!(screen.contains("T this tenant"), "{screen}");
    let listed = rows(&screen, &tenants);
    assert!(
        listed.iter().any(|(_, t)| *t == tenants[0])
            && listed.iter().any(|(_, t)| *t == tenants[1]),
        "both tenants' overdue leads:\n{screen}"
    );

    // Mark three rows of the two tenants: the first two, then the first row
    // of the tenant they lack (or the third row when they are both).
    assert!(listed.len() >= 3, "three overdue leads:\n{screen}");
    let third = if listed[0].1 == listed[1].1 {
        listed
            .iter()
            .position(|(_, t)| *t != listed[0].1)
            .expect("a row of the other tenant")
    } else {
        2
    };
    let marked = [0, 1, third];
    // `space` marks the row and moves to the next.
    tmux.keys(&["Space", "Space"]);
    for _ in 2..third {
        tmux.keys(&["j"]);
    }
    tmux.keys(&["Space"]);
    tmux.wait_for("3 marked");
    // `a`: the members of both tenants are read, then the picker offers
    // those they have in common.
    tmux.keys(&["a"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let screen = tmux.capture();
        if screen.contains("Kim Lee <kim@agency.test>") {
            break;
        }
        assert!(Instant::now() < deadline, "no assignee picker:\n{screen}");
        if screen.contains("press the key again") {
            std::thread::sleep(Duration::from_millis(500));
            tmux.keys(&["a"]);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // Down to Kim (the picker starts on "nobody").
    for _ in 0..5 {
        if tmux.capture().contains("› Kim Lee") {
            break;
        }
        tmux.keys(&["j"]);
        std::thread::sleep(Duration::from_millis(200));
    }
    tmux.wait_for("› Kim Lee");
    tmux.keys(&["Enter"]);
    // One outcome per tenant (a toast 40 columns wide: the assignee's name
    // wraps onto the next line).
    for t in tenants {
        let n = marked.iter().filter(|&&i| listed[i].1 == t).count();
        let count = format!("{n} lead{}", if n == 1 { "" } else { "s" });
        tmux.wait_for_within(&format!("{t}: assigned {count}"), 10);
    }

    // The API agrees: the three leads marked are Kim's, and only those.
    let kim = admin
        .list_members(&slugs[0], &Default::default())
        .await
        .expect("members")
        .items
        .into_iter()
        .find(|m| m.email == "kim@agency.test")
        .expect("Kim is a member")
        .user_id;
    let theirs = admin
        .list_queue(
            &LeadQuery {
                assignee: Some(kim.to_string()),
                ..Default::default()
            },
            &[],
        )
        .await
        .expect("the queue");
    let mut assigned: Vec<String> = theirs.items.iter().map(|q| q.tenant.name.clone()).collect();
    assigned.sort();
    let mut expected: Vec<String> = marked.iter().map(|&i| listed[i].1.to_string()).collect();
    expected.sort();
    assert_eq!(assigned, expected, "{:?}", theirs.items);
    for q in &theirs.items {
        let shown: String = q.lead.name.chars().take(8).collect();
        assert!(
            marked
                .iter()
                .any(|&i| listed[i].1 == q.tenant.name && listed[i].0.contains(&shown)),
            "{} of {} was not marked: {listed:?}",
            q.lead.name,
            q.tenant.name
        );
    }
    tmux.keys(&["q"]);
    tmux.wait_for("EXITED 0");
}
