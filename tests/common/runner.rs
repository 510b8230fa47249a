//! How CI runners find commands in what a step prints, each line split at `\n` and `\r`
//! (as .NET's `ReadLine` does):
//!
//! - GitHub's runner, ported from actions/runner (`src/Runner.Worker/ActionCommandManager.cs`
//!   and `src/Runner.Common/ActionCommand.cs`): `::name props::data` after a line's leading
//!   blanks, then `##[name props]data` anywhere in it; only registered names count, compared
//!   without case; `stop-commands` turns every command off until its token comes back.
//! - Azure Pipelines' agent (`src/Agent.Worker/Command.cs`, `TryParse`): `##vso[area.event
//!   props]data` anywhere in a line, and its formatting commands `##[section]`, `##[group]`,
//!   `##[command]`… — both matched here without case, which the agent does for the prefix.
//! - TeamCity's service messages: `##teamcity[name …]` anywhere in a line (the build agent
//!   reads them at a line's start; anywhere is stricter).
//!
//! Stricter than the runners on one point: their searches are culture-aware and skip
//! invisible characters, so these are removed from a line before it is parsed.

const REGISTERED: &[&str] = &[
    "add-mask",
    "add-matcher",
    "add-path",
    "debug",
    "echo",
    "endgroup",
    "error",
    "group",
    "notice",
    "remove-matcher",
    "save-state",
    "set-env",
    "set-output",
    "stop-commands",
    "warning",
];

/// A command a runner would have acted on, which runner, and the line it was found in.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub runner: &'static str,
    pub name: String,
    pub line: String,
}

/// The commands any of the runners would act on in `output`.
pub fn commands(output: &str) -> Vec<Command> {
    let mut found = github(output);
    for line in output.split(['\n', '\r']) {
        let line: String = line.chars().filter(|c| !is_invisible(*c)).collect();
        // Azure's formatting commands are few (`section`, `command`, `group`…); any name is
        // stricter.
        for (runner, prefix) in [
            ("azure", "##vso["),
            ("azure", "##["),
            ("teamcity", "##teamcity["),
        ] {
            if let Some(name) = marked(&line, prefix) {
                found.push(Command {
                    runner,
                    name,
                    line: line.clone(),
                });
            }
        }
    }
    found
}

/// `{prefix}name props]` anywhere in `line`, the prefix matched without case.
fn marked(line: &str, prefix: &str) -> Option<String> {
    let start = line.to_ascii_lowercase().find(prefix)? + prefix.len();
    let end = start + line[start..].find(']')?;
    Some(name(&line[start..end]))
}

/// The commands GitHub's runner would act on in `output` (Azure's `##[section]`-style
/// formatting commands are among them: the same form, anywhere in a line).
fn github(output: &str) -> Vec<Command> {
    let mut stopped: Option<String> = None;
    let mut found = Vec::new();
    for line in output.split(['\n', '\r']) {
        let line: String = line.chars().filter(|c| !is_invisible(*c)).collect();
        let registered = |name: &str| {
            REGISTERED.iter().any(|r| r.eq_ignore_ascii_case(name))
                || stopped
                    .as_deref()
                    .is_some_and(|t| t.eq_ignore_ascii_case(name))
        };
        let Some((name, data)) = v2(&line)
            .filter(|(n, _)| registered(n))
            .or_else(|| v1(&line).filter(|(n, _)| registered(n)))
        else {
            continue;
        };
        match &stopped {
            Some(token) if name.eq_ignore_ascii_case(token) => stopped = None,
            Some(_) => {}
            None if name.eq_ignore_ascii_case("stop-commands") => stopped = Some(data),
            None => found.push(Command {
                runner: "github",
                name,
                line: line.clone(),
            }),
        }
    }
    found
}

/// `::name props::data`, after leading blanks.
fn v2(line: &str) -> Option<(String, String)> {
    let line = line.trim_start_matches(|c: char| c.is_whitespace() || c.is_control());
    let rest = line.strip_prefix("::")?;
    let end = rest.find("::")?;
    Some((name(&rest[..end]), rest[end + 2..].to_string()))
}

/// `##[name props]data`, anywhere.
fn v1(line: &str) -> Option<(String, String)> {
    let start = line.find("##[")? + 3;
    let end = start + line[start..].find(']')?;
    Some((name(&line[start..end]), line[end + 1..].to_string()))
}

fn name(info: &str) -> String {
    info.split(' ').next().unwrap_or_default().to_string()
}

/// The invisible characters the tests hide between a command's marks.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{AD}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}'
    )
}
