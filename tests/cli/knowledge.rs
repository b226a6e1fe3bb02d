//! The Knowledge view in the real console over tmux: `:knowledge import
//! ~/docs` (files read by the binary, `~` its HOME), the list, a search's
//! snippets, a document open, and a new one written in the form.

use super::*;

#[test]
fn console_imports_a_folder_of_knowledge_searches_and_writes_a_document() {
    let root = test_root();
    let docs = root.path().join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(
        docs.join("hours.md"),
        "# Opening hours\n\nWe open Monday to Friday, nine to six.\n",
    )
    .unwrap();
    std::fs::write(
        docs.join("parking.txt"),
        "Free parking behind the salon, ten spaces.\n",
    )
    .unwrap();
    std::fs::write(docs.join("menu.pdf"), "%PDF-1.4").unwrap();
    let Some(tmux) = console_in_tmux(root.path()) else {
        return;
    };
    onboard(&tmux);

    tmux.keys(&[":knowledge", "Enter"]);
    tmux.wait_for("Knowledge (");
    tmux.keys(&[":knowledge import ~/docs", "Enter"]);
    let screen = tmux.wait_for("Imported 2 documents");
    assert!(
        screen.contains("menu.pdf is not .md/.txt"),
        "the skipped file and why:\n{screen}"
    );
    let screen = tmux.wait_for("Opening hours");
    assert!(screen.contains("parking"), "titled by file name:\n{screen}");

    // A search shows the matching snippet; enter opens its document.
    tmux.keys(&["/"]);
    tmux.keys(&["parking"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("Search \"parking\"");
    tmux.wait_for("Free parking behind the salon");
    tmux.keys(&["Enter"]);
    tmux.wait_for("updated");
    tmux.escape();
    tmux.escape();

    // A new document, written in the form.
    tmux.keys(&["n"]);
    tmux.wait_for("New document");
    tmux.keys(&["Refunds"]);
    tmux.keys(&["Tab"]);
    tmux.keys(&["No refunds after the cut."]);
    tmux.keys(&["C-s"]);
    tmux.wait_for("Added the document \"Refunds\"");
    tmux.escape();
    tmux.escape();
    tmux.keys(&["q"]);
    tmux.wait_for("EXITED 0");
}
