# Shared by the load-test scripts: `source "$(dirname "$0")/lib.sh"`.

# Makes sure wrk is on PATH: installs the Debian package when running as root with
# apt-get, otherwise says how to get it and exits 1.
need_wrk() {
    command -v wrk >/dev/null && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "==> installing wrk (Debian package)" >&2
        apt-get install -y -qq wrk >/dev/null 2>&1 || {
            apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null
        }
    else
        echo "wrk is required: apt-get install wrk" >&2
        exit 1
    fi
}
