#!/usr/bin/env bash
# Runs every test of the workspace: all features, then the core alone.
#
# Usage: scripts/test.sh [extra cargo test arguments, e.g. a test name filter]
#
# The Redis tests start their own `redis-server` on a free loopback port and fail (never
# skip) without it. When it is missing, this script installs it on Debian or Ubuntu as root
# (apt-get) and stops the system service the package starts; anywhere else it prints the
# command to run and stops.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "==> installing redis-server (apt-get)" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends redis-server >/dev/null
        # The package may start a server on 6379; the tests start their own.
        if command -v service >/dev/null 2>&1; then
            service redis-server stop >/dev/null 2>&1 || true
        fi
        if command -v systemctl >/dev/null 2>&1; then
            systemctl disable --now redis-server >/dev/null 2>&1 || true
        fi
    else
        if command -v apt-get >/dev/null 2>&1; then
            hint="sudo apt-get install redis-server"
        elif command -v brew >/dev/null 2>&1; then
            hint="brew install redis"
        elif command -v dnf >/dev/null 2>&1; then
            hint="sudo dnf install redis"
        else
            hint="install Redis (https://redis.io/docs/latest/operate/oss_and_stack/install/)"
        fi
        echo "error: the tests need redis-server, which is not installed." >&2
        echo "       Run: $hint" >&2
        echo "       then run scripts/test.sh again." >&2
        exit 1
    fi
fi
echo "==> $(redis-server --version)" >&2

echo "==> cargo test --workspace --all-features" >&2
cargo test --workspace --all-features "$@"

# The core alone: no async runtime, no HTTP framework (the README's first example and the
# unit tests of signature, handshake, payload and event).
echo "==> cargo test -p meta-webhooks --no-default-features" >&2
cargo test -p meta-webhooks --no-default-features "$@"
