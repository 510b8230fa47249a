"""Waiting for Huawei Cloud DCS operations from a Python deployment script, with dcs-wait.

`pip install dcs-wait` puts the `dcs-wait` command on PATH; this is the short, correct way
to call it. Credentials come from the environment (HUAWEICLOUD_SDK_AK / _SK, or any source
dcs-wait reads), never from arguments. See docs/python.md.
"""

import json
import subprocess

# dcs-wait's exit codes: with several waits the first that applies wins (4, 3, 1, 0).
SUCCESS = 0  # every wait ended in success
FAILED = 1  # a job (or a swap's or instance's task) failed: see each report's fail_reason
USAGE = 2  # a mistake in the call; no request was sent
TIMEOUT = 3  # the deadline came while the operation was not over
UNREADABLE = 4  # could not read it, or never reached the server: see each report's error
INTERRUPTED = (130, 143)  # SIGINT, SIGTERM: each wait is reported "interrupted"


def dcs_wait(*args, timeout="30m", env=None):
    """Runs `dcs-wait --output json --timeout TIMEOUT ARGS...` and returns
    (exit code, reports): one dict per wait, in the order given, as JSON Lines on stdout.

    A non-zero exit code is an answer, not an exception. stderr is not captured: it holds the
    log and the progress, which belong in the terminal or the CI log. Ids go as separate
    arguments (no shell), so nothing in them is ever run.
    """
    done = subprocess.run(
        ["dcs-wait", "--output", "json", "--timeout", timeout, *args],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        check=False,
    )
    reports = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return done.returncode, reports


if __name__ == "__main__":
    import sys

    code, reports = dcs_wait(*sys.argv[1:])
    for report in reports:
        print(
            report["job_id"] or report["instance_id"],
            report["outcome"],
            report["duration_ms"],
            report["fail_reason"] or (report["error"] or {}).get("message", ""),
        )
    sys.exit(code)
