//! Aligned text: a header and one line per job (or instance), for people; then, for an
//! instance wait, the tasks it counted, so that its duration explains itself.

use super::{cells, columns, report_duration};
use dcs_wait::{JobReport, TaskSeen};
use std::fmt::Write as _;

/// The table: an INSTANCE column when some report is about an instance. With `columns` (a
/// terminal's width) it fits: the columns that say least are left out while DETAIL would get
/// fewer than `DETAIL_ROOM` (12) columns — POLLS, then TYPE, then STATUS, which OUTCOME
/// repeats (at a terminal the finished wait's line above says the whole reason) — and each
/// line is cut with `…`, DETAIL first. The whole text is in JSON and off a terminal.
pub fn render(reports: &[JobReport], columns: Option<usize>) -> String {
    let table = Table::of(reports);
    let Some(columns) = columns else {
        return table.render(&[]);
    };
    // One column short of the width: a line that fills it would wrap on some terminals.
    let room = columns.saturating_sub(1).max(20);
    let left_out = (0..=LEFT_OUT_FIRST.len())
        .map(|n| &LEFT_OUT_FIRST[..n])
        .find(|out| table.width_without_detail(out) + DETAIL_ROOM <= room)
        .unwrap_or(LEFT_OUT_FIRST);
    table
        .render(left_out)
        .lines()
        .map(|line| format!("{}\n", console::truncate_str(line, room, "…")))
        .collect()
}

/// What a terminal's table keeps for DETAIL before it leaves out other columns.
const DETAIL_ROOM: usize = 12;

/// The columns a narrow terminal's table leaves out, in order.
const LEFT_OUT_FIRST: &[&str] = &["POLLS", "TYPE", "STATUS"];

/// The table's cells, DETAIL last.
struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    /// Each column's width: its widest cell, the header's included.
    widths: Vec<usize>,
    tasks: String,
}

