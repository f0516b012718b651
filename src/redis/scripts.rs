//! The Lua scripts, each one atomic step in Redis.

/// Adds the events of several deliveries, each delivery whole or not at all.
///
/// `KEYS`: the shard stream of each event, deliveries one after another (repeats
/// allowed). `ARGV[1]`: the shard length cap; `ARGV[2]`: the number of deliveries; then,
/// per delivery, its number of events followed by the seven values of `codec::FIELDS` per
/// event. A delivery with a target shard already at the cap adds nothing. Returns one
/// integer per delivery: `1` added, `0` refused (full). The deliveries are checked and
/// added in order, so a later one sees the entries of an earlier one; each shard's length
/// is read once per call and counted on from there.
pub(super) const ENQUEUE: &str = r"
local cap = tonumber(ARGV[1])
local len = {}
local k = 1
local a = 3
local out = {}
for d = 1, tonumber(ARGV[2]) do
  local n = tonumber(ARGV[a])
  a = a + 1
  local room = true
  for i = k, k + n - 1 do
    local key = KEYS[i]
    if not len[key] then
      len[key] = redis.call('XLEN', key)
    end
    if len[key] >= cap then
      room = false
      break
    end
  end
  if room then
    for i = k, k + n - 1 do
      local key = KEYS[i]
      redis.call('XADD', key, '*',
        'o', ARGV[a], 'a', ARGV[a + 1], 't', ARGV[a + 2], 's', ARGV[a + 3],
        'r', ARGV[a + 4], 'at', ARGV[a + 5], 'c', ARGV[a + 6])
      len[key] = len[key] + 1
      a = a + 7
    end
    out[d] = 1
  else
    a = a + 7 * n
    out[d] = 0
  end
  k = k + n
end
return out
";

/// Heartbeat: registers the worker `ARGV[1]` at Redis' clock, forgets workers silent for
/// `ARGV[2]` ms, returns how many are live.
pub(super) const HEARTBEAT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
return redis.call('ZCARD', KEYS[1])
";

/// Renews the lease `KEYS[1]` for `ARGV[1]` by `ARGV[2]` ms if it still holds it (1), else 0.
pub(super) const LEASE_RENEW: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
";

/// Gives the lease `KEYS[1]` back if `ARGV[1]` holds it.
pub(super) const LEASE_RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// Trims acknowledged entries from the shard `KEYS[1]`: everything before the oldest entry
/// still pending in group `ARGV[1]`, or before `ARGV[2]` (the last handled id) when
/// nothing is pending. Approximate (`~`): Redis frees whole nodes only.
pub(super) const TRIM: &str = r"
local p = redis.call('XPENDING', KEYS[1], ARGV[1])
local upto = ARGV[2]
if tonumber(p[1]) > 0 then upto = p[2] end
return redis.call('XTRIM', KEYS[1], 'MINID', '~', upto)
";

/// Claims the dedup key `KEYS[1]` for handling.
///
/// `ARGV[1]`: the claim TTL in ms; `ARGV[2]`: `1` to take over an unfinished claim (the
/// entry is being retried or was reclaimed from a stopped worker). Returns `0` when the
/// event is done (a duplicate), `1` when claimed, `2` when another worker holds a claim.
pub(super) const CLAIM: &str = r"
local v = redis.call('GET', KEYS[1])
if v == '2' then return 0 end
if (not v) or ARGV[2] == '1' then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
  return 1
end
return 2
";

/// Deletes the dedup key `KEYS[1]` only while it holds a claim (`1`), never a completed
/// mark (`2`), so a late release cannot erase another process' completed mark.
pub(super) const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == '1' then
  return redis.call('DEL', KEYS[1])
end
return 0
";
