#!/usr/bin/env python3
"""Counters and checks for scripts/loadtest-scaleout.sh (standard library only).

Everything it contacts is on 127.0.0.1: the mock Graph API's `GET /stats` and the bots'
`GET /metrics` / `GET /healthz`.

    scaleout_probe.py healthy PORT [TIMEOUT_S]
        wait until http://127.0.0.1:PORT/healthz answers 200
    scaleout_probe.py redis-ping PORT [TIMEOUT_S]
        wait until the redis-server on PORT answers PING
    scaleout_probe.py snapshot OUT.json MOCK_PORT NAME=ADMIN_PORT…
        save the mock's stats and each bot's metrics (plus the wall clock)
    scaleout_probe.py drain BEFORE.json MOCK_PORT LOWER DEADLINE_S NAME=ADMIN_PORT…
        wait until the mock received at least LOWER replies since BEFORE, every entry the
        receivers enqueued since BEFORE was handled by a worker (when the bots export the
        stream metrics), and the reply count held still for a second; exit 1 at the deadline
    scaleout_probe.py probe OUT.json SECRET ACCOUNT PORTS DURATION_S RATE BASE
        while wrk runs: POST about RATE signed deliveries/s for DURATION_S, alternating
        over the comma-separated PORTS, each from its own sender 99999<BASE+n> (a fresh
        conversation), noting when each was sent and its status; mock-graph keeps when
        the reply to each such sender arrived (GET /probes), which times replies end to
        end from outside the bots
    scaleout_probe.py run BEFORE.json AFTER.json RESULT_LINE MODE LOAD ROUND PROBES.json
        print one JSON line describing a run (acks, replies, e2e latency, checks)
    scaleout_probe.py table RUNS.jsonl
        print the summary tables; exit 1 if any run failed its checks
"""

import hashlib
import hmac
import http.client
import json
import socket
import statistics
import sys
import time
import urllib.request

HIST = "botkit_reply_latency_seconds"


