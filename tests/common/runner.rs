//! How GitHub's runner finds workflow commands in what a step prints, ported from
//! actions/runner (`src/Runner.Worker/ActionCommandManager.cs` and
//! `src/Runner.Common/ActionCommand.cs`): each line (split at `\n` and `\r`, as .NET's
//! `ReadLine` does) is tried as `::name props::data` after its leading blanks, then as
//! `##[name props]data` anywhere in it; only registered names count, compared without
//! case; `stop-commands` turns every command off until its token comes back as one.
//!
//! Stricter than the runner on one point: its searches are culture-aware and skip
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

/// A command the runner would have acted on, and the line it was found in.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub name: String,
    pub line: String,
}

/// The commands the runner would act on in `output`.
pub fn commands(output: &str) -> Vec<Command> {
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
