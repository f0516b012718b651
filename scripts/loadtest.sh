#!/usr/bin/env bash
# Load test: the tower webhook endpoint beside a plain-200 endpoint, same server, one run.
#
#   bash scripts/loadtest.sh
#
# Builds tools/loadtest-server (release), starts it on 127.0.0.1 (loopback only), and
# drives it with wrk: POSTs of ~600 B deliveries, each signed with the server's app
# secret (N_BODIES distinct ones, so dedup sees fresh and repeated mids alike). The two
# endpoints alternate for ROUNDS rounds of DURATION each, with the same connections and
# threads, so the VM's speed swings hit both alike. Prints rps, p50 and p99 latency per
# run and the ratio of each endpoint's rps to plain's (median, min and max over the
# rounds), then stops the server by its PID. Nothing but 127.0.0.1 is contacted; every
# run is bounded by DURATION.
#
# Beside rps it reports the CPU time the server used per request and the requests per
# CPU-second of server + wrk (from /proc and bash's `time`): wrk and the server share the
# machine's cores, so on a machine other work is also using, rps swings with that work
# while the CPU per request does not.
#
# Endpoints: plain (200, body not read), webhook (the endpoint, served by the tower
# adapter, with MemorySink and MemoryDedup), plain-read (200 after reading the body),
# webhook-discard (the endpoint over a sink that classifies the delivery and drops the
# items), floor (a plain handler that only reads, verifies, parses and classifies: the
# work no correct endpoint can skip, without tower, batch, sink or dedup); on request
# (ENDPOINTS) also webhook-memory (the endpoint with MemorySink, no dedup). Prints each
# endpoint's ratio to plain and, when floor ran, to floor, per round. Exits non-zero if
# any request failed or got a non-2xx answer.
#
# PIN=1 pins the server to one CPU (SERVER_CPU, default 0) and wrk to another (WRK_CPU,
# default 1) with taskset, so the two do not take turns on the same core; the server's
# Tokio runtime then runs one worker thread (it sizes itself to the CPUs it may use).
#
# Knobs (environment): DURATION (10s) CONNECTIONS (16) THREADS (1) ROUNDS (3) WARMUP (2s)
#                      PORT (39871) N_BODIES (5000) ENDPOINTS (all five, plain first)
#                      PIN (off) SERVER_CPU (0) WRK_CPU (1)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-1}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-2s}
PORT=${PORT:-39871}
N_BODIES=${N_BODIES:-5000}
# plain must come first: the ratio is webhook / plain.
ENDPOINTS=${ENDPOINTS:-plain webhook plain-read webhook-discard floor}
SECRET=loadtest-secret
TARGET_DIR=${CARGO_TARGET_DIR:-target}
PIN=${PIN:-}
SERVER_CPU=${SERVER_CPU:-0}
WRK_CPU=${WRK_CPU:-1}
SERVER_PIN=()
WRK_PIN=()
if [ -n "$PIN" ] && [ "$PIN" != 0 ]; then
    command -v taskset >/dev/null || { echo "PIN needs taskset (util-linux)" >&2; exit 1; }
    SERVER_PIN=(taskset -c "$SERVER_CPU")
    WRK_PIN=(taskset -c "$WRK_CPU")
    echo "==> pinned: server to CPU $SERVER_CPU, wrk to CPU $WRK_CPU" >&2
fi

need_wrk
command -v python3 >/dev/null || { echo "python3 is required (to sign the bodies)" >&2; exit 1; }

echo "==> building loadtest-server (release)" >&2
cargo build --release -q -p loadtest-server
SERVER="$TARGET_DIR/release/loadtest-server"

WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# One Lua script per endpoint: identical requests (same bodies and headers), only the
# path differs, so the client does the same work for both.
python3 - "$WORK" "$SECRET" "$N_BODIES" <<'PY'
import hashlib, hmac, json, sys
work, secret, n = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
text = "Hi! Is the linen shirt still available in M? " * 4
bodies = []
for i in range(n):
    body = json.dumps({"object": "instagram", "entry": [{"id": "17841405793187218",
        "time": 1769870412731, "messaging": [{"sender": {"id": "69345812077%05d" % (i % 997)},
        "recipient": {"id": "17841405793187218"}, "timestamp": 1769870412000 + i,
        "message": {"mid": "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1NzkzMTg3MjE4OjMzQwMjgyMzY2ODQxNzEwMzAwOTQ5MTI4MjAwMDAwMDAwMDAwMDAxOjA0NzUxOTMwMjc5NzAwODMwNjE3MDgxMTI1NjQyNTIzNjAwNTU0ZDZ%06d" % i,
        "text": text}}]}]}, separators=(",", ":"))
    sig = "sha256=" + hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()
    bodies.append((body, sig))
sizes = sorted(len(b) for b, _ in bodies)
print(f"bodies: {n}, {sizes[0]}-{sizes[-1]} B", file=sys.stderr)
for name in ("webhook", "webhook-memory", "webhook-discard", "plain", "plain-read", "floor"):
    with open(f"{work}/{name}.lua", "w") as f:
        f.write("local bodies = {\n")
        for body, sig in bodies:
            f.write(f"  {{[==[{body}]==], \"{sig}\"}},\n")
        f.write("}\n")
        f.write(f"""
local requests, i = {{}}, 0
function init(args)
  for k, b in ipairs(bodies) do
    requests[k] = wrk.format("POST", "/{name}", {{
      ["Content-Type"] = "application/json",
      ["X-Hub-Signature-256"] = b[2],
    }}, b[1])
  end
end
function request()
  i = i % #requests + 1
  return requests[i]
end
function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format("RESULT rps=%.0f p50_us=%d p99_us=%d requests=%d non2xx=%d sockerr=%d\\n",
    summary.requests / secs, latency:percentile(50), latency:percentile(99),
    summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
""")
PY

