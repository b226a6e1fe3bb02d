//! The Evals screen's key bindings, and `E` (add to an eval set) on a lead
//! and in the playground transcript.

use crate::console::action::Action;
use crate::console::bindings::Default_;
use crate::console::keymap::Context;

pub(crate) fn bindings() -> Vec<Default_> {
    use Action as A;
    use Context as C;
    let mut out: Vec<Default_> = vec![
        (
            "add_to_eval",
            C::LeadDetail,
            &["E"],
            A::AddToEval,
            "add to eval set",
            false,
        ),
        (
            "add_to_eval",
            C::PlaygroundChat,
            &["E"],
            A::AddToEval,
            "add last message to eval set",
            false,
        ),
        ("open", C::EvalSets, &["enter"], A::Open, "open", true),
        ("new", C::EvalSets, &["n"], A::New, "new set", true),
        ("edit", C::EvalSets, &["e"], A::Edit, "rename", true),
        ("delete", C::EvalSets, &["d"], A::Remove, "delete", true),
        ("new", C::EvalCases, &["n"], A::New, "new case", true),
        ("edit", C::EvalCases, &["e", "enter"], A::Edit, "edit", true),
        ("delete", C::EvalCases, &["d"], A::Remove, "delete", true),
        (
            "eval_import",
            C::EvalCases,
            &["i"],
            A::Import,
            "import CSV/JSON",
            true,
        ),
        (
            "eval_run",
            C::EvalCases,
            &["s"],
            A::StartEvalRun,
            "run",
            true,
        ),
        ("eval_tab", C::EvalCases, &["tab"], A::NextTab, "runs", true),
        ("open", C::EvalRuns, &["enter"], A::Open, "open run", true),
        (
            "eval_run",
            C::EvalRuns,
            &["s"],
            A::StartEvalRun,
            "run",
            true,
        ),
        (
            "eval_mark",
            C::EvalRuns,
            &["space"],
            A::Toggle,
            "mark to compare",
            true,
        ),
        (
            "eval_compare",
            C::EvalRuns,
            &["c"],
            A::Compare,
            "compare",
            true,
        ),
        (
            "eval_cancel",
            C::EvalRuns,
            &["x"],
            A::Stop,
            "cancel run",
            false,
        ),
        ("eval_tab", C::EvalRuns, &["tab"], A::NextTab, "cases", true),
        ("open", C::EvalRun, &["enter"], A::Open, "replies", true),
        (
            "eval_cancel",
            C::EvalRun,
            &["x"],
            A::Stop,
            "cancel run",
            false,
        ),
    ];
    let all = [
        C::EvalSets,
        C::EvalCases,
        C::EvalRuns,
        C::EvalRun,
        C::EvalResult,
        C::EvalCompare,
    ];
    for ctx in all {
        out.push(("up", ctx, &["k", "up"], A::Up, "move up", false));
        out.push(("down", ctx, &["j", "down"], A::Down, "move down", false));
        out.push(("top", ctx, &["g", "home"], A::Top, "first", false));
        out.push(("reload", ctx, &["r"], A::Retry, "reload", false));
        out.push(("back", ctx, &["esc"], A::Back, "back", true));
    }
    for ctx in [
        C::EvalSets,
        C::EvalCases,
        C::EvalRuns,
        C::EvalRun,
        C::EvalCompare,
    ] {
        out.push(("bottom", ctx, &["G", "end"], A::Bottom, "last", false));
    }
    out
}
