//! The live display, read as a person sees it: the real binary with its stderr on a
//! pseudo-terminal, the screen rebuilt by a terminal emulator (vt100) from every byte it
//! wrote. Waits are for what appears on the screen, with a generous bound, never for a time.

mod common;

use common::*;
use std::fs::File;
use std::io::Read;
use std::os::fd::FromRawFd;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ROWS: u16 = 30;
const COLUMNS: u16 = 100;

/// dcs-wait with its stderr on a new pseudo-terminal of ROWS × COLUMNS; the screen as a
/// terminal would show it.
fn spawn_on_a_terminal(
    args: &[String],
    env: &[(&str, String)],
) -> (Child, Arc<Mutex<vt100::Parser>>) {
    let (mut master, mut slave) = (0, 0);
    let size = libc::winsize {
        ws_row: ROWS,
        ws_col: COLUMNS,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes the two descriptors it is given; the size is only read.
    let opened = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            &size as *const libc::winsize as *mut libc::winsize,
        )
    };
    assert_eq!(opened, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened and are owned here alone.
    let (master, slave) = unsafe { (File::from_raw_fd(master), File::from_raw_fd(slave)) };
    let child = {
        let mut command = dcs_wait_command(args, env);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(slave));
        command.spawn().expect("dcs-wait starts")
        // The command, and with it this process's copy of the terminal's slave end, is
        // dropped here: the reader below sees the end when dcs-wait exits.
    };
    let screen = Arc::new(Mutex::new(vt100::Parser::new(
        ROWS.try_into().unwrap(),
        COLUMNS.try_into().unwrap(),
        0,
    )));
    let feed = screen.clone();
    std::thread::spawn(move || {
        let mut master = master;
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = master.read(&mut buf) {
            feed.lock().unwrap().process(&buf[..n]);
        }
    });
    (child, screen)
}

