#!/usr/bin/env python3
"""Writes pre-signed Instagram text deliveries for wrk, and the Lua script that sends them.

    python3 scripts/gen_bodies.py --dir WORK --name r1 --secret S --count 20000 \
        --threads 2 --ports 3001,3002 [--rate 2000 --connections 32] [--users 2000]

Each delivery is one `messaging` text message (~590 B) from one of `--users` senders
(conversations) to `--account`, with a distinct mid (`--name` makes them unique per
file set) and the current time as its timestamp (so a bot never takes it for a stale
event), signed with `--secret` (`X-Hub-Signature-256`, HMAC-SHA256 of the exact bytes).
The text starts with "Hi!", so the embedded default rules answer it (rule `greeting`):
no model call.

Written: `WORK/NAME.lua` and `WORK/NAME.<k>.req` for each of the `--threads` wrk threads
(k = 0…threads-1): thread k sends bodies k, k+threads, … as complete HTTP/1.1 requests
read from its own file in `init` (nothing is formatted or signed while wrk runs). Run

    wrk -t THREADS -c CONNECTIONS -d 10s --latency -s WORK/NAME.lua http://127.0.0.1:PORT/webhook

With `--ports P1,P2` thread k connects to 127.0.0.1:P(k mod 2) instead of the URL's port,
so one wrk process drives several servers and its latency percentiles cover all of them.
With `--rate R` (and the same `--connections` as wrk's `-c`) each connection waits
`connections / R` seconds between requests, so wrk offers at most ≈ R requests/s in
all (a closed loop with think time: when answers take longer, the rate falls below R).

`done()` prints one line that scripts/loadtest-scaleout.sh parses:

    RESULT rps=… p50_us=… p99_us=… requests=… non2xx=… sockerr=… written=… wrapped=…

`requests` counts answered requests, `written` the requests sent (answered or still in
flight when wrk stopped), `wrapped=1` that some thread used up its bodies and started
over (some mids were then sent twice; raise `--count`).

Standard library only.
"""

import argparse
import hashlib
import hmac
import json
import sys
import time

# Shaped like a real Instagram mid (base64 of "ig_item:1:IGMessageID:…"), made unique.
MID_BASE = (
    "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1NzkzMTg3MjE4OjMzQwMjgyMzY2ODQxNzEwMzAw"
    "OTQ5MTI4MjAwMDAwMDAwMDAwMDAxOjA0NzUxOTMwMjc5NzAwODMwNjE3MDgxMTI1NjQyNTIzNjAwNTU0ZDZ"
)
TEXT = "Hi! Is the linen shirt still available in M? " * 4
# Between two requests in a .req file (never inside one: the bodies are JSON text).
SEPARATOR = b"\n\0\n"

LUA = r"""
local PREFIX, PORTS, DELAY_MS = %(prefix)s, {%(ports)s}, %(delay_ms)s
local SEP = "\n\0\n"
local counter, threads = 0, {}
function setup(thread)
  thread:set("id", counter)
  if #PORTS > 0 then
    thread.addr = wrk.lookup("127.0.0.1", PORTS[counter %% #PORTS + 1])[1]
  end
  counter = counter + 1
  threads[#threads + 1] = thread
end
requests, sent = {}, 0
local i = 0
function init(args)
  local f = assert(io.open(PREFIX .. "." .. id .. ".req", "rb"))
  local data = f:read("*a")
  f:close()
  local pos = 1
  while pos <= #data do
    local stop = string.find(data, SEP, pos, true) or (#data + 1)
    requests[#requests + 1] = string.sub(data, pos, stop - 1)
    pos = stop + #SEP
  end
end
if DELAY_MS > 0 then
  function delay() return DELAY_MS end
end
function request()
  i = i %% #requests + 1
  sent = sent + 1
  return requests[i]
end
function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local written, wrapped = 0, 0
  for _, t in ipairs(threads) do
    local n, share = t:get("sent") or 0, #t:get("requests")
    written = written + n
    if n > share then wrapped = 1 end
  end
  io.write(string.format(
    "RESULT rps=%%.0f p50_us=%%d p99_us=%%d requests=%%d non2xx=%%d sockerr=%%d written=%%d wrapped=%%d\n",
    summary.requests / secs, latency:percentile(50), latency:percentile(99),
    summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    written, wrapped))
end
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dir", required=True, help="where to write the files")
    p.add_argument("--name", required=True, help="file name stem; also makes the mids unique")
    p.add_argument("--secret", required=True, help="app secret to sign with")
    p.add_argument("--count", type=int, required=True, help="distinct deliveries in all")
    p.add_argument("--threads", type=int, default=1, help="wrk threads (-t)")
    p.add_argument("--ports", default="", help="comma-separated ports, thread k → port k mod n")
    p.add_argument("--rate", type=float, default=0, help="offered requests/s in all (0: no pacing)")
    p.add_argument("--connections", type=int, default=0, help="wrk -c (needed with --rate)")
    p.add_argument("--account", default="17841405793187218", help="entry id and recipient")
    p.add_argument("--users", type=int, default=2000, help="distinct senders (conversations)")
    p.add_argument("--path", default="/webhook", help="request path")
    a = p.parse_args()
    ports = [x for x in a.ports.split(",") if x]
    if not all(x.isdigit() for x in ports):
        sys.exit("--ports: expected comma-separated port numbers")
    if a.count < a.threads or a.threads < 1 or a.users < 1:
        sys.exit("--count must be at least --threads, and both --threads and --users positive")
    if not a.name.isalnum():
        sys.exit("--name: letters and digits only (it goes into the mids)")
    delay_ms = 0
    if a.rate > 0:
        if a.connections < 1:
            sys.exit("--rate needs --connections (wrk's -c)")
        delay_ms = max(1, round(1000 * a.connections / a.rate))

    secret = a.secret.encode()
    now = int(time.time() * 1000)
    prefix = f"{a.dir}/{a.name}"
    files = [open(f"{prefix}.{k}.req", "wb") for k in range(a.threads)]
    sizes = set()
    for i in range(a.count):
        body = json.dumps(
            {
                "object": "instagram",
                "entry": [
                    {
                        "id": a.account,
                        "time": now,
                        "messaging": [
                            {
                                "sender": {"id": "69345812%09d" % (i % a.users)},
                                "recipient": {"id": a.account},
                                "timestamp": now + i,
                                "message": {"mid": "%s%s%08d" % (MID_BASE, a.name, i), "text": TEXT},
                            }
                        ],
                    }
                ],
            },
            separators=(",", ":"),
        ).encode()
        sig = hmac.new(secret, body, hashlib.sha256).hexdigest()
        head = (
            f"POST {a.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\n"
            f"X-Hub-Signature-256: sha256={sig}\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        f = files[i % a.threads]
        if f.tell():
            f.write(SEPARATOR)
        f.write(head + body)
        sizes.add(len(body))
    for f in files:
        f.close()
    with open(f"{prefix}.lua", "w", encoding="utf-8") as f:
        f.write(
            LUA
            % {
                "prefix": json.dumps(prefix),
                "ports": ", ".join(json.dumps(x) for x in ports),
                "delay_ms": delay_ms,
            }
        )
    print(
        f"{prefix}.lua: {a.count} deliveries of {min(sizes)}-{max(sizes)} B, "
        f"{a.users} senders, {a.threads} thread file(s)"
        + (f", {delay_ms} ms between requests per connection" if delay_ms else ""),
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
