//! Where a recipe runs: a workspace, a stand-in dcs-wait whose first call exits with one code
//! under test and every later call (a wait after the swap, a restore) with another,
//! and stand-ins for the other commands the recipes call (`curl` hands out an installer that
//! installs the stand-in, `hcloud` answers a job id, `./deploy.sh` succeeds or fails as told).
//! Each stand-in logs its call, so a test can see what ran and in what order.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One run's directory tree; everything a recipe writes stays in it.
pub struct Sandbox {
    dir: tempfile::TempDir,
    /// What dcs-wait's first call exits with, and every later call.
    pub codes: (i32, i32),
    /// What `./deploy.sh` and `./run-migrations.sh` exit with.
    pub deploy: i32,
}

/// The stand-in dcs-wait: what the real one writes for an exit code (the step outputs, the
/// JSON line's `outcome` and `backup_id`, the JUnit file), not how it gets there.
const DCS_WAIT: &str = r#"#!/usr/bin/env bash
printf 'dcs-wait %s\n' "$*" >>"$RECIPE_LOG"
code=$RECIPE_FIRST_EXIT
if [ -e "$RECIPE_LOG.called" ]; then code=$RECIPE_LATER_EXIT; fi
touch "$RECIPE_LOG.called"
case $code in
    0) outcome=success ;;
    1) outcome=failed ;;
    3) outcome=timeout ;;
    *) outcome=error ;;
esac
command=wait json=false junit=""
while [ $# -gt 0 ]; do
    case $1 in
        swap | instance | backup | restore) command=$1 ;;
        --output) shift; [ "$1" = json ] && json=true ;;
        --junit) shift; junit=$1 ;;
        -) cat >/dev/null ;;
    esac
    shift
done
# A backup that may not have started (exit 4) has no id; one that failed or is not over has.
backup_id=""
if [ "$command" = backup ] && [ "$code" != 4 ]; then
    backup_id=b0c1d2e3-0000-4000-8000-000000000001
fi
if $json; then
    if [ -n "$backup_id" ]; then
        printf '{"outcome":"%s","backup_id":"%s"}\n' "$outcome" "$backup_id"
    else
        printf '{"outcome":"%s"}\n' "$outcome"
    fi
else
    echo "stand-in dcs-wait: $outcome"
fi
if [ -n "$junit" ]; then
    echo '<testsuites/>' >"$junit"
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
    printf 'outcome=%s\nduration_ms=\nexit_code=%s\njob_id=\n' "$outcome" "$code" >>"$GITHUB_OUTPUT"
    if [ "$command" = backup ]; then
        printf 'backup_id=%s\n' "$backup_id" >>"$GITHUB_OUTPUT"
    fi
fi
exit "$code"
"#;

/// What `curl -o FILE` downloads: an installer that puts the stand-in where dist's would put
/// the real one (`$DCS_WAIT_INSTALL_DIR/bin`, else `$CARGO_HOME/bin`, else `~/.cargo/bin`),
/// under the sandbox's root when the path is outside it (`/usr/local` in a container).
const INSTALLER: &str = r#"#!/bin/sh
set -e
dir="${DCS_WAIT_INSTALL_DIR:-${CARGO_HOME:-$HOME/.cargo}}/bin"
case $dir in
    "$RECIPE_ROOT"/*) ;;
    *) dir="$RECIPE_ROOT$dir" ;;
esac
mkdir -p "$dir"
cp "$RECIPE_DIST/dcs-wait" "$dir/dcs-wait"
echo "installed the stand-in dcs-wait in $dir"
"#;

const CURL: &str = r#"#!/usr/bin/env bash
printf 'curl %s\n' "$*" >>"$RECIPE_LOG"
out=""
while [ $# -gt 0 ]; do
    [ "$1" = -o ] && { shift; out=$1; }
    shift
done
if [ -n "$out" ]; then cp "$RECIPE_INSTALLER" "$out"; else cat "$RECIPE_INSTALLER"; fi
"#;

const LOGGED: &str = r#"#!/usr/bin/env bash
printf '%s %s\n' "$(basename "$0")" "$*" >>"$RECIPE_LOG"
"#;

impl Sandbox {
    pub fn new(codes: (i32, i32), deploy: i32) -> Sandbox {
        let sandbox = Sandbox {
            dir: tempfile::tempdir().expect("a temporary directory"),
            codes,
            deploy,
        };
        for dir in ["bin", "dist", "home", "temp", "work", "usr/local/bin"] {
            std::fs::create_dir_all(sandbox.path(dir)).expect("a sandbox directory");
        }
        sandbox.script("dist/dcs-wait", DCS_WAIT);
        sandbox.script("installer.sh", INSTALLER);
        sandbox.script("bin/curl", CURL);
        sandbox.script("bin/apk", LOGGED);
        sandbox.script(
            "bin/hcloud",
            &format!("{LOGGED}echo '{{\"job_id\": \"ff8080818822bbf70188235afc24141a\"}}'\n"),
        );
        for name in ["deploy.sh", "run-migrations.sh"] {
            sandbox.script(
                &format!("work/{name}"),
                &format!("{LOGGED}exit {}\n", sandbox.deploy),
            );
        }
        sandbox
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn script(&self, relative: &str, text: &str) {
        let path = self.path(relative);
        std::fs::write(&path, text).expect("a stand-in");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .expect("an executable stand-in");
    }

    /// The directory holding the stand-in dcs-wait, for what puts it on PATH without an
    /// installer (the action's install step, an image that has it).
    pub fn dist(&self) -> PathBuf {
        self.path("dist")
    }

    /// A `PATH` of `first` then the stand-ins then the system's (bash, sh, jq, coreutils).
    pub fn path_var(&self, first: &[PathBuf]) -> String {
        let mut dirs: Vec<PathBuf> = first.to_vec();
        dirs.push(self.path("bin"));
        dirs.extend(["/usr/bin", "/bin"].map(PathBuf::from));
        std::env::join_paths(dirs)
            .expect("a PATH")
            .into_string()
            .expect("a UTF-8 PATH")
    }

    /// A command in the workspace with nothing of this process's environment but what the
    /// recipe would find on a runner.
    pub fn command(&self, program: &str, path: &str) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(self.path("work"))
            .env_clear()
            .env("PATH", path)
            .env("HOME", self.path("home"))
            .env("LANG", "C.UTF-8")
            .env("RECIPE_FIRST_EXIT", self.codes.0.to_string())
            .env("RECIPE_LATER_EXIT", self.codes.1.to_string())
            .env("RECIPE_LOG", self.path("log"))
            .env("RECIPE_ROOT", self.dir.path())
            .env("RECIPE_DIST", self.dist())
            .env("RECIPE_INSTALLER", self.path("installer.sh"));
        command
    }

    /// The commands the stand-ins saw, in order (`dcs-wait backup …`, `deploy.sh`).
    pub fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.path("log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }
}