"${SERVER_PIN[@]}" "$SERVER" "$PORT" "$SECRET" 2>"$WORK/server.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
    sleep 0.1
done
kill -0 "$SERVER_PID" || { cat "$WORK/server.log" >&2; exit 1; }

cpu_ticks() { # CPU time (user + system, clock ticks) a process used so far; 0 off Linux
    if [ -r "/proc/$1/stat" ]; then awk '{print $14 + $15}' "/proc/$1/stat"; else echo 0; fi
}
TICK_MS=$((1000 / $(getconf CLK_TCK 2>/dev/null || echo 100)))
TIMEFORMAT='%U %S'
run() { # endpoint duration → RESULT line, plus the CPU time the server and wrk used
    local before after
    before=$(cpu_ticks "$SERVER_PID")
    { time "${WRK_PIN[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$2" --latency -s "$WORK/$1.lua" \
        "http://127.0.0.1:$PORT/$1" >"$WORK/wrk.out"; } 2>"$WORK/wrk.time"
    after=$(cpu_ticks "$SERVER_PID")
    echo "$(grep '^RESULT' "$WORK/wrk.out")" \
        "server_cpu_ms=$(( (after - before) * TICK_MS ))" \
        "wrk_cpu_ms=$(awk '{printf "%d", ($1 + $2) * 1000}' "$WORK/wrk.time")"
}

echo "==> warm-up" >&2
for endpoint in $ENDPOINTS; do run "$endpoint" "$WARMUP" >/dev/null; done

echo "==> $ROUNDS rounds of $DURATION per endpoint, -t$THREADS -c$CONNECTIONS" >&2
: >"$WORK/results"
for round in $(seq 1 "$ROUNDS"); do
    for endpoint in $ENDPOINTS; do
        line=$(run "$endpoint" "$DURATION")
        echo "$endpoint $round $line" | tee -a "$WORK/results" >&2
    done
done

STATS=$(exec 3<>"/dev/tcp/127.0.0.1/$PORT"; printf 'GET /stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3; tail -n1 <&3)
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || true
SERVER_PID=""

python3 - "$WORK/results" "$STATS" "$(tail -n1 "$WORK/server.log")" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    endpoint, rnd, _, *fields = line.split()
    rows.setdefault(endpoint, []).append({k: float(v) for k, v in (f.split("=") for f in fields)})
def fmt_us(us): return f"{us / 1000:.2f} ms"
def cpu_us(x): return x["server_cpu_ms"] * 1000 / max(x["requests"], 1)
def per_cpu_s(x): return x["requests"] / max((x["server_cpu_ms"] + x["wrk_cpu_ms"]) / 1000, 1e-9)
def spread(values, fmt): return " / ".join(fmt(v) for v in (min(values), statistics.median(values), max(values)))
print("| endpoint | rps per round | rps median | p50 (median) | p99 (median / max) | non-2xx "
      "| server CPU per request (min / median / max) | requests per CPU-second (median) |")
print("|---|---|---|---|---|---|---|---|")
for endpoint, r in rows.items():
    p99s = [x["p99_us"] for x in r]
    bad = int(sum(x["non2xx"] + x["sockerr"] for x in r))
    print(f"| {endpoint} | {' / '.join('%.0f' % x['rps'] for x in r)} "
          f"| {statistics.median(x['rps'] for x in r):.0f} "
          f"| {fmt_us(statistics.median(x['p50_us'] for x in r))} "
          f"| {fmt_us(statistics.median(p99s))} / {fmt_us(max(p99s))} | {bad} "
          f"| {spread([cpu_us(x) for x in r], lambda v: f'{v:.1f} µs')} "
          f"| {statistics.median(per_cpu_s(x) for x in r):.0f} |")
print()
def ratios(endpoint, metric):
    return [metric(w) / metric(p) for p, w in zip(rows["plain"], rows[endpoint])]
for endpoint in rows:
    if endpoint == "plain":
        continue
    rps = ratios(endpoint, lambda x: x["rps"])
    print(f"{endpoint} / plain rps: {statistics.median(rps):.2f} (median of rounds; "
          f"min {min(rps):.2f}, max {max(rps):.2f}; per round: "
          + ", ".join("%.2f" % x for x in rps) + ")")
    cpu = ratios(endpoint, per_cpu_s)
    print(f"    requests per CPU-second (server + wrk) / plain: {statistics.median(cpu):.2f} "
          f"(min {min(cpu):.2f}, max {max(cpu):.2f})")
if "floor" in rows:
    for endpoint in rows:
        if endpoint in ("plain", "plain-read", "floor"):
            continue
        rps = [w["rps"] / f["rps"] for f, w in zip(rows["floor"], rows[endpoint])]
        print(f"{endpoint} / floor rps: {statistics.median(rps):.2f} (median of rounds; "
              f"min {min(rps):.2f}, max {max(rps):.2f}; per round: "
              + ", ".join("%.2f" % x for x in rps) + ")")
        cpu = [per_cpu_s(w) / per_cpu_s(f) for f, w in zip(rows["floor"], rows[endpoint])]
        print(f"    requests per CPU-second (server + wrk) / floor: {statistics.median(cpu):.2f} "
              f"(min {min(cpu):.2f}, max {max(cpu):.2f})")
print(f"sink during the run: {sys.argv[2].strip()}")
print(f"server at exit: {sys.argv[3].strip()}")
failed = sum(x["non2xx"] + x["sockerr"] for r in rows.values() for x in r)
if failed:
    sys.exit(f"{int(failed)} requests failed or were not answered 2xx")
PY
