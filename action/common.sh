# shellcheck shell=bash
# Shared by the action's steps (sourced, not run).

# A workflow command's data as the runner reads it back: `%`, CR and LF encoded, so that an
# input quoted in a message cannot end the command and start one of its own.
command_data() {
    local s=${1//'%'/%25}
    s=${s//$'\r'/%0D}
    printf '%s' "${s//$'\n'/%0A}"
}

# An error annotation that quotes what it is given as data.
error() {
    echo "::error::$(command_data "$*")"
}
