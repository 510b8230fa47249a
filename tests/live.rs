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

/// A terminal as a test holds it: the screen as a terminal would show it (rebuilt from every
/// byte written), those bytes, and the keyboard.
struct Terminal {
    screen: Mutex<vt100::Parser>,
    bytes: Mutex<Vec<u8>>,
    columns: u16,
    keyboard: File,
}

impl Terminal {
    /// Types `keys`, as a person at the keyboard does: the terminal's line discipline turns
    /// a Ctrl-C into SIGINT for dcs-wait and echoes `^C` where the cursor is.
    fn type_keys(&self, keys: &[u8]) {
        use std::io::Write;
        (&self.keyboard)
            .write_all(keys)
            .expect("the keyboard writes");
    }

    /// The screen's rows as text.
    fn rows(&self) -> Vec<String> {
        self.screen
            .lock()
            .unwrap()
            .screen()
            .rows(0, self.columns)
            .collect()
    }

    fn text(&self) -> String {
        self.rows().join("\n")
    }

    /// The row holding `text`, as the escapes and characters that draw it.
    fn row_bytes(&self, text: &str) -> Option<String> {
        let parser = self.screen.lock().unwrap();
        let found = parser
            .screen()
            .rows(0, self.columns)
            .position(|row| row.contains(text))?;
        let row = parser.screen().rows_formatted(0, self.columns).nth(found);
        row
    }

