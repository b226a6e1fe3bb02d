//! `switchboard completions SHELL`: the shell's completion script on stdout.

use std::io::Write;

use anyhow::Context;

/// Writes the completion script of `command` (the whole CLI) for `shell`.
pub fn run(command: &mut clap::Command, shell: clap_complete::Shell) -> anyhow::Result<()> {
    let mut out = Vec::new();
    clap_complete::generate(shell, command, "switchboard", &mut out);
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&out)
        .and_then(|()| stdout.flush())
        .context("cannot write the completion script to stdout")
}
