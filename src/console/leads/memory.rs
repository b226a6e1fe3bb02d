//! What the Leads list shows, kept between runs per context: its scope as
//! `:leads` is given it (`all overdue`, `stage won`, …) and its `/` text.

use serde::{Deserialize, Serialize};

use super::{LeadScope, LeadsView};
use crate::console::component::Cx;
use crate::console::effect::Effect;

/// The remembered view of the Leads list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadsMemory {
    /// The `:leads` argument that brings the scope back ("" for all leads).
    #[serde(default)]
    pub scope: String,
    /// The `/` search text.
    #[serde(default)]
    pub search: String,
}

impl LeadsView {
    /// What to remember of the list now. (A queue narrowed to named
    /// tenants comes back as the whole queue.)
    pub fn memory(&self) -> LeadsMemory {
        let scope = match &self.filter.scope {
            LeadScope::All => String::new(),
            LeadScope::Overdue => "overdue".into(),
            LeadScope::AtRisk => "at_risk".into(),
            LeadScope::Stage(id) => format!("stage {id}"),
            LeadScope::Mine => "mine".into(),
            LeadScope::Spam => "spam".into(),
        };
        let scope = match (self.all_tenants, scope.is_empty()) {
            (true, true) => "all".to_string(),
            (true, false) => format!("all {scope}"),
            (false, _) => scope,
        };
        LeadsMemory {
            scope,
            search: self.filter.q.clone(),
        }
    }

    /// Brings a remembered view back (once the tenants are known); one that
    /// no longer applies (a stage since removed) is dropped quietly.
    pub(crate) fn restore(&mut self, memory: &LeadsMemory, cx: &mut Cx<'_>) -> Vec<Effect> {
        let search = memory.search.trim();
        let mut out = Vec::new();
        if !memory.scope.trim().is_empty() {
            out = self.command(&memory.scope, cx).unwrap_or_default();
        }
        if search.is_empty() {
            return out;
        }
        // After the scope (which settles the list's tenant): the text, and
        // the list again with it; the first answer, if any, is then stale.
        self.filter.q = search.to_string();
        self.draft = search.to_string();
        self.set_scope(self.filter.scope.clone(), cx)
    }
}
