//! GitHub Actions: when `GITHUB_STEP_SUMMARY` is set, a Markdown table of the jobs is
//! appended to that file; when `GITHUB_OUTPUT` is set, the step outputs `outcome`,
//! `duration_ms`, `exit_code` and `job_id` are appended to that one.

use super::{cells, columns};
use dcs_wait::Env;
use dcs_wait::{ExitStatus, JobReport};
use std::io::Write;
use std::path::Path;

/// The longest step summary written, in bytes, however many waits: GitHub refuses a step's
/// summary past 1 MiB, and a page of a thousand rows is not read anyway.
pub const MAX_SUMMARY_BYTES: usize = 64 * 1024;

/// The Markdown table: an Instance column when some report is about an instance. Rows that
/// would take it past [`MAX_SUMMARY_BYTES`] are left out, and said to be.
pub fn summary(reports: &[JobReport], status: ExitStatus) -> String {
    let columns = columns(reports);
    // `JOB` → `Job`.
    let header: Vec<String> = columns
        .iter()
        .map(|c| c[..1].to_string() + &c[1..].to_ascii_lowercase())
        .collect();
    let mut out = format!(
        "### dcs-wait: {} (exit {})\n\n| {} |\n|{}\n",
        outcome(status),
        status.code(),
        header.join(" | "),
        "---|".repeat(header.len())
    );
    // Room for the line that says how many rows were left out.
    let room = MAX_SUMMARY_BYTES - 200;
    for (shown, r) in reports.iter().enumerate() {
        let cells: Vec<String> = cells(r, &columns)
            .into_iter()
            .zip(&columns)
            .map(|(text, column)| match (text, *column) {
                // Ids are checked to be letters, digits, `-` and `_`: safe inside a code
                // span as they are.
                (Some(id), "INSTANCE" | "JOB") => format!("`{id}`"),
                (Some(text), _) => cell(&text),
                (None, "DETAIL") => String::new(),
                (None, _) => "—".to_string(),
            })
            .collect();
        let row = format!("| {} |\n", cells.join(" | "));
        if out.len() + row.len() > room {
            let left = reports.len() - shown;
            out.push_str(&format!(
                "\n… and {left} more wait{} not shown here: the JSON report (`--output json`) \
                 and the JUnit file (`--junit`) hold every one.\n",
                if left == 1 { "" } else { "s" }
            ));
            break;
        }
        out.push_str(&row);
    }
    out
}

/// `outcome` of the whole run (`success`, `failed`, `timeout`, `error`, `interrupted`, by the
/// exit code), `duration_ms` of the longest job that has one (empty if none), `exit_code`,
/// and `job_id`: the jobs waited on or started, space-separated; with a backup or a restore,
/// `backup_id` or `restore_id` too.
pub fn outputs(reports: &[JobReport], status: ExitStatus) -> String {
    let longest = reports.iter().filter_map(|r| r.duration_ms).max();
    let job_ids: Vec<&str> = reports
        .iter()
        .filter_map(|r| r.job_id.as_ref().map(|j| j.as_str()))
        .collect();
    let mut out = format!(
        "outcome={}\nduration_ms={}\nexit_code={}\njob_id={}\n",
        outcome(status),
        longest.map(|ms| ms.to_string()).unwrap_or_default(),
        status.code(),
        job_ids.join(" ")
    );
    // Ids are checked to be letters, digits, `-` and `_`: safe as an output's value.
    let backups: Vec<&str> = reports
        .iter()
        .filter_map(|r| r.backup_id.as_ref().map(|b| b.as_str()))
        .collect();
    let restores: Vec<&str> = reports
        .iter()
        .filter_map(|r| r.restore_id.as_ref().map(|b| b.as_str()))
        .collect();
    // Absent when none is known: GitHub reads a missing output as empty.
    if !backups.is_empty() {
        out.push_str(&format!("backup_id={}\n", backups.join(" ")));
    }
    if !restores.is_empty() {
        out.push_str(&format!("restore_id={}\n", restores.join(" ")));
    }
    out
}

fn outcome(status: ExitStatus) -> &'static str {
    match status {
        ExitStatus::Success => "success",
        ExitStatus::JobFailed => "failed",
        ExitStatus::Timeout => "timeout",
        ExitStatus::Interrupted | ExitStatus::Terminated => "interrupted",
        // Usage, Unreadable, and any the library adds.
        _ => "error",
    }
}

/// A table cell that shows its text as text: lines joined, and every character that HTML or
/// Markdown would act on (a tag, a link, an image, emphasis, a code span, a cell's end)
/// written as a character reference, which renders as the character itself.
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (n, line) in text
        .split(['\r', '\n'])
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        if n > 0 {
            out.push(' ');
        }
        for c in line.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '[' | ']' | '(' | ')' | '*' | '_' | '`' | '!' | '|' | '\\' | '~' | '#' => {
                    out.push_str(&format!("&#{};", c as u32))
                }
                c => out.push(c),
            }
        }
    }
    out
}

/// Appends to the files the environment names; a failure is a warning, never a changed
/// outcome: the wait itself is what the exit code reports.
pub fn write(env: &Env, reports: &[JobReport], status: ExitStatus) {
    for (variable, text) in [
        ("GITHUB_STEP_SUMMARY", summary(reports, status)),
        ("GITHUB_OUTPUT", outputs(reports, status)),
    ] {
        if let Some(path) = env.get(variable) {
            if let Err(e) = append(Path::new(&path), &text) {
                tracing::warn!("cannot append to {variable} ({path}): {e}");
            }
        }
    }
}

fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::sample;
    use dcs_wait::Outcome;

    #[test]
    fn a_table_that_a_reason_cannot_break() {
        let mut r = sample(Outcome::Failed);
        r.fail_reason = Some("a | b\nc".into());
        let md = summary(&[r], ExitStatus::JobFailed);
        let row = md.lines().last().unwrap();
        assert_eq!(
            row,
            "| `j1` | masterStandbySwapJob | FAIL | failed | 2.869s | 3 | a &#124; b c |"
        );
        assert!(md.starts_with("### dcs-wait: failed (exit 1)"));
    }

    #[test]
    fn the_summary_shows_server_html_and_markdown_as_text() {
        let hostile = "<img src=https://t.example/p.gif> <h1>DEPLOY APPROVED</h1> \
                       [log in](https://evil.example) ![x](y) **b** _e_ `c` ~~s~~ | \\ & ##[x]";
        let mut r = sample(Outcome::Failed);
        r.fail_reason = Some(hostile.into());
        r.job_type = Some("<b>swap</b>".into());
        let md = summary(&[r], ExitStatus::JobFailed);
        let mut html = String::new();
        let parser = pulldown_cmark::Parser::new_ext(
            &md,
            pulldown_cmark::Options::ENABLE_TABLES | pulldown_cmark::Options::ENABLE_STRIKETHROUGH,
        );
        pulldown_cmark::html::push_html(&mut html, parser);
        for tag in ["<img", "<h1", "<a ", "<strong", "<em", "<del", "<b>"] {
            assert!(!html.contains(tag), "{tag} rendered: {html}");
        }
        assert_eq!(html.matches("<code>").count(), 1, "only the job id: {html}");
        let row = html.split("<tbody>").nth(1).unwrap();
        assert_eq!(
            row.matches("<td>").count(),
            7,
            "the table is intact: {html}"
        );
        // What a reader sees is the reason, character for character.
        let shown = row
            .split("<td>")
            .last()
            .unwrap()
            .split("</td>")
            .next()
            .unwrap();
        let read = shown
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&amp;", "&");
        assert_eq!(read, hostile, "{html}");
        assert!(!md.contains("##["));
    }

    #[test]
    fn the_summary_stays_small_however_many_waits() {
        let mut r = sample(Outcome::Failed);
        // Every character one that the table escapes, five bytes and more each.
        r.fail_reason = Some("<".repeat(5_000));
        let md = summary(&vec![r; 1_000], ExitStatus::JobFailed);
        assert!(md.len() <= MAX_SUMMARY_BYTES, "{}", md.len());
        let rows = md.lines().filter(|l| l.starts_with("| `j1`")).count();
        let last = md.lines().last().unwrap();
        assert_eq!(
            last,
            format!(
                "… and {} more waits not shown here: the JSON report (`--output json`) and \
                 the JUnit file (`--junit`) hold every one.",
                1_000 - rows
            )
        );
        // Each row's reason is cut at its composition, and says so.
        assert!(
            md.contains("… &#40;4000 more characters&#41;"),
            "{}",
            &md[..2000]
        );
        assert!(rows >= 10, "{rows}");
    }

    #[test]
    fn outputs_for_the_step() {
        let reports = [sample(Outcome::Success), sample(Outcome::Failed)];
        assert_eq!(
            outputs(&reports, ExitStatus::JobFailed),
            "outcome=failed\nduration_ms=2869\nexit_code=1\njob_id=j1 j1\n"
        );
        // A job never seen: no duration.
        let mut none = sample(Outcome::Timeout);
        none.job_id = Some("j".parse().unwrap());
        none.duration_ms = None;
        assert_eq!(
            outputs(&[none], ExitStatus::Timeout),
            "outcome=timeout\nduration_ms=\nexit_code=3\njob_id=j\n"
        );
        // A swap that started nothing has no job id: none is said.
        let mut swap = sample(Outcome::Error);
        swap.job_id = None;
        swap.instance_id = Some("i-1".parse().unwrap());
        assert!(outputs(&[swap.clone()], ExitStatus::Unreadable).ends_with("\njob_id=\n"));
        let mut backup = sample(Outcome::Success);
        backup.job_id = None;
        backup.backup_id = Some("b-1".parse().unwrap());
        assert!(
            outputs(&[backup.clone()], ExitStatus::Success).ends_with("\njob_id=\nbackup_id=b-1\n")
        );
        assert!(summary(&[backup], ExitStatus::Success).contains("| `b-1` |"));
        let md = summary(&[swap], ExitStatus::Unreadable);
        assert!(md.contains("| Instance | Job |"), "{md}");
        assert!(
            md.lines().last().unwrap().starts_with("| `i-1` | — |"),
            "{md}"
        );
    }

    #[test]
    fn appends_to_the_files_named() {
        let dir = tempfile::tempdir().unwrap();
        let summary_path = dir.path().join("summary.md");
        let output_path = dir.path().join("output");
        std::fs::write(&output_path, "earlier=1\n").unwrap();
        let env = Env::from_pairs([
            ("GITHUB_STEP_SUMMARY", summary_path.display().to_string()),
            ("GITHUB_OUTPUT", output_path.display().to_string()),
        ]);
        write(&env, &[sample(Outcome::Success)], ExitStatus::Success);
        let written = std::fs::read_to_string(&output_path).unwrap();
        assert_eq!(
            written,
            "earlier=1\noutcome=success\nduration_ms=2869\nexit_code=0\njob_id=j1\n"
        );
        assert!(std::fs::read_to_string(&summary_path)
            .unwrap()
            .contains("| `j1` |"));
    }
}
