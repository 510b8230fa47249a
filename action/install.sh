#!/usr/bin/env bash
# The action's first step: puts the release archive for this runner in the tool cache (once
# per version and architecture, like actions/tool-cache) and the binaries it holds on PATH.
# The cache is not trusted: on every run the archive is checked against the release's
# .sha256 (a few bytes to download) before it is unpacked into this job's temporary
# directory, and a copy that does not match is replaced. DCS_WAIT_DOWNLOAD_URL, the same
# variable the shell installer reads, points at a mirror of the release files (GitHub
# Enterprise, or the tests' loopback server): https only, or plain http to a loopback address.
set -euo pipefail
# shellcheck source=action/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

version=${DCS_WAIT_ACTION_VERSION:?the version input is empty}
case "$version" in
    v*) version=${version#v} ;;
esac
if [[ ! "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]]; then
    error "version '$version' is not a release version such as 0.1.0"
    exit 2
fi

exe=""
case "${RUNNER_OS:?}/${RUNNER_ARCH:?}" in
    Linux/X64) target=x86_64-unknown-linux-musl ;;
    Linux/ARM64) target=aarch64-unknown-linux-musl ;;
    macOS/X64) target=x86_64-apple-darwin ;;
    macOS/ARM64) target=aarch64-apple-darwin ;;
    # Windows on Arm runs the x86_64 build under emulation.
    Windows/X64 | Windows/ARM64) target=x86_64-pc-windows-msvc exe=.exe ;;
    *)
        error "no dcs-wait release for $RUNNER_OS on $RUNNER_ARCH"
        exit 2
        ;;
esac
case "$target" in
    *windows*) archive="dcs-wait-$target.zip" ;;
    *) archive="dcs-wait-$target.tar.gz" ;;
esac

base=${DCS_WAIT_DOWNLOAD_URL:-https://github.com/dcs-wait/dcs-wait/releases/download/v$version}
# The URL is parsed, not matched as a prefix: http://127.0.0.1:x@evil:80 starts like a
# loopback address and is another host. Scheme, then host and an optional port, nothing else
# in the authority: a user or password is refused, and never printed.
scheme=${base%%://*}
rest=${base#*://}
authority=${rest%%[/?#]*}
if [ "$scheme" = "$base" ] || [ -z "$authority" ]; then
    error "DCS_WAIT_DOWNLOAD_URL is not a URL such as https://mirror.example/dcs-wait/v$version"
    exit 2
fi
if [[ "$authority" == *@* ]]; then
    error "DCS_WAIT_DOWNLOAD_URL must not hold a user or password ($scheme://…@${authority##*@}): give a URL the runner can download from as it is"
    exit 2
fi
if [[ "$authority" =~ ^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$ ]]; then
    host=${BASH_REMATCH[1]}
else
    error "DCS_WAIT_DOWNLOAD_URL has an unusable host '$authority': give a host name or address, and a port"
    exit 2
fi
case "$scheme/$host" in
    https/*) ;;
    http/127.0.0.1 | http/localhost | "http/[::1]") ;;
    *)
        error "DCS_WAIT_DOWNLOAD_URL must be https (or http to a loopback address), not '$scheme://$authority'"
        exit 2
        ;;
esac

sha256() {
    if command -v sha256sum >/dev/null; then
        sha256sum "$1" | cut -d ' ' -f 1
    else
        shasum -a 256 "$1" | cut -d ' ' -f 1
    fi
}
fetch() {
    curl --fail --silent --show-error --location --retry 3 --proto-redir =https \
        --output "$work/$1" "$base/$1"
}

# Not removed at the end: the binaries run from here for the rest of the job.
work=$(mktemp -d "${RUNNER_TEMP:?}/dcs-wait.XXXXXX")
fetch "$archive.sha256"
want=$(cut -d ' ' -f 1 <"$work/$archive.sha256")
cache="${RUNNER_TOOL_CACHE:?}/dcs-wait/$version/$target"
# The copy is checked, not the cache's file: nothing can change it between check and unpack.
if [ -f "$cache/$archive" ] && cp "$cache/$archive" "$work/$archive" &&
    [ -n "$want" ] && [ "$(sha256 "$work/$archive")" = "$want" ]; then
    echo "dcs-wait $version ($target) from the tool cache, checked against $archive.sha256"
else
    if [ -f "$cache/$archive" ]; then
        echo "::warning::the tool cache's $archive does not match the release's $archive.sha256: downloading it again"
    fi
    echo "downloading $base/$archive"
    fetch "$archive"
    got=$(sha256 "$work/$archive")
    if [ -z "$want" ] || [ "$got" != "$want" ]; then
        error "$archive does not match its .sha256 (want '$want', got '$got'): not installed"
        exit 1
    fi
    mkdir -p "$cache"
    # Renamed into place: a run killed half-way leaves no cache entry that looks whole.
    cp "$work/$archive" "$cache/$archive.partial"
    mv -f "$cache/$archive.partial" "$cache/$archive"
    echo "dcs-wait $version ($target) installed in the tool cache"
fi

mkdir -p "$work/unpacked"
case "$archive" in
    *.zip)
        if command -v unzip >/dev/null; then
            unzip -q "$work/$archive" -d "$work/unpacked"
        else
            # shellcheck disable=SC2016 # PowerShell expands $env:, not bash
            ARCHIVE="$work/$archive" DEST="$work/unpacked" pwsh -NoProfile -Command \
                'Expand-Archive -LiteralPath $env:ARCHIVE -DestinationPath $env:DEST'
        fi
        ;;
    *) tar -xzf "$work/$archive" -C "$work/unpacked" ;;
esac
# dist's tarballs hold a directory named like the archive; its zips are flat.
bin="$work/unpacked/dcs-wait-$target"
[ -d "$bin" ] || bin="$work/unpacked"
if [ ! -f "$bin/dcs-wait$exe" ]; then
    error "$archive holds no dcs-wait$exe"
    exit 1
fi
# On Windows (Git Bash) the runner wants a Windows path in GITHUB_PATH.
if command -v cygpath >/dev/null; then
    bin=$(cygpath -w "$bin")
fi
echo "$bin" >>"${GITHUB_PATH:?}"