    /// Waits until some row holds `text`.
    fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            if let Some(row) = self.rows().into_iter().find(|row| row.contains(text)) {
                return row;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "no {text:?} on the screen:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Where dcs-wait's stdout goes.
#[derive(Clone, Copy, PartialEq)]
enum Stdout {
    Piped,
    /// The terminal too, as in a shell.
    Terminal,
}

/// dcs-wait with its stdin and stderr on a new pseudo-terminal of ROWS × `columns`, which is
/// its controlling terminal, as in a shell.
fn spawn_on_a_terminal(
    args: &[String],
    env: &[(&str, String)],
    columns: u16,
    stdout: Stdout,
) -> (Child, Arc<Terminal>) {
    let (mut master, mut slave) = (0, 0);
    let size = libc::winsize {
        ws_row: ROWS,
        ws_col: columns,
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
        use std::os::unix::process::CommandExt;
        let slave_again = || Stdio::from(slave.try_clone().expect("a second slave descriptor"));
        let mut command = dcs_wait_command(args, env);
        command.stdin(slave_again()).stdout(match stdout {
            Stdout::Piped => Stdio::piped(),
            Stdout::Terminal => slave_again(),
        });
        command.stderr(Stdio::from(slave));
        // SAFETY: setsid and ioctl are async-signal-safe; they make the terminal on stdin
        // the new session's controlling terminal, so that a typed Ctrl-C signals dcs-wait.
        unsafe {
            command.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        command.spawn().expect("dcs-wait starts")
        // The command, and with it this process's copies of the terminal's slave end, is
        // dropped here: the reader below sees the end when dcs-wait exits.
    };
    let terminal = Arc::new(Terminal {
        screen: Mutex::new(vt100::Parser::new(
            ROWS.try_into().unwrap(),
            columns.try_into().unwrap(),
            0,
        )),
        bytes: Mutex::default(),
        columns,
        keyboard: master.try_clone().expect("a second master descriptor"),
    });
    let feed = terminal.clone();
    std::thread::spawn(move || {
        let mut master = master;
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = master.read(&mut buf) {
            feed.screen.lock().unwrap().process(&buf[..n]);
            feed.bytes.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    (child, terminal)
}

/// dcs-wait with `args` at dcs-sim, with text output, at a UTF-8 terminal of `columns`,
/// with `env` added to its environment.
async fn at_a_terminal(
    sim: &dcs_wait::sim::SimServer,
    args: &[&str],
    env: &[(&'static str, &str)],
    columns: u16,
    stdout: Stdout,
) -> (Child, Arc<Terminal>) {
    let mut all_args = args_for(sim);
    all_args.retain(|a| a != "--output" && a != "json");
    if args.contains(&"--endpoint") {
        all_args.drain(..2);
    }
    all_args.extend(args.iter().map(|id| id.to_string()));
    let mut all = token(sim);
    all.extend([
        ("TERM", "xterm-256color".into()),
        ("LANG", "C.UTF-8".into()),
    ]);
    all.extend(env.iter().map(|(k, v)| (*k, v.to_string())));
    tokio::task::spawn_blocking(move || spawn_on_a_terminal(&all_args, &all, columns, stdout))
        .await
        .unwrap()
}

/// dcs-wait waiting on `ids` at a terminal of COLUMNS, its stdout piped.
async fn on_a_terminal(
    sim: &dcs_wait::sim::SimServer,
    ids: &[&str],
    env: &[(&'static str, &str)],
) -> (Child, Arc<Terminal>) {
    at_a_terminal(sim, ids, env, COLUMNS, Stdout::Piped).await
}

/// Runs `f` with the terminal off the runtime: it waits for the screen.
async fn watching<T: Send + 'static>(
    terminal: &Arc<Terminal>,
    f: impl FnOnce(&Terminal) -> T + Send + 'static,
) -> T {
    let terminal = terminal.clone();
    tokio::task::spawn_blocking(move || f(&terminal))
        .await
        .unwrap()
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

/// Green, red: how vt100 redraws a row with colour.
const GREEN: &str = "\u{1b}[32m";
const RED: &str = "\u{1b}[31m";

/// The rows that hold `text`.
fn rows_with(terminal: &Terminal, text: &str) -> Vec<String> {
    terminal
        .rows()
        .into_iter()
        .filter(|row| row.contains(text))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_line_settles_and_is_said_once() {
    let sim = sim(vec![
        job("job-short", 1_000),
        failed_job("job-fail", 1_500, Some(&LONG_REASON)),
        job("job-long", 600_000),
    ])
    .await;
    let (child, terminal) = on_a_terminal(&sim, &["job-short", "job-fail", "job-long"], &[]).await;
    let (short, failed) = watching(&terminal, |t| {
        (t.wait_for("✔ job-short"), t.wait_for("✘ job-fail"))
    })
    .await;
    let first = terminal.text();
    eprintln!("while running, after two jobs ended:\n{first}");
    let running = rows_with(&terminal, "job-long ")
        .into_iter()
        .find(|r| r.contains("next poll in"));
    assert!(
        running.is_some_and(|r| r.contains(SPINNER) && r.contains("RUNNING")),
        "{first}"
    );
    assert!(short.trim_end().ends_with("SUCCESS  1.000s"), "{first}");
    assert!(
        failed.contains("FAIL  1.500s  the standby is not in sync: lag lag"),
        "{first}"
    );
    // Whole, wrapped: the one place at a terminal that says why it failed.
    let unwrapped = terminal
        .rows()
        .iter()
        .map(|r| r.trim_end())
        .collect::<Vec<_>>()
        .concat();
    assert!(unwrapped.contains(LONG_REASON.trim_end()), "{first}");
    assert!(
        !short.contains(SPINNER) && !failed.contains(SPINNER),
        "{first}"
    );
    // Said once: no log line says again how a job ended, or each status it passed.
    assert_eq!(rows_with(&terminal, "job-fail").len(), 1, "{first}");
    assert_eq!(rows_with(&terminal, "job-short").len(), 1, "{first}");
    assert!(
        !first.contains("INFO") && !first.contains("ERROR"),
        "{first}"
    );
    // Green ✔, red ✘.
    let frozen = terminal.row_bytes("job-short").unwrap();
    assert!(frozen.contains(&format!("{GREEN}✔")), "{frozen:?}");
    let red = terminal.row_bytes("job-fail").unwrap();
    assert!(red.contains(&format!("{RED}✘")), "{red:?}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        terminal.row_bytes("job-short").unwrap(),
        frozen,
        "the finished line changed:\n{}",
        terminal.text()
    );

    interrupt(&child);
    assert_eq!(exit_code(child).await, Some(130));
    // The reader has seen the last byte once the terminal is closed on the other side.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let last = terminal.text();
    eprintln!("after SIGINT:\n{last}");
    assert!(
        !last.contains("next poll") && !last.contains(SPINNER),
        "{last}"
    );
    assert_eq!(terminal.row_bytes("job-short").unwrap(), frozen, "{last}");
}

/// A Ctrl-C typed at the keyboard, not sent with kill: the terminal echoes `^C` where the
/// cursor is, on the display's last row, before dcs-wait hears of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ctrl_c_typed_at_the_keyboard_leaves_no_spinner() {
    let sim = sim(vec![
        job("job-short", 500),
        job("job-long", 600_000),
        job("job-other", 600_000),
    ])
    .await;
    let (child, terminal) = on_a_terminal(&sim, &["job-short", "job-long", "job-other"], &[]).await;
    watching(&terminal, |t| {
        t.wait_for("✔ job-short");
        t.wait_for("next poll in");
    })
    .await;
    terminal.type_keys(b"\x03");
    assert_eq!(exit_code(child).await, Some(130));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let last = terminal.text();
    eprintln!("after a typed Ctrl-C:\n{last}");
    assert!(
        !last.contains("next poll") && !last.contains(SPINNER),
        "{last}"
    );
    assert_eq!(rows_with(&terminal, "job-short").len(), 1, "{last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcomes_are_words_where_symbols_are_not_wanted() {
    let sim = sim(vec![job("job-short", 200), job("job-long", 600_000)]).await;
    let (child, terminal) =
        on_a_terminal(&sim, &["job-short", "job-long"], &[("NO_COLOR", "1")]).await;
    let line = watching(&terminal, |t| t.wait_for("job-short  SUCCESS")).await;
    assert!(line.starts_with("ok "), "{line}");
    assert!(!line.contains('✔'), "{line}");
    interrupt(&child);
    exit_code(child).await;
}

/// A job that answers 503 to its first three polls.
fn busy_job(id: &str) -> dcs_wait::sim::SimJob {
    use dcs_wait::sim::{Fault, FaultRule};
    let mut busy = job(id, 0);
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
    busy
}

/// `TERM=dumb` (Emacs' shell, some CI consoles): no colour and no cursor codes; each finished
/// wait on a line of its own with a word for its outcome, said once; the rest in a short log
/// that says a repeated line once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dumb_terminal_gets_words_and_no_escape_codes() {
    let sim = sim(vec![
        job("job-short", 300),
        failed_job("job-fail", 600, Some("the standby is not in sync")),
        busy_job("busy-1"),
    ])
    .await;
    let dumb = [("TERM", "dumb")];
    let (child, terminal) = on_a_terminal(&sim, &["job-short", "job-fail"], &dumb).await;
    assert_eq!(exit_code(child).await, Some(1));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let text = terminal.text();
    eprintln!("{text}");
    let bytes = terminal.bytes.lock().unwrap().clone();
    assert!(
        !bytes.contains(&0x1b),
        "an escape code at a dumb terminal: {:?}",
        String::from_utf8_lossy(&bytes)
    );
    // Said once: the finished line, and no log line besides; the statuses on the way are
    // the log's to say, as no live line says them.
    assert!(
        text.contains("\nok    job-short  SUCCESS  0.300s"),
        "{text}"
    );
    assert!(text.contains("\nFAIL  job-fail   FAIL  0.600s"), "{text}");
    assert!(text.contains("INFO job-fail: RUNNING"), "{text}");
    assert!(
        !text.contains("job-short: SUCCESS") && !text.contains("job-fail: FAIL"),
        "{text}"
    );

    let (child, terminal) = on_a_terminal(&sim, &["busy-1"], &dumb).await;
    assert_eq!(exit_code(child).await, Some(0));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let text = terminal.text();
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
    assert!(text.contains("\nok    busy-1  SUCCESS"), "{text}");
}

/// Each live line says why it waits: a fault ridden out, a job not visible yet, a server
/// never reached; each with its countdown, and nothing of it in the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_lines_say_why_they_wait() {
    let sim = sim(vec![busy_job("busy-1"), job("job-long", 600_000)]).await;
    let (child, terminal) = on_a_terminal(&sim, &["busy-1", "job-missing", "job-long"], &[]).await;
    let (busy, missing) = watching(&terminal, |t| {
        (
            t.wait_for("HTTP 503 DCS.5003, trying again in"),
            t.wait_for("not found yet (HTTP 404"),
        )
    })
    .await;
    eprintln!("{}", terminal.text());
    assert!(
        busy.contains("busy-1") && busy.starts_with(SPINNER),
        "{busy}"
    );
    assert!(
        missing.contains("job-missing") && missing.contains("), giving up in "),
        "{missing}"
    );
    let text = terminal.text();
    assert!(
        !text.contains("WARN") && !text.contains("not visible yet"),
        "{text}"
    );
    interrupt(&child);
    exit_code(child).await;

    // An endpoint where nothing listens: a port just given up.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let env = [("DCS_WAIT_ENDPOINT", format!("http://127.0.0.1:{port}"))];
    let env: Vec<(&'static str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (child, terminal) = at_a_terminal(
        &sim,
        &[
            "--endpoint",
            &format!("http://127.0.0.1:{port}"),
            "job-long",
        ],
        &env,
        COLUMNS,
        Stdout::Piped,
    )
    .await;
    let unreachable = watching(&terminal, |t| {
        t.wait_for("no answer yet (connect), giving up in")
    })
    .await;
    assert!(unreachable.contains("job-long"), "{unreachable}");
    interrupt(&child);
    exit_code(child).await;
}

/// An instance wait shows the instance's status, not a job's; a swap refused while its
/// instance is busy says so, and when it is sent again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_and_swap_lines_show_what_they_wait_for() {
    use dcs_wait::sim::{Scenario, SimInstance, StartFault, StatusSpan};
    let sim = start(Scenario {
        instances: vec![
            SimInstance {
                timeline: vec![StatusSpan {
                    status: "EXTENDING".into(),
                    until_ms: 600_000,
                }],
                ..SimInstance::new("i-resize", 1_000)
            },
            SimInstance {
                start_faults: vec![StartFault::busy(100)],
                ..SimInstance::new("i-busy", 1_000)
            },
        ],
        ..scenario(Vec::new())
    })
    .await;
    let (child, terminal) = on_a_terminal(&sim, &["instance", "i-resize"], &[]).await;
    let row = watching(&terminal, |t| t.wait_for("i-resize  EXTENDING")).await;
    assert!(
        row.starts_with(SPINNER) && row.contains("next poll in"),
        "{row}"
    );
    interrupt(&child);
    exit_code(child).await;

    let (child, terminal) = on_a_terminal(&sim, &["swap", "i-busy"], &[]).await;
    let row = watching(&terminal, |t| {
        t.wait_for("busy (HTTP 400 DCS.4049), sending it again in")
    })
    .await;
    assert!(row.starts_with(SPINNER) && row.contains("i-busy"), "{row}");
    let text = terminal.text();
    assert!(
        !text.contains("WARN"),
        "said in the line, not logged too: {text}"
    );
    interrupt(&child);
    exit_code(child).await;
}

/// The final table, on a terminal: every line fits the width (DETAIL cut with `…`), none
/// wraps.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_fits_the_terminal() {
    let sim = sim(vec![
        job("job-short", 200),
        failed_job("job-fail", 400, Some(&LONG_REASON)),
    ])
    .await;
    for columns in [100, 60] {
        let (child, terminal) = at_a_terminal(
            &sim,
            &["job-short", "job-fail"],
            &[],
            columns,
            Stdout::Terminal,
        )
        .await;
        assert_eq!(exit_code(child).await, Some(1));
        tokio::time::sleep(Duration::from_millis(300)).await;
        let text = terminal.text();
        eprintln!("at {columns} columns:\n{text}");
        assert!(
            terminal.rows().iter().any(|r| r.starts_with("JOB ")),
            "{text}"
        );
        // The table's rows, from its header down: none wraps onto the next.
        let header = terminal
            .rows()
            .iter()
            .position(|r| r.starts_with("JOB "))
            .unwrap();
        let parser = terminal.screen.lock().unwrap();
        for row in header..header + 3 {
            assert!(
                !parser.screen().row_wrapped(row as u16),
                "row {row} wraps at {columns}:\n{text}"
            );
        }
        drop(parser);
        let fail_row = rows_with(&terminal, "job-fail")
            .into_iter()
            .find(|r| r.starts_with("job-fail"))
            .unwrap();
        assert!(fail_row.trim_end().ends_with('…'), "{text}");
    }
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
    let (child, terminal) = on_a_terminal(&sim, &["wide-1", "zw-1"], &[]).await;
    // Below the log, the display alone: a row a wait, each one row, no wrapped rest.
    let display = |seen: &[String]| -> Vec<String> {
        let log_end = seen
            .iter()
            .rposition(|r| r.contains("WARN") || r.contains("not a finished state"))
            .map_or(0, |i| i + 1);
        seen[log_end..]
            .iter()
            .filter(|r| !r.trim().is_empty())
            .cloned()
            .collect()
    };
    let seen = watching(&terminal, move |t| {
        t.wait_for("SUCC\\u{200b}ESS");
        t.wait_for("wide-1  运行中");
        // Some redraws, each of which would leave a wrapped row's rest behind; then a screen
        // between two redraws (the reader may see one half drawn).
        std::thread::sleep(Duration::from_secs(2));
        let start = Instant::now();
        loop {
            let seen = t.rows();
            if display(&seen).len() == 2 || start.elapsed() > Duration::from_secs(10) {
                return seen;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    })
    .await;
    let text = seen.join("\n");
    eprintln!("{text}");
    let display = display(&seen);
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