impl Table {
    fn of(reports: &[JobReport]) -> Table {
        let header = columns(reports);
        let rows: Vec<Vec<String>> = reports
            .iter()
            .map(|r| {
                cells(r, &header)
                    .into_iter()
                    .zip(&header)
                    .map(|(cell, column)| match (cell, *column) {
                        (Some(text), _) => text,
                        (None, "DETAIL") => String::new(),
                        (None, _) => "-".to_string(),
                    })
                    .collect()
            })
            .collect();
        let mut tasks = String::new();
        for report in reports {
            if let (Some(instance), Some(seen)) = (&report.instance_id, &report.tasks) {
                counted_tasks(&mut tasks, instance.as_str(), seen);
            }
        }
        let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(cell));
            }
        }
        Table {
            header,
            rows,
            widths,
            tasks,
        }
    }

    /// How wide a line is up to DETAIL, without the columns `left_out`.
    fn width_without_detail(&self, left_out: &[&str]) -> usize {
        self.header
            .iter()
            .zip(&self.widths)
            .filter(|(h, _)| **h != "DETAIL" && !left_out.contains(h))
            .map(|(_, w)| w + 2)
            .sum()
    }

    fn render(&self, left_out: &[&str]) -> String {
        let header: Vec<String> = self.header.iter().map(|h| h.to_string()).collect();
        let mut out = String::new();
        for row in std::iter::once(&header).chain(&self.rows) {
            let mut line = String::new();
            let cells = row.iter().zip(&self.widths).zip(&self.header);
            for ((cell, w), name) in cells.filter(|(_, name)| !left_out.contains(name)) {
                match *name {
                    "DETAIL" => line.push_str(cell),
                    _ => {
                        let _ = write!(line, "{}  ", pad(cell, *w));
                    }
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out.push_str(&self.tasks);
        out
    }
}

/// How many columns `text` takes on a terminal: a CJK character or an emoji two.
fn width(text: &str) -> usize {
    console::measure_text_width(text)
}

/// `text` and spaces up to `columns` columns (`format!`'s own padding counts characters).
fn pad(text: &str, columns: usize) -> String {
    console::pad_str(text, columns, console::Alignment::Left, None).into_owned()
}

/// `inst-1: 2 tasks counted, the ones created within --since before the wait began:` and a
/// line for each: name, status, its own duration (created to last change, once it ended).
fn counted_tasks(out: &mut String, instance: &str, tasks: &[TaskSeen]) {
    let _ = match tasks.len() {
        0 => writeln!(
            out,
            "\n{instance}: no task was created within --since before the wait began"
        ),
        n => writeln!(
            out,
            "\n{instance}: {n} task{} counted, the ones created within --since before the wait began:",
            if n == 1 { "" } else { "s" }
        ),
    };
    let name = |t: &TaskSeen| t.name.clone().unwrap_or_else(|| "-".into());
    let name_width = tasks.iter().map(|t| width(&name(t))).max().unwrap_or(0);
    let status_width = tasks.iter().map(|t| width(&t.status)).max().unwrap_or(0);
    for task in tasks {
        let own = task
            .duration_ms()
            .map_or_else(|| "-".into(), report_duration);
        let line = format!(
            "  {}  {}  {own}",
            pad(&name(task), name_width),
            pad(&task.status, status_width)
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{sample, task};
    use dcs_wait::Outcome;

    #[test]
    fn aligned_with_the_reason() {
        let mut other = sample(Outcome::Success);
        other.job_id = Some("a-much-longer-job-id".parse().unwrap());
        other.fail_reason = None;
        other.status = Some("SUCCESS".into());
        let text = render(&[sample(Outcome::Failed), other], None);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        let col = |l: &str| l.find("masterStandbySwapJob").unwrap();
        assert_eq!(col(lines[1]), col(lines[2]));
        assert!(lines[1].contains("2.869s") && lines[1].ends_with("disk full"));
        assert!(lines[0].starts_with("JOB "));
    }

    #[test]
    fn an_instance_report_lists_the_tasks_it_counted() {
        let mut r = sample(Outcome::Success);
        r.instance_id = Some("inst-1".parse().unwrap());
        let task = |name, status, created, updated| task(name, status, created, updated, None);
        r.tasks = Some(vec![
            task("EXTEND", "SUCCESS", 1_000, 541_000),
            task("masterStandbySwapJob", "SUCCESS", 600_000, 602_500),
            task("RESTART", "EXECUTING", 700_000, 701_000),
        ]);
        let text = render(&[r.clone()], None);
        let tail: Vec<&str> = text.lines().skip(3).collect();
        assert_eq!(
            tail,
            [
                "inst-1: 3 tasks counted, the ones created within --since before the wait began:",
                "  EXTEND                SUCCESS    9m 00s",
                "  masterStandbySwapJob  SUCCESS    2.500s",
                "  RESTART               EXECUTING  -",
            ],
            "{text}"
        );
        r.tasks = Some(Vec::new());
        assert!(render(&[r], None)
            .ends_with("inst-1: no task was created within --since before the wait began\n"));
    }

    #[test]
    fn wide_characters_are_aligned_by_the_columns_they_take() {
        let mut wide = sample(Outcome::Failed);
        wide.status = Some("运行中🚀".into());
        let mut narrow = sample(Outcome::Failed);
        narrow.status = Some("RUNNING".into());
        let text = render(&[wide, narrow], None);
        let lines: Vec<&str> = text.lines().collect();
        let column = |line: &str| {
            let at = line.find("failed").unwrap();
            console::measure_text_width(&line[..at])
        };
        assert_eq!(column(lines[1]), column(lines[2]), "{text}");
        assert_eq!(
            column(lines[0].replace("OUTCOME", "failed").as_str()),
            column(lines[1])
        );
    }

    #[test]
    fn end_before_begin_is_said_not_negative() {
        let mut r = sample(Outcome::Success);
        (r.begin_time, r.end_time, r.duration_ms) = (Some(2000), Some(1000), None);
        let text = render(&[r], None);
        assert!(text.contains("end_time before begin_time"), "{text}");
        assert!(!text.contains("-1000"));
    }

    #[test]
    fn a_wide_terminal_keeps_every_column() {
        let text = render(&[sample(Outcome::Success)], Some(200));
        assert_eq!(text, render(&[sample(Outcome::Success)], None));
    }

    #[test]
    fn at_a_terminal_every_line_fits_its_width() {
        let mut r = sample(Outcome::Failed);
        r.job_id = Some("ff8080818822bbf70188235b0c3a1b2c".parse().unwrap());
        r.fail_reason = Some(format!("the standby is not in sync: {}", "lag ".repeat(40)));
        let whole = render(&[r.clone()], None);
        assert!(whole.contains(&"lag ".repeat(39)), "{whole}");
        for columns in [100, 60] {
            let fit = render(&[r.clone()], Some(columns));
            for line in fit.lines() {
                assert!(width(line) < columns, "{columns}: {line:?}");
            }
            assert!(fit.lines().nth(1).unwrap().ends_with('…'), "{fit}");
            assert_eq!(fit.lines().count(), whole.lines().count());
            let header = fit.lines().next().unwrap();
            for kept in ["JOB", "OUTCOME", "DURATION", "DETAIL"] {
                assert!(header.contains(kept), "{columns}: {header}");
            }
            // The columns that say least make room for DETAIL: one at 100, three at 60.
            assert!(!header.contains("POLLS"), "{header}");
            for kept_at_100 in ["TYPE", "STATUS"] {
                assert_eq!(
                    header.contains(kept_at_100),
                    columns == 100,
                    "{columns}: {header}"
                );
            }
        }
    }
}
