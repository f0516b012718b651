//! The Lua scripts, each one atomic step in Redis.

/// Adds every event of one delivery, or none.
///
/// `KEYS`: the shard stream of each event (repeats allowed). `ARGV[1]`: the shard length
/// cap; then, per event, the seven values of `codec::FIELDS`. Fails with `FULL` (nothing
/// added) when a target shard already holds the cap; returns the number of entries added.
pub(super) const ENQUEUE: &str = r"
local cap = tonumber(ARGV[1])
for i = 1, #KEYS do
  if redis.call('XLEN', KEYS[i]) >= cap then
    return redis.error_reply('FULL shard at capacity')
  end
end
for i = 1, #KEYS do
  local b = 1 + (i - 1) * 7
  redis.call('XADD', KEYS[i], '*',
    'o', ARGV[b + 1], 'a', ARGV[b + 2], 't', ARGV[b + 3], 's', ARGV[b + 4],
    'r', ARGV[b + 5], 'at', ARGV[b + 6], 'c', ARGV[b + 7])
end
return #KEYS
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
