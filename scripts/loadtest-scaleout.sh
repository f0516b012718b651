#!/usr/bin/env bash
# Load test of the scale-out setup: two receivers and two workers on one Redis (Redis
# Streams), beside one in-memory process under the same load, in one run.
#
#   bash scripts/loadtest-scaleout.sh
#
# Builds axum-bot and tools/mock-graph (release) and starts, on 127.0.0.1 only, every
# process by itself and stopping each by its PID (cleanup trap):
#   - mock-graph: a fast stand-in for the Graph API's Send endpoint (answers 200, counts);
#   - redis-server on a free port, persistence OFF (no AOF, no RDB snapshots: this
#     measures the bots, not the disk; see docs/PRODUCTION.md for the
#     settings to run with);
#   - scale-out: two `BOT_ROLE=receiver` and two `BOT_ROLE=worker` axum-bots with
#     REDIS_URL; single: one axum-bot without REDIS_URL (in-memory queue and state).
# All bots send live to mock-graph (GRAPH_API_BASE, one account with a dummy token),
# rules only (no OPENAI_API_KEY; every message says "Hi!", answered by the default
# `greeting` rule).
#
# Load: one wrk process, two threads, thread k connected to receiver k (both to the single
# process in its runs), POSTing pre-signed ~590 B deliveries with distinct mids from USERS
# senders (scripts/gen_bodies.py; fresh mids every round; both setups get the same ones,
# each has its own dedup store). Per round and setup, two runs of DURATION:
#   - paced: PACED_CONNECTIONS connections, each waiting PACED_CONNECTIONS / RATE s between
#     an answer and its next request, so wrk offers about RATE deliveries/s in all (a bit
#     less when answers are slow: the wait is long next to the acknowledgement latency),
#     a load both setups sustain, so the end-to-end latency means something; every request
#     must be answered 2xx;
#   - max (MAX=1): CONNECTIONS connections as fast as they go; answers of 503 are counted
#     as "refused" (the bounded queue's backpressure, which Meta meets with retries), not
#     as failures. End-to-end latency here includes the backlog the receivers accept
#     faster than the workers drain it.
# Beside wrk, a prober (scripts/scaleout_probe.py) sends PROBE_RATE deliveries/s of its own,
# each from a fresh sender, and mock-graph notes when each one's reply arrives: that
# end-to-end latency (POST sent → Send request received) is measured outside the bots, the
# same way for both setups. After each run the script waits (DRAIN_TIMEOUT) until every
# acknowledged delivery got its reply. Setups alternate within a round, so the VM's speed
# swings hit both.
#
# Reports per setup and load: deliveries/s acknowledged (2xx; both receivers together),
# p50/p99 acknowledgement latency (wrk --latency, both threads together), end-to-end reply
# latency p50/p99 from the probes and, where the bots record it (the stream workers), from
# their `botkit_reply_latency_seconds` histogram (receiver accept → Graph 200, interpolated
# within its buckets), replies received by the mock vs deliveries acknowledged, replies/s.
#
# Exits non-zero on socket errors, non-2xx answers in paced runs, lost or extra replies
# (replies must be between the acknowledged deliveries and those plus the requests still
# in flight when wrk stopped — plus, for the receivers, the deliveries refused because Redis
# did not confirm the XADD within STREAM_ACK_TIMEOUT_MS: Redis may still have stored them,
# and Meta's retry would be dropped as a duplicate; every acknowledged probe must be
# answered), typing indicators, Graph errors (no model call expected), worker-side
# failures, bot errors other than the refusals of unpaced runs, or a bot that does not
# exit 0 after SIGTERM.
#
# Knobs (environment): DURATION (10s) ROUNDS (3) WARMUP (2s) RATE (1000, paced, in all)
#   PACED_CONNECTIONS (256) CONNECTIONS (32, unpaced) MAX (1: also unpaced runs)
#   USERS (2000) PROBE_RATE (50/s) MAX_BODIES (25000 per second of DURATION: distinct
#   deliveries per unpaced run) DRAIN_TIMEOUT (120 s) MODES ("single scaleout")
#   BOT_LOG (error: the bots' RUST_LOG) KEEP (1 keeps the work directory and the logs)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-2s}
CONNECTIONS=${CONNECTIONS:-32}
PACED_CONNECTIONS=${PACED_CONNECTIONS:-256}
RATE=${RATE:-1000}
MAX=${MAX:-1}
USERS=${USERS:-2000}
DRAIN_TIMEOUT=${DRAIN_TIMEOUT:-120}
PROBE_RATE=${PROBE_RATE:-50}
PROBE_BASE=0
MODES=${MODES:-single scaleout}
BOT_LOG=${BOT_LOG:-error}
TARGET_DIR=${CARGO_TARGET_DIR:-target}

