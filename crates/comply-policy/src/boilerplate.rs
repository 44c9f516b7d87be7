//! Chainloop's boilerplate (`InjectBoilerplate`): the rules a policy may leave out.
//! The minimal policy is `violations contains msg if {…}`, optionally with a
//! `valid_input` sniff; everything else is filled in here.

/// Appends the missing rules. `declared(name)` tells whether the module declares a
/// rule (or default) of that name. Rego rule order does not matter, so the rules are
/// appended rather than placed after the imports.
pub fn inject(source: &str, declared: impl Fn(&str) -> bool, v1: bool) -> String {
    let (if_kw, open) = if v1 { ("if ", "") } else { ("", "") };
    let mut extra = Vec::new();
    if !declared("result") {
        extra.push(
            r#"result := {"skipped": skipped, "violations": violations, "skip_reason": skip_reason, "ignore": ignore}"#
                .to_owned(),
        );
    }
    if !declared("skip_reason") {
        extra.push(r#"default skip_reason := """#.to_owned());
        extra.push(format!(
            "skip_reason := m {if_kw}{{{open}\n\tnot valid_input\n\tm := \"the file content is not recognized\"\n}}"
        ));
    }
    if !declared("valid_input") {
        extra.push("default valid_input := true".to_owned());
    }
    if !declared("skipped") {
        extra.push("default skipped := true".to_owned());
        extra.push(format!("skipped := false {if_kw}{{\n\tvalid_input\n}}"));
    }
    if !declared("ignore") {
        extra.push("default ignore := false".to_owned());
    }
    if !declared("violations") {
        extra.push("default violations := []".to_owned());
    }
    if extra.is_empty() {
        return source.to_owned();
    }
    let mut out = source.trim_end().to_owned();
    out.push_str("\n\n# Injected by comply (Chainloop policy boilerplate).\n");
    out.push_str(&extra.join("\n\n"));
    out.push('\n');
    out
}
