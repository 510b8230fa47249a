#!/usr/bin/env bash
# The action's first step: puts the release archive for this runner in the tool cache (once
# per version and architecture, like actions/tool-cache), after checking its .sha256, and
# adds it to PATH. DCS_WAIT_DOWNLOAD_URL, the same variable the shell installer reads, points
# at a mirror of the release files (GitHub Enterprise, or the tests' loopback server).
set -euo pipefail

version=${DCS_WAIT_ACTION_VERSION:?the version input is empty}
case "$version" in
    v*) version=${version#v} ;;
esac
if [[ ! "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]]; then
    echo "::error::version '$version' is not a release version such as 0.1.0"
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
        echo "::error::no dcs-wait release for $RUNNER_OS on $RUNNER_ARCH"
        exit 2
        ;;
esac
case "$target" in
    *windows*) archive="dcs-wait-$target.zip" ;;
    *) archive="dcs-wait-$target.tar.gz" ;;
esac

cache="${RUNNER_TOOL_CACHE:?}/dcs-wait/$version/$target"
if [ -f "$cache.complete" ] && [ -x "$cache/dcs-wait$exe" ]; then
    echo "dcs-wait $version ($target) from the tool cache"
else
    base=${DCS_WAIT_DOWNLOAD_URL:-https://github.com/dcs-wait/dcs-wait/releases/download/v$version}
    work=$(mktemp -d "${RUNNER_TEMP:?}/dcs-wait.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    echo "downloading $base/$archive"
    for file in "$archive" "$archive.sha256"; do
        curl --fail --silent --show-error --location --retry 3 --proto-redir =https \
            --output "$work/$file" "$base/$file"
    done
    want=$(cut -d ' ' -f 1 <"$work/$archive.sha256")
    if command -v sha256sum >/dev/null; then
        got=$(sha256sum "$work/$archive" | cut -d ' ' -f 1)
    else
        got=$(shasum -a 256 "$work/$archive" | cut -d ' ' -f 1)
    fi
    if [ -z "$want" ] || [ "$got" != "$want" ]; then
        echo "::error::$archive does not match its .sha256 (want '$want', got '$got'): not installed"
        exit 1
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
    from="$work/unpacked/dcs-wait-$target"
    [ -d "$from" ] || from="$work/unpacked"
    if [ ! -f "$from/dcs-wait$exe" ]; then
        echo "::error::$archive holds no dcs-wait$exe"
        exit 1
    fi
    rm -rf "$cache"
    mkdir -p "$(dirname "$cache")"
    mv "$from" "$cache"
    # The marker comes last: a run killed half-way leaves no cache entry that looks whole.
    touch "$cache.complete"
    echo "dcs-wait $version ($target) installed in the tool cache"
fi
# On Windows (Git Bash) the runner wants a Windows path in GITHUB_PATH.
if command -v cygpath >/dev/null; then
    cache=$(cygpath -w "$cache")
fi
echo "$cache" >>"${GITHUB_PATH:?}"
