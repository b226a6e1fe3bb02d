use super::*;

#[test]
fn slugify_makes_valid_slugs() {
    assert_eq!(slugify("Open Arms"), "open-arms");
    assert_eq!(slugify("  Bob's  Plumbing & Co. "), "bob-s-plumbing-co");
    assert!(validate_slug(&slugify("Open Arms")).is_ok());
    assert!(validate_slug("Open").is_err());
    assert!(validate_slug("a--b").is_err());
    assert!(validate_slug("x").is_err());
}

#[test]
fn stages_keep_their_ids_through_renames_and_new_ones_get_fresh_ids() {
    let mut s = TenantSettings::default();
    let patch = TenantSettingsPatch {
        pipeline_stages: Some(vec![
            StageInput {
                id: Some("contacted".into()),
                name: "Called".into(),
            },
            StageInput {
                id: Some("new".into()),
                name: "Inbox".into(),
            },
            StageInput {
                id: None,
                name: "New".into(),
            },
        ]),
        ..Default::default()
    };
    let mut errors = Vec::new();
    patch.validate(&mut errors);
    assert!(errors.is_empty(), "{errors:?}");
    patch.apply(&mut s);
    let ids: Vec<&str> = s.pipeline_stages.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["contacted", "new", "new_2"]);
    assert_eq!(s.stage("new").unwrap().name, "Inbox");
    // Stages stored as bare names still read.
    let old: TenantSettings = serde_json::from_str(
        r#"{"pipeline_stages":["New","In progress"],"sla_hours":4,"spam_keywords":[],"manager_email":null}"#,
    )
    .unwrap();
    assert_eq!(
        old.pipeline_stages[1],
        Stage::new("in_progress", "In progress")
    );
}

#[test]
fn masked_settings_never_show_the_secret() {
    let mut s = TenantSettings::default();
    s.secrets
        .insert("crm".into(), "supersecretvalue1234".into());
    let m = s.masked();
    assert_eq!(m.secrets["crm"], "••••1234");
    assert!(!m.secrets["crm"].contains("supersecret"));
}
