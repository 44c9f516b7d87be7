//! Shell completions and man pages come from the parser's own definition.

use crate::support::{BIN, TempDir};
use std::process::Command;

#[test]
fn completion_scripts_name_the_commands() {
    for (shell, marker) in [
        ("bash", "_comply()"),
        ("zsh", "#compdef comply"),
        ("fish", "complete -c comply"),
    ] {
        let out = Command::new(BIN)
            .args(["completion", shell])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.contains(marker), "{shell} script lacks {marker}");
        assert!(
            script.contains("requirement"),
            "{shell} script lacks subcommands"
        );
    }
    let bad = Command::new(BIN)
        .args(["completion", "cmd.exe"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn man_pages_cover_every_subcommand() {
    let dir = TempDir::new();
    let out = Command::new(BIN)
        .args(["man", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::read_to_string(dir.path().join("comply-requirement-coverage.1")).unwrap();
    assert!(page.contains("comply\\-requirement\\-coverage"), "{page}");
    assert!(page.contains("\\-\\-unassigned"), "{page}");
    assert!(dir.path().join("comply.1").exists());
}
