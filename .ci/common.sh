# shellcheck shell=bash
# Shared by the scripts of .ci/ that build and run the release (sourced, not run).

# Runs a part of a script and says how long it took.
part() {
    echo "-- $*"
    local start=$SECONDS
    "$@"
    echo "   ($((SECONDS - start)) s)"
}

# The flags dist builds a musl target with (its build/cargo.rs): the same flags give the same
# build, which .ci/wheel packs without compiling again and .ci/cross builds for aarch64.
# shellcheck disable=SC2034 # used by the scripts that source this
DIST_MUSL_RUSTFLAGS=" -Ctarget-feature=+crt-static -Clink-self-contained=yes"
