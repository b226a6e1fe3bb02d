//! `switchboard completions SHELL`: the shell's completion script on stdout.

use std::io::Write;

use anyhow::Context;

/// Writes the completion script of `command` (the whole CLI) for `shell`,
/// without the hidden subcommands (`bench`): the generators would list them.
pub fn run(command: &mut clap::Command, shell: clap_complete::Shell) -> anyhow::Result<()> {
    let mut shown = without_hidden(command);
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut shown, "switchboard", &mut out);
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&out)
        .and_then(|()| stdout.flush())
        .context("cannot write the completion script to stdout")
}

/// `command` with its arguments and only the subcommands `--help` shows.
fn without_hidden(command: &clap::Command) -> clap::Command {
    let mut shown = clap::Command::new("switchboard")
        .version(env!("CARGO_PKG_VERSION"))
        .disable_help_subcommand(command.is_disable_help_subcommand_set());
    if let Some(about) = command.get_about() {
        shown = shown.about(about.clone());
    }
    for arg in command.get_arguments() {
        shown = shown.arg(arg.clone());
    }
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        shown = shown.subcommand(sub.clone());
    }
    shown
}