SECRET=loadtest-secret
ACCOUNT=17841405793187218
secs() { # "10s" / "10" → 10
    local v=${1%s}
    case "$v" in '' | *[!0-9]*) echo "bad duration: $1 (use whole seconds, e.g. 10s)" >&2; exit 2 ;; esac
    echo "$v"
}
DURATION_S=$(secs "$DURATION")
WARMUP_S=$(secs "$WARMUP")
MAX_BODIES=${MAX_BODIES:-$((25000 * DURATION_S))}
[ "$CONNECTIONS" -ge 2 ] || { echo "CONNECTIONS must be at least 2" >&2; exit 2; }

need_wrk
command -v python3 >/dev/null || { echo "python3 is required" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "redis-server is required: apt-get install redis-server" >&2; exit 1; }

echo "==> building axum-bot and mock-graph (release)" >&2
cargo build --release -q -p axum-bot -p mock-graph
BOT="$TARGET_DIR/release/axum-bot"
MOCK="$TARGET_DIR/release/mock-graph"
PROBE="python3 scripts/scaleout_probe.py"

WORK=$(mktemp -d)
declare -A PIDS=() # name → pid of every process this script started
STOP_STATUS=0
stop() { # name: SIGTERM, wait up to 30 s, then SIGKILL; exit status in STOP_STATUS
    local name=$1 pid=${PIDS[$1]:-} status=0
    STOP_STATUS=0
    [ -n "$pid" ] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then
            echo "$name (pid $pid) still running 30 s after SIGTERM: SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || status=$?
    unset "PIDS[$name]"
    STOP_STATUS=$status
}
cleanup() {
    local name
    # Bots first (they may still talk to Redis and the mock), then Redis, then the mock.
    for name in prober single receiver1 receiver2 worker1 worker2 redis mock; do
        if [ -n "${PIDS[$name]:-}" ]; then stop "$name"; fi
    done
    if [ -n "${KEEP:-}" ]; then echo "work directory kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_ports() { # n → n free loopback ports
    python3 - "$1" <<'PY'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}
read -r P_SINGLE P_R1 P_R2 P_W1 P_W2 P_REDIS <<<"$(free_ports 6)"
# Each bot serves /metrics on its own admin listener (ADMIN_ADDR); /healthz answers on both.
read -r A_SINGLE A_R1 A_R2 A_W1 A_W2 <<<"$(free_ports 5)"