/// dcs-wait waiting on `ids` at dcs-sim, with text output, at a UTF-8 terminal, with `env`
/// added to its environment.
async fn on_a_terminal(
    sim: &dcs_wait::sim::SimServer,
    ids: &[&str],
    env: &[(&'static str, &str)],
) -> (Child, Arc<Mutex<vt100::Parser>>) {
    let mut args = args_for(sim);
    args.retain(|a| a != "--output" && a != "json");
    args.extend(ids.iter().map(|id| id.to_string()));
    let mut all = token(sim);
    all.extend([
        ("TERM", "xterm-256color".into()),
        ("LANG", "C.UTF-8".into()),
    ]);
    all.extend(env.iter().map(|(k, v)| (*k, v.to_string())));
    tokio::task::spawn_blocking(move || spawn_on_a_terminal(&args, &all))
        .await
        .unwrap()
}

/// The screen's rows as text.
fn rows(screen: &Mutex<vt100::Parser>) -> Vec<String> {
    screen.lock().unwrap().screen().rows(0, COLUMNS).collect()
}

/// The row holding `text`, as the escapes and characters that draw it.
fn row_bytes(screen: &Mutex<vt100::Parser>, text: &str) -> Option<String> {
    let parser = screen.lock().unwrap();
    let found = parser
        .screen()
        .rows(0, COLUMNS)
        .position(|row| row.contains(text))?;
    let row = parser.screen().rows_formatted(0, COLUMNS).nth(found);
    row
}

/// Waits until some row holds `text`.
fn wait_for(screen: &Mutex<vt100::Parser>, text: &str) -> String {
    let start = Instant::now();
    loop {
        if let Some(row) = rows(screen).into_iter().find(|row| row.contains(text)) {
            return row;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no {text:?} on the screen:\n{}",
            rows(screen).join("\n")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// How dcs-wait exited, waited for off the runtime.
async fn exit_code(mut child: Child) -> Option<i32> {
    tokio::task::spawn_blocking(move || child.wait().unwrap().code())
        .await
        .unwrap()
}

fn interrupt(child: &Child) {
    // SAFETY: kill with a valid signal on the child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
}

/// A reason longer than the terminal is wide.
static LONG_REASON: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("the standby is not in sync: {}", "lag ".repeat(40)));

const SPINNER: &[char] = &['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_line_settles_and_ctrl_c_clears_what_still_runs() {
    let sim = sim(vec![
        job("job-short", 1_000),
        failed_job("job-fail", 1_500, Some(&LONG_REASON)),
        job("job-long", 600_000),
    ])
    .await;
    let (child, screen) = on_a_terminal(&sim, &["job-short", "job-fail", "job-long"], &[]).await;
    let screen2 = screen.clone();
    let (short, failed) = tokio::task::spawn_blocking(move || {
        let short = wait_for(&screen2, "✔ job-short");
        let failed = wait_for(&screen2, "✘ job-fail");
        (short, failed)
    })
    .await
    .unwrap();
    let first = rows(&screen).join("\n");
    eprintln!("while running, after two jobs ended:\n{first}");
    let running = rows(&screen)
        .into_iter()
        .find(|r| r.contains("job-long ") && r.contains("next poll in"));
    assert!(
        running.is_some_and(|r| r.contains(SPINNER) && r.contains("RUNNING")),
        "{first}"
    );
    assert!(short.trim_end().ends_with("SUCCESS  1.000s"), "{first}");
    assert!(
        failed.contains("FAIL  1.500s  the standby is not in sync: lag lag"),
        "{first}"
    );
    // Cut to the width, on its own row: the row below is not its rest.
    assert!(failed.trim_end().ends_with('…'), "{first}");
    assert!(
        failed.trim_end().chars().count() < COLUMNS as usize,
        "{first}"
    );
    assert!(!first.contains("\nlag lag"), "{first}");
    assert!(
        !short.contains(SPINNER) && !failed.contains(SPINNER),
        "{first}"
    );
    let frozen = row_bytes(&screen, "job-short").unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        row_bytes(&screen, "job-short").unwrap(),
        frozen,
        "the finished line changed:\n{}",
        rows(&screen).join("\n")
    );

    interrupt(&child);
    assert_eq!(exit_code(child).await, Some(130));
    // The reader has seen the last byte once the terminal is closed on the other side.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let last = rows(&screen).join("\n");
    eprintln!("after Ctrl-C:\n{last}");
    assert!(
        !last.contains("next poll") && !last.contains(SPINNER),
        "{last}"
    );
    assert_eq!(row_bytes(&screen, "job-short").unwrap(), frozen, "{last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcomes_are_words_where_symbols_are_not_wanted() {
    let sim = sim(vec![job("job-short", 200), job("job-long", 600_000)]).await;
    let (child, screen) =
        on_a_terminal(&sim, &["job-short", "job-long"], &[("NO_COLOR", "1")]).await;
    let line = tokio::task::spawn_blocking(move || wait_for(&screen, "job-short  SUCCESS"))
        .await
        .unwrap();
    assert!(line.starts_with("ok "), "{line}");
    assert!(!line.contains('✔'), "{line}");
    interrupt(&child);
    exit_code(child).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_terminal_log_is_short_and_says_a_repeat_once() {
    use dcs_wait::sim::{Fault, FaultRule};
    let mut busy = job("busy-1", 0);
    busy.faults = vec![FaultRule::on(
        &[1, 2, 3],
        Fault::Error {
            http_status: 503,
            error_code: Some("DCS.5003".into()),
            error_msg: Some("the service is busy".into()),
            retry_after: None,
            request_id: Some("req-0123456789abcdef".into()),
        },
    )];
    let sim = sim(vec![busy]).await;
    let (child, screen) = on_a_terminal(&sim, &["busy-1"], &[]).await;
    assert_eq!(exit_code(child).await, Some(0));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let text = rows(&screen).join("\n");
    eprintln!("{text}");
    let warnings: Vec<&str> = text.lines().filter(|l| l.contains("WARN")).collect();
    assert_eq!(warnings.len(), 1, "one line for three alike:\n{text}");
    let time = &warnings[0][..8];
    assert!(
        time.len() == 8 && time.chars().all(|c| c.is_ascii_digit() || c == ':'),
        "a short local time: {text}"
    );
    assert!(
        warnings[0].contains("busy-1: HTTP 503: DCS.5003: the service is busy"),
        "{text}"
    );
    assert!(text.contains("… 2 more like this in "), "{text}");
    assert!(
        !text.contains("request id"),
        "a retried fault's id is for -v: {text}"
    );
    assert!(
        !text.contains("Z  "),
        "no UTC timestamps at a terminal: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wide_and_invisible_characters_are_measured_and_shown() {
    use dcs_wait::sim::{Fault, FaultRule};
    // Three times the terminal's width in columns, in CJK and emoji (two columns each).
    let wide = "运行中🚀".repeat(40);
    let mut wide_job = job("wide-1", 600_000);
    wide_job.faults = vec![FaultRule::until(
        u64::MAX,
        Fault::Status {
            status: wide.clone(),
        },
    )];
    let mut hidden = job("zw-1", 600_000);
    hidden.faults = vec![FaultRule::until(
        u64::MAX,
        Fault::Status {
            status: "SUCC\u{200b}ESS".into(),
        },
    )];
    let sim = sim(vec![wide_job, hidden]).await;
    let (child, screen) = on_a_terminal(&sim, &["wide-1", "zw-1"], &[]).await;
    let screen2 = screen.clone();
    let seen = tokio::task::spawn_blocking(move || {
        wait_for(&screen2, "SUCC\\u{200b}ESS");
        wait_for(&screen2, "wide-1  运行中");
        // Some redraws, each of which would leave a wrapped row's rest behind.
        std::thread::sleep(Duration::from_secs(2));
        rows(&screen2)
    })
    .await
    .unwrap();
    let text = seen.join("\n");
    eprintln!("{text}");
    // Below the log, the display alone: a row a wait, each one row, no wrapped rest.
    let log_end = seen
        .iter()
        .rposition(|r| r.contains("WARN") || r.contains("not a finished state"))
        .map_or(0, |i| i + 1);
    let display: Vec<&String> = seen[log_end..]
        .iter()
        .filter(|r| !r.trim().is_empty())
        .collect();
    assert_eq!(display.len(), 2, "{text}");
    assert!(display.iter().all(|r| r.starts_with(SPINNER)), "{text}");
    let row = display
        .iter()
        .find(|r| r.contains("wide-1"))
        .unwrap()
        .trim_end();
    assert!(row.ends_with('…'), "{text}");
    assert!(
        console::measure_text_width(row) <= COLUMNS as usize,
        "{text}"
    );
    assert!(!text.contains("SUCC\u{200b}ESS"), "{text}");
    interrupt(&child);
    exit_code(child).await;
}
