//! Placeholder until the console branch lands.
pub struct ConsoleOptions {
    pub server_label: String,
    pub key_overrides: std::collections::BTreeMap<String, String>,
    pub no_color: bool,
}
pub async fn run(_client: crate::api::Client, _options: ConsoleOptions) -> anyhow::Result<()> {
    anyhow::bail!("console not merged yet")
}