"$MOCK" 0 >"$WORK/mock.out" 2>"$WORK/mock.err" &
PIDS[mock]=$!
for _ in $(seq 1 100); do grep -q listening "$WORK/mock.out" 2>/dev/null && break; sleep 0.1; done
P_MOCK=$(sed -n 's/^listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$WORK/mock.out")
[ -n "$P_MOCK" ] || { cat "$WORK/mock.err" >&2; echo "mock-graph did not start" >&2; exit 1; }

start_bot() { # name port admin-port [VAR=value…]
    local name=$1 port=$2 admin=$3
    shift 3
    # MAX_CONNECTIONS above wrk's and the prober's connections: this measures throughput,
    # not the connection cap.
    env -i PATH="$PATH" HOME="$WORK" RUST_LOG="$BOT_LOG" PORT="$port" \
        ADMIN_ADDR="127.0.0.1:$admin" MAX_CONNECTIONS=4096 \
        IG_APP_SECRET="$SECRET" IG_VERIFY_TOKEN=loadtest-verify-token \
        IG_BUSINESS_ID="$ACCOUNT" IG_PAGE_TOKEN=loadtest-page-token \
        GRAPH_API_BASE="http://127.0.0.1:$P_MOCK" "$@" \
        "$BOT" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    PIDS[$name]=$!
}
wait_healthy() { # name port
    if ! $PROBE healthy "$2" 30; then
        echo "--- $1 stderr:" >&2; tail -n 20 "$WORK/$1.err" >&2
        exit 1
    fi
}

SINGLE_BOTS=() SCALE_BOTS=() SCALE_PORTS=""
if [[ " $MODES " == *" scaleout "* ]]; then
    # No RDB snapshots, no AOF: the load run measures the bots, not the disk.
    redis-server --port "$P_REDIS" --bind 127.0.0.1 --save "" --appendonly no \
        --maxmemory-policy noeviction --dir "$WORK" --daemonize no \
        >"$WORK/redis.log" 2>&1 &
    PIDS[redis]=$!
    $PROBE redis-ping "$P_REDIS" 10 || { tail -n 20 "$WORK/redis.log" >&2; exit 1; }
    REDIS_URL="redis://127.0.0.1:$P_REDIS/"
    start_bot receiver1 "$P_R1" "$A_R1" BOT_ROLE=receiver REDIS_URL="$REDIS_URL"
    start_bot receiver2 "$P_R2" "$A_R2" BOT_ROLE=receiver REDIS_URL="$REDIS_URL"
    start_bot worker1 "$P_W1" "$A_W1" BOT_ROLE=worker REDIS_URL="$REDIS_URL"
    start_bot worker2 "$P_W2" "$A_W2" BOT_ROLE=worker REDIS_URL="$REDIS_URL"
    for b in receiver1:$P_R1 receiver2:$P_R2 worker1:$P_W1 worker2:$P_W2; do
        wait_healthy "${b%%:*}" "${b##*:}"
    done
    SCALE_BOTS=(receiver1="$A_R1" receiver2="$A_R2" worker1="$A_W1" worker2="$A_W2")
    SCALE_PORTS="$P_R1,$P_R2"
fi
if [[ " $MODES " == *" single "* ]]; then
    start_bot single "$P_SINGLE" "$A_SINGLE"
    wait_healthy single "$P_SINGLE"
    SINGLE_BOTS=(single="$A_SINGLE")
fi
echo "==> mock-graph :$P_MOCK; modes: $MODES" >&2

# gen name count [rate]: bodies for both setups of one run kind (fresh mids per name;
# each setup has its own dedup store, so they can share the same deliveries).
gen() {
    local args=(--dir "$WORK" --name "$1" --secret "$SECRET" --count "$2" --threads 2
        --users "$USERS" --account "$ACCOUNT")
    [ -n "${3:-}" ] && args+=(--rate "$3" --connections "$PACED_CONNECTIONS")
    python3 scripts/gen_bodies.py "${args[@]}" 2>>"$WORK/gen.log"
}
# run mode name duration load round: one wrk run + drain + record
run() {
    local mode=$1 name=$2 duration=$3 load=$4 round=$5 ports bots script connections
    connections=$CONNECTIONS
    [ "$load" = max ] || connections=$PACED_CONNECTIONS
    if [ "$mode" = single ]; then ports="$P_SINGLE,$P_SINGLE"; bots=("${SINGLE_BOTS[@]}")
    else ports=$SCALE_PORTS; bots=("${SCALE_BOTS[@]}"); fi
    # Point the two threads at this setup's receivers.
    script="$WORK/$name.$mode.lua"
    sed "s/^local PREFIX, PORTS, DELAY_MS = \(\"[^\"]*\"\), {[^}]*}/local PREFIX, PORTS, DELAY_MS = \1, {\"${ports%,*}\", \"${ports#*,}\"}/" \
        "$WORK/$name.lua" >"$script"
    $PROBE snapshot "$WORK/before.json" "$P_MOCK" "${bots[@]}"
    # End-to-end probes beside wrk: their own senders, timed at the mock.
    PROBE_BASE=$((PROBE_BASE + 100000))
    $PROBE probe "$WORK/probes.json" "$SECRET" "$ACCOUNT" "$ports" "$(secs "$duration")" \
        "$PROBE_RATE" "$PROBE_BASE" &
    PIDS[prober]=$!
    local line
    line=$(wrk -t2 -c"$connections" -d"$duration" --latency -s "$script" \
        "http://127.0.0.1:${ports%,*}/webhook" | grep '^RESULT') || {
        echo "wrk failed ($mode $name)" >&2; exit 1; }
    wait "${PIDS[prober]}" || { echo "the prober failed ($mode $name)" >&2; exit 1; }
    unset "PIDS[prober]"
    local requests non2xx probes_acked lower
    requests=$(sed 's/.* requests=\([0-9]*\).*/\1/' <<<"$line")
    non2xx=$(sed 's/.* non2xx=\([0-9]*\).*/\1/' <<<"$line")
    probes_acked=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["acked"])' "$WORK/probes.json")
    lower=$((requests - non2xx + probes_acked))
    # Mids sent twice (wrk went round its bodies) get one reply: wait for the replies to
    # settle only; the run is reported as failed (raise MAX_BODIES).
    [[ "$line" == *" wrapped=1"* ]] && lower=0
    if ! $PROBE drain "$WORK/before.json" "$P_MOCK" "$lower" \
        "$DRAIN_TIMEOUT" "${bots[@]}"; then
        echo "$mode $load round $round: $line" >&2
        exit 1
    fi
    $PROBE snapshot "$WORK/after.json" "$P_MOCK" "${bots[@]}"
    if [ "$load" != warmup ]; then
        $PROBE run "$WORK/before.json" "$WORK/after.json" "$line" "$mode" "$load" "$round" \
            "$WORK/probes.json" \
            | tee -a "$WORK/runs.jsonl" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
e, p = r["e2e"] or {}, r["probe"]
f = lambda v: "n/a" if v is None else "%.1f ms" % v
print("%-8s %-5s round %d: acked/s %.0f  ack p50 %.2f ms p99 %.2f ms  e2e p50/p99 probes %s / %s, histogram %s / %s  replies %d / acked %d  refused %d%s" % (
    r["mode"], r["load"], r["round"], r["acked_per_s"], r["p50_ack_ms"], r["p99_ack_ms"],
    f(p["p50_ms"]), f(p["p99_ms"]), f(1000 * e["p50"] if e else None), f(1000 * e["p99"] if e else None),
    r["replies"], r["acked"], r["refused"], ("  PROBLEMS: " + "; ".join(r["problems"])) if r["problems"] else ""))
' >&2
    fi
}