def get(port: int, path: str, timeout: float = 5.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, ""


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus text → {"name{labels}": value} (labels kept verbatim)."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        try:
            out[key] = float(value)
        except ValueError:
            pass
    return out


def total(metrics: dict[str, float], name: str, label: str = "") -> float:
    """Sum of `name` over its label sets (those containing `label` if given)."""
    s = 0.0
    for key, value in metrics.items():
        base, _, labels = key.partition("{")
        if base == name and label in labels:
            s += value
    return s


def snapshot(mock_port: int, bots: list[tuple[str, int]]) -> dict:
    _, stats = get(mock_port, "/stats")
    out = {"t_ms": int(time.time() * 1000), "mock_port": mock_port, "mock": json.loads(stats), "bots": {}}
    for name, port in bots:
        status, text = get(port, "/metrics")
        out["bots"][name] = parse_metrics(text) if status == 200 else {}
    return out


def bot_args(args: list[str]) -> list[tuple[str, int]]:
    return [(a.split("=")[0], int(a.split("=")[1])) for a in args]


def delta(before: dict, after: dict, name: str, label: str = "", role: str = "") -> float:
    """Increase of `name` summed over the bots whose name starts with `role`."""
    s = 0.0
    for bot, m in after["bots"].items():
        if bot.startswith(role):
            s += total(m, name, label) - total(before["bots"].get(bot, {}), name, label)
    return s


def stream_backlog(before: dict, now: dict) -> float | None:
    """Entries enqueued since `before` that no worker finished yet (None: no stream metrics)."""
    enq = [m for m in now["bots"].values() if any(k.startswith("botkit_stream_enqueued_total") for k in m)]
    if not enq:
        return None
    return delta(before, now, "botkit_stream_enqueued_total") - delta(
        before, now, "botkit_stream_handled_total"
    )


def error_kinds(before: dict, after: dict) -> dict[str, float]:
    """Increase of botkit_errors_total per kind, summed over the bots."""
    kinds: dict[str, float] = {}
    for bot, m in after["bots"].items():
        b = before["bots"].get(bot, {})
        for key, value in m.items():
            if key.startswith('botkit_errors_total{kind="'):
                kind = key.split('"')[1]
                kinds[kind] = kinds.get(kind, 0.0) + value - b.get(key, 0.0)
    return {k: v for k, v in kinds.items() if v}


def quantiles(before: dict, after: dict, role: str) -> dict[str, float] | None:
    """p50/p99 of the reply latency histogram's increase (linear within a bucket, as
    Prometheus' histogram_quantile), summed over the bots named `role…`."""
    buckets: dict[float, float] = {}
    for bot, m in after["bots"].items():
        if not bot.startswith(role):
            continue
        b = before["bots"].get(bot, {})
        for key, value in m.items():
            if key.startswith(HIST + "_bucket{"):
                le = key.split('le="')[1].split('"')[0]
                bound = float("inf") if le == "+Inf" else float(le)
                buckets[bound] = buckets.get(bound, 0.0) + value - b.get(key, 0.0)
    if not buckets:
        return None
    bounds = sorted(buckets)
    count = buckets[bounds[-1]]
    if count <= 0:
        return None
    out = {"count": count}
    for q in (0.5, 0.99):
        rank = q * count
        lower, prev = 0.0, 0.0
        for bound in bounds:
            c = buckets[bound]
            if c >= rank:
                if bound == float("inf"):
                    out[f"p{int(q * 100)}"] = lower
                else:
                    frac = (rank - prev) / (c - prev) if c > prev else 1.0
                    out[f"p{int(q * 100)}"] = lower + (bound - lower) * frac
                break
            lower, prev = bound, c
    return out


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def cmd_probe(out: str, secret: str, account: str, ports: str, duration: float, rate: float, base: int) -> None:
    conns = {int(p): http.client.HTTPConnection("127.0.0.1", int(p), timeout=10) for p in ports.split(",")}
    order = [int(p) for p in ports.split(",")]
    probes, n = [], 0
    start = time.time()
    while time.time() - start < duration:
        due = start + n / rate
        if due > time.time():
            time.sleep(due - time.time())
        user = "99999%012d" % (base + n)
        now_ms = int(time.time() * 1000)
        body = json.dumps(
            {"object": "instagram", "entry": [{"id": account, "time": now_ms, "messaging": [{
                "sender": {"id": user}, "recipient": {"id": account}, "timestamp": now_ms,
                "message": {"mid": f"probe.{base + n}", "text": "Hi! probe"}}]}]},
            separators=(",", ":"),
        ).encode()
        sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        port = order[n % len(order)]
        sent = time.time() * 1e6
        try:
            conn = conns[port]
            conn.request("POST", "/webhook", body, {"Content-Type": "application/json",
                                                    "X-Hub-Signature-256": sig})
            resp = conn.getresponse()
            resp.read()
            status = resp.status
        except OSError:
            conns[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            status = 0
        probes.append({"user": user, "sent_us": sent, "status": status})
        n += 1
    acked = sum(1 for p in probes if 200 <= p["status"] < 300)
    json.dump({"acked": acked, "probes": probes}, open(out, "w"))


def cmd_healthy(port: int, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if get(port, "/healthz", 1.0)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit(f"127.0.0.1:{port}/healthz did not answer 200 within {timeout:.0f} s")


def cmd_redis_ping(port: int, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(64).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit(f"redis-server on 127.0.0.1:{port} did not answer PING within {timeout:.0f} s")


def cmd_drain(before_path: str, mock_port: int, lower: int, deadline_s: float, bots) -> None:
    before = json.load(open(before_path))
    base = before["mock"]["messages"]
    deadline = time.time() + deadline_s
    last, still_since = -1, time.time()
    while True:
        now = snapshot(mock_port, bots)
        replies = now["mock"]["messages"] - base
        backlog = stream_backlog(before, now)
        if replies != last:
            last, still_since = replies, time.time()
        if replies >= lower and (backlog is None or backlog <= 0) and time.time() - still_since >= 1.0:
            return
        if time.time() > deadline:
            sys.exit(
                f"not drained after {deadline_s:.0f} s: {replies} replies for at least "
                f"{lower} acknowledged deliveries"
                + (f", {backlog:.0f} stream entries not yet handled" if backlog is not None else "")
            )
        time.sleep(0.2)


def cmd_run(before_path: str, after_path: str, result: str, mode: str, load: str, rnd: str, probes_path: str) -> None:
    before, after = json.load(open(before_path)), json.load(open(after_path))
    probe_run = json.load(open(probes_path))
    _, text = get(after["mock_port"], "/probes")
    received = json.loads(text)
    probe_acked = [p for p in probe_run["probes"] if 200 <= p["status"] < 300]
    probe_lost = [p for p in probe_acked if p["user"] not in received]
    probe_e2e = [(received[p["user"]] - p["sent_us"]) / 1000 for p in probe_acked if p["user"] in received]
    probe_errors = sum(1 for p in probe_run["probes"] if p["status"] == 0)
    probe_refused = len(probe_run["probes"]) - len(probe_acked) - probe_errors
    r = {k: float(v) for k, v in (f.split("=") for f in result.split()[1:])}
    requests, non2xx, sockerr = r["requests"], r["non2xx"], r["sockerr"]
    acked = requests - non2xx
    secs = requests / r["rps"] if r["rps"] else 0.0
    # The probes' replies are counted apart.
    replies = after["mock"]["messages"] - before["mock"]["messages"] - (len(probe_acked) - len(probe_lost))
    in_flight = r["written"] - requests
    last_ms = after["mock"].get("last_ms") or before["t_ms"]
    worker_role = "worker" if mode == "scaleout" else "single"
    run = {
        "mode": mode,
        "load": load,
        "round": int(rnd),
        "acked_per_s": acked / secs if secs else 0.0,
        "p50_ack_ms": r["p50_us"] / 1000,
        "p99_ack_ms": r["p99_us"] / 1000,
        "acked": acked,
        "refused": non2xx,
        "sockerr": sockerr,
        "in_flight_at_end": in_flight,
        "replies": replies,
        "replies_per_s": replies / max(0.001, (last_ms - before["t_ms"]) / 1000),
        "sender_actions": after["mock"]["sender_actions"] - before["mock"]["sender_actions"],
        "unauthorized": after["mock"]["unauthorized"] - before["mock"]["unauthorized"],
        "duplicates": delta(before, after, "botkit_stream_handled_total", 'outcome="duplicate"'),
        "failed": delta(before, after, "botkit_stream_handled_total", 'outcome="failed"')
        + delta(before, after, "botkit_stream_handled_total", 'outcome="dead"'),
        "errors": delta(before, after, "botkit_errors_total"),
        "error_kinds": error_kinds(before, after),
        "e2e": quantiles(before, after, worker_role),
        "probe": {
            "sent": len(probe_run["probes"]),
            "acked": len(probe_acked),
            "refused": probe_refused,
            "p50_ms": percentile(probe_e2e, 50) if probe_e2e else None,
            "p99_ms": percentile(probe_e2e, 99) if probe_e2e else None,
        },
        "wrapped": bool(r["wrapped"]),
    }
    problems = []
    if probe_lost:
        problems.append(f"lost replies: {len(probe_lost)} acknowledged probes got no reply")
    if probe_errors:
        problems.append(f"{probe_errors} probe requests failed")
    if probe_refused and load != "max":
        problems.append(f"{probe_refused} probes answered non-2xx")
    if sockerr:
        problems.append(f"{sockerr:.0f} socket errors")
    if non2xx and load != "max":
        problems.append(f"{non2xx:.0f} requests answered non-2xx")
    if r["wrapped"]:
        problems.append("wrk went round its bodies (mids repeated): raise MAX_BODIES")
    elif replies < acked:
        problems.append(f"lost replies: {replies:.0f} replies for {acked:.0f} acknowledged deliveries")
    # A receiver that answered 503 because Redis did not confirm the XADD within
    # STREAM_ACK_TIMEOUT_MS cannot know whether Redis stored it after all: such a delivery
    # may be answered (Meta's retry of it would then be dropped as a duplicate).
    ambiguous = non2xx if mode == "scaleout" else 0
    if not r["wrapped"] and replies > acked + in_flight + ambiguous:
        problems.append(
            f"{replies:.0f} replies for {acked:.0f} acknowledged deliveries "
            f"(+{in_flight:.0f} in flight at the end, +{ambiguous:.0f} refused): duplicates sent"
        )
    for key in ("sender_actions", "unauthorized", "failed"):
        if run[key]:
            problems.append(f"{key}: {run[key]:.0f}")
    # In unpaced runs refusals are expected; the errors that say why are not failures.
    expected = {"stream_unavailable", "stream_full"} if load == "max" else set()
    unexpected = {k: v for k, v in run["error_kinds"].items() if v and k not in expected}
    if unexpected:
        problems.append("errors: " + ", ".join(f"{k}={v:.0f}" for k, v in sorted(unexpected.items())))
    run["problems"] = problems
    print(json.dumps(run))


def ms(x: float) -> str:
    return f"{x:.2f} ms" if x < 100 else f"{x:.0f} ms"


def cmd_table(path: str) -> None:
    runs = [json.loads(line) for line in open(path) if line.strip()]
    names = {"single": "single process, in-memory", "scaleout": "2 receivers + 2 workers, Redis Streams"}
    for load in ("paced", "max"):
        rows = [r for r in runs if r["load"] == load]
        if not rows:
            continue
        print()
        print(
            "| setup | acked/s per round | acked/s (median) | ack p50 | ack p99 (median / max) "
            "| e2e reply p50 / p99 (probes) | e2e reply p50 / p99 (histogram) | replies / acked | refused (503) |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for mode in ("single", "scaleout"):
            rs = [r for r in rows if r["mode"] == mode]
            if not rs:
                continue
            e2e = [r["e2e"] for r in rs if r["e2e"]]
            hist = (
                f"{ms(1000 * statistics.median(e['p50'] for e in e2e))} / "
                f"{ms(1000 * statistics.median(e['p99'] for e in e2e))}"
                if e2e
                else "n/a"
            )
            pr = [r["probe"] for r in rs if r["probe"]["p50_ms"] is not None]
            probe = (
                f"{ms(statistics.median(p['p50_ms'] for p in pr))} / "
                f"{ms(statistics.median(p['p99_ms'] for p in pr))}"
                if pr
                else "n/a"
            )
            p99s = [r["p99_ack_ms"] for r in rs]
            print(
                f"| {names[mode]} ({load}) | "
                + " / ".join(f"{r['acked_per_s']:.0f}" for r in rs)
                + f" | {statistics.median(r['acked_per_s'] for r in rs):.0f}"
                f" | {ms(statistics.median(r['p50_ack_ms'] for r in rs))}"
                f" | {ms(statistics.median(p99s))} / {ms(max(p99s))}"
                f" | {probe} | {hist}"
                f" | {sum(r['replies'] for r in rs):.0f} / {sum(r['acked'] for r in rs):.0f}"
                f" | {sum(r['refused'] for r in rs):.0f} |"
            )
        for mode in ("single", "scaleout"):
            rs = [r for r in rows if r["mode"] == mode]
            if rs:
                print(
                    f"\n{names[mode]} ({load}): replies/s from load start to last reply per round: "
                    + ", ".join(f"{r['replies_per_s']:.0f}" for r in rs)
                    + f"; duplicates counted by workers: {sum(r['duplicates'] for r in rs):.0f}"
                    + f"; probes acked {sum(r['probe']['acked'] for r in rs)} of {sum(r['probe']['sent'] for r in rs)}"
                    + "".join(
                        f"; errors {k}={sum(r['error_kinds'].get(k, 0) for r in rs):.0f}"
                        for k in sorted({k for r in rs for k in r["error_kinds"]})
                    )
                )
    bad = [r for r in runs if r["problems"]]
    for r in bad:
        print(f"FAILED {r['mode']} {r['load']} round {r['round']}: " + "; ".join(r["problems"]), file=sys.stderr)
    if bad:
        sys.exit(1)


def main() -> None:
    a = sys.argv[1:]
    if not a:
        sys.exit(__doc__)
    cmd = a[0]
    if cmd == "healthy":
        cmd_healthy(int(a[1]), float(a[2]) if len(a) > 2 else 30)
    elif cmd == "redis-ping":
        cmd_redis_ping(int(a[1]), float(a[2]) if len(a) > 2 else 10)
    elif cmd == "snapshot":
        json.dump(snapshot(int(a[2]), bot_args(a[3:])), open(a[1], "w"))
    elif cmd == "drain":
        cmd_drain(a[1], int(a[2]), int(float(a[3])), float(a[4]), bot_args(a[5:]))
    elif cmd == "probe":
        cmd_probe(a[1], a[2], a[3], a[4], float(a[5]), float(a[6]), int(a[7]))
    elif cmd == "run":
        cmd_run(*a[1:8])
    elif cmd == "table":
        cmd_table(a[1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
