#!/usr/bin/env bash
# The action's second step: runs dcs-wait with the ids on stdin and hands its GITHUB_OUTPUT
# lines (outcome, duration_ms, exit_code, job_id, backup_id, restore_id) to the step. The extra arguments are split
# on white space with globbing off and never evaluated: an input is data, not shell code.
set -u
# shellcheck source=action/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

fail_on_error=${DCS_WAIT_ACTION_FAIL_ON_ERROR:-true}
case "$fail_on_error" in
    true | false) ;;
    *)
        error "fail-on-error must be true or false, not '$fail_on_error'"
        exit 2
        ;;
esac
# `args` is never expanded empty: macOS runners' bash 3.2 calls that unbound under -u.
args=()
command=${DCS_WAIT_ACTION_COMMAND:-wait}
case "$command" in
    wait) ;;
    swap | instance | backup) args+=("$command") ;;
    restore)
        args+=(restore)
        if [ -n "${DCS_WAIT_ACTION_BACKUP_ID:-}" ]; then
            args+=(--from "$DCS_WAIT_ACTION_BACKUP_ID")
        fi
        ;;
    *)
        error "command must be wait, swap, instance, backup or restore, not '$command'"
        exit 2
        ;;
esac
if [ -n "${DCS_WAIT_ACTION_TIMEOUT:-}" ]; then
    args+=(--timeout "$DCS_WAIT_ACTION_TIMEOUT")
fi
set -f
# shellcheck disable=SC2206 # splitting on white space is the input's documented meaning
args+=(${DCS_WAIT_ACTION_ARGS:-})
set +f
# An argument that makes dcs-wait print something and exit 0 would pass the step without a
# wait: refused here, and caught below if one gets past (exit 0 with no report).
refused=""
for arg in "${args[@]}"; do
    case "$arg" in
        --help | --version | --man-page | --man-page=* | --demo | --completions | --completions=* | help | \
            -[hV]* | -[!-]*[hV]*) refused=$arg ;;
    esac
done
args+=(-)

# dcs-wait writes its outputs to a file of ours first: if it could not start (exit 2 before
# any report), the step still gets outcome and exit_code.
outputs=$(mktemp "${RUNNER_TEMP:?}/dcs-wait-outputs.XXXXXX")
if [ -n "$refused" ]; then
    error "args: '$refused' ends dcs-wait without waiting; remove it (the action is for waits)"
    code=2
else
    printf '%s\n' "${DCS_WAIT_ACTION_IDS:-}" | GITHUB_OUTPUT="$outputs" dcs-wait "${args[@]}"
    code=${PIPESTATUS[1]}
fi
if grep -q '^exit_code=' "$outputs"; then
    cat "$outputs" >>"${GITHUB_OUTPUT:?}"
else
    if [ "$code" = 0 ]; then
        error "dcs-wait exited 0 without a report, so it did not wait: check the args input"
        code=2
    fi
    printf 'outcome=error\nduration_ms=\nexit_code=%s\njob_id=\n' "$code" >>"${GITHUB_OUTPUT:?}"
fi
rm -f "$outputs"

if [ "$code" != 0 ] && [ "$fail_on_error" = true ]; then
    exit "$code"
fi
exit 0