echo "==> warm-up ($WARMUP per setup, paced)" >&2
gen w0 $((RATE * WARMUP_S * 2 + 1000)) "$RATE"
for mode in $MODES; do run "$mode" w0 "$WARMUP" warmup 0; done

echo "==> $ROUNDS rounds: per setup a paced run (≈ $RATE/s, -c$PACED_CONNECTIONS)$([ "$MAX" = 1 ] && echo " and an unpaced run (-c$CONNECTIONS)") of $DURATION each, wrk -t2" >&2
: >"$WORK/runs.jsonl"
for round in $(seq 1 "$ROUNDS"); do
    gen "p$round" $((RATE * DURATION_S * 3 / 2 + 1000)) "$RATE"
    for mode in $MODES; do run "$mode" "p$round" "$DURATION" paced "$round"; done
    rm -f "$WORK/p$round".*.req
    if [ "$MAX" = 1 ]; then
        gen "m$round" "$MAX_BODIES"
        for mode in $MODES; do run "$mode" "m$round" "$DURATION" max "$round"; done
        rm -f "$WORK/m$round".*.req
    fi
done

# Every bot must stop cleanly on SIGTERM (graceful shutdown: exit 0).
BAD_EXIT=""
for name in single receiver1 receiver2 worker1 worker2; do
    [ -n "${PIDS[$name]:-}" ] || continue
    stop "$name"
    if [ "$STOP_STATUS" != 0 ]; then
        echo "$name exited with status $STOP_STATUS after SIGTERM" >&2
        tail -n 5 "$WORK/$name.err" >&2
        BAD_EXIT=1
    fi
done

echo "(machine: $(nproc) vCPU, load average $(cut -d' ' -f1-3 /proc/loadavg); RATE=$RATE PACED_CONNECTIONS=$PACED_CONNECTIONS CONNECTIONS=$CONNECTIONS DURATION=$DURATION ROUNDS=$ROUNDS USERS=$USERS PROBE_RATE=$PROBE_RATE)"
$PROBE table "$WORK/runs.jsonl"
[ -z "$BAD_EXIT" ] || exit 1
