//! The approvals view's part of the one keymap
//! (see `bindings.rs`).

use crate::console::action::Action;
use crate::console::bindings::{moves, Default_};
use crate::console::keymap::Context;

pub(crate) fn bindings() -> Vec<Default_> {
    use Action as A;
    use Context as C;
    let [up, down, first, last] = moves(C::Approvals, "first row", "last row");
    vec![
        (
            "approvals",
            C::LeadList,
            &["A"],
            A::Approvals,
            "approvals",
            false,
        ),
        (
            "start_workflow",
            C::LeadList,
            &["w"],
            A::StartWorkflow,
            "run workflows of marked leads",
            false,
        ),
        (
            "start_workflow",
            C::LeadDetail,
            &["w"],
            A::StartWorkflow,
            "run workflow",
            true,
        ),
        (
            "stop_workflow",
            C::LeadDetail,
            &["W"],
            A::StopWorkflow,
            "stop workflow",
            false,
        ),
        up,
        down,
        first,
        last,
        (
            "approve",
            C::ApprovalDecision,
            &["a"],
            A::Approve,
            "approve",
            true,
        ),
        (
            "edit",
            C::ApprovalDecision,
            &["e"],
            A::Edit,
            "edit & approve",
            true,
        ),
        (
            "reject",
            C::ApprovalDecision,
            &["r"],
            A::Reject,
            "reject",
            true,
        ),
        (
            "retry_workflow",
            C::WorkflowRetry,
            &["r"],
            A::RetryWorkflow,
            "run again",
            true,
        ),
        (
            "status",
            C::Approvals,
            &["f"],
            A::NextStatus,
            "status",
            true,
        ),
        (
            "open",
            C::Approvals,
            &["enter"],
            A::Open,
            "open lead",
            false,
        ),
        (
            "refresh",
            C::Approvals,
            &["ctrl-r"],
            A::Retry,
            "reload",
            false,
        ),
        ("back", C::Approvals, &["esc"], A::Back, "back", true),
    ]
}
