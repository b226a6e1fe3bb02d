//! Types shared by the server and the typed client: one definition, no drift.

pub mod access;
pub mod agent;
pub mod analytics;
pub mod api_key;
pub mod audit;
pub mod auth;
pub mod business_hours;
pub mod conversion;
pub mod eval;
pub mod event;
pub mod knowledge;
pub mod lead;
pub mod member;
pub mod model_fetch;
pub mod netaddr;
pub mod page;
pub mod platform;
pub mod playground;
pub mod problem;
pub mod queue;
pub mod research;
pub mod secret;
pub mod tenant;
pub mod tenant_profile;
pub mod text;
pub mod usage;
pub mod validate;
pub mod webhook;
pub mod workflow;

pub use access::{Grants, Permission, Role};
pub use agent::{
    Agent, AgentConfig, AgentCopy, AgentLink, AgentPatch, AgentQuery, AgentSort, AgentVersion,
    Channel, ModelInfo, NewAgent, NewWorkspace, Sharing, SharingChange, Workspace, WorkspacePatch,
};
pub use analytics::{
    Analytics, AnalyticsQuery, DayCount, NamedCount, ResponseTimes, SlaSummary, TenantOverview,
};
pub use api_key::{
    ApiKey, ApiKeyScope, ApiKeyState, CreatedApiKey, NewApiKey, RotateApiKey, RotatedApiKey,
    MAX_ROTATION_OVERLAP_MINUTES,
};
pub use audit::{AuditEvent, AuditFilter};
pub use auth::{LoginRequest, LoginResponse, Me, MembershipSummary, PasswordChange, User};
pub use conversion::{Conversion, FunnelLead, SourceConversion, StageConversion, StageMove};
pub use event::ServerEvent;
pub use knowledge::{
    AgentKnowledge, KnowledgeDocument, KnowledgeFormat, KnowledgeMode, KnowledgePatch,
    KnowledgeQuery, KnowledgeSnippet, KnowledgeSummary, NewKnowledgeDocument, SnippetRef,
};
pub use lead::{
    BulkLeads, BulkResult, ImportReport, ImportRowError, IngestReceipt, Lead, LeadInput, LeadPatch,
    LeadQuery, LeadSource, NewNote, Qualification, SlaState, TimelineEntry, Usage, Utm,
};
pub use member::{
    AcceptInvitation, AcceptedInvitation, CreatedInvitation, Invitation, Member, MemberAdded,
    MemberPermissions, NewInvitation, NewMember, PendingInvitation, RoleChange,
};
pub use page::{Page, PageQuery};
pub use playground::{
    NewPlaygroundMessage, NewPlaygroundSession, PlaygroundEvent, PlaygroundLane, PlaygroundMessage,
    PlaygroundRole, PlaygroundSession, PlaygroundTarget, PlaygroundTranscript, RegenerateReply,
    ReplyOverrides, ReplyStats, ReplyStatus, SaveAsLead,
};
pub use problem::{FieldError, Problem, ProblemKind};
pub use queue::{QueueLead, QueueTenants, TenantRef};
pub use research::{RelatedLead, SettingFact, WorkflowSources};
pub use tenant::{
    NewTenant, SlaRule, Stage, StageInput, Tenant, TenantDeletion, TenantPatch, TenantSettings,
    TenantSettingsPatch, TenantStatus, TenantUsage, Tier,
};
pub use webhook::{
    DeliveryStatus, NewWebhook, RetryPolicy, Webhook, WebhookAttempt, WebhookDelivery,
    WebhookDeliveryDetail, WebhookPatch, WebhookPayload, WebhookWithSecret,
};
pub use workflow::{
    ApproveWorkflow, RejectWorkflow, StartWorkflow, StepKind, StepOutcome, Workflow,
    WorkflowStatus, WorkflowStep,
};
