//! Names in CJK scripts and with emoji take two columns a character: the
//! console measures and wraps them in columns, so they line up and fit.

use super::leads::{lead, leads_loaded};
use super::*;
use switchboard::console::widgets::toast::Toast;

fn wide_leads() -> Vec<switchboard::domain::Lead> {
    vec![
        lead(21, "山田太郎", "株式会社サンプル", 20),
        lead(22, "Zoë 🎉 Party", "Confetti 🎊 Ltd", 45),
        lead(23, "李伟", "", 90),
        lead(24, "Jane Doe", "Acme", 120),
    ]
}

#[test]
fn snapshot_leads_with_cjk_and_emoji_names() {
    let app = leads_loaded(wide_leads(), None);
    insta::assert_snapshot!(render(&app, 80, 24));
}

#[test]
fn an_error_toast_of_wide_text_is_tall_enough_to_say_how_to_dismiss_it() {
    // Forty CJK characters are eighty columns: counted as forty chars, the
    // box was one line short and cut off what to do.
    let mut app = leads_loaded(wide_leads(), None);
    app.toast(Toast::error(
        "山田太郎様の見積もり依頼を削除できませんでした。東京都渋谷区神南一丁目の株式会社サンプルに確認してください",
    ));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("dismiss)"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn a_wide_tenant_name_keeps_the_leads_figure_in_the_header() {
    let mut t = tenant(1, "東京デンタルクリニック渋谷本院", "tokyo", Tier::Pro, 3);
    t.usage.leads_this_month = 7;
    let app = loaded_with(true, vec![platform(), t]);
    let screen = render(&app, 80, 24);
    let header = screen.lines().next().unwrap_or_default();
    // The header drops its least useful parts to fit 80 columns: counted
    // in chars, the long form was kept and the figure fell off the edge.
    assert!(header.contains("7/1000 leads"), "{header}");
    assert!(!header.contains("admin@local"), "{header}");
}
