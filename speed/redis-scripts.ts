/**
 * Key layout (all under the deployment's `{prefix}` hash tag):
 *   slice:<metric>:<p>:<slice>:<hour>   hash of minute cells (field `bucket␟dims…␟cell`)
 *   hslice:<metric>:<p>:<slice>:<hour>  the same cells summed up to the hour (bucket = the hour's start)
 *   hours:<metric>:<p>                  zset, member `<slice>:<hour>`, score hour — the range index
 *   slices:<p>                          zset, member `<metric>:<slice>:<hour>`, score slice — for pruning
 */

/**
 * KEYS: speed_offset hash, meta hash, deltas stream.
 * ARGV: partition, from, to, initIfMissing, appliedAt, delta ('' = none), maxDeltas, prefix,
 *       initFloor, n, k, m, then n × (slice key, field, op s|m|M, value), then k × (metric, slice,
 *       hour) — the hashes this batch touches, added to the indexes — then m × (touched index
 *       1..k, hour field, op, value): the batch's cells summed up to their hour (hslice hashes).
 * An apply that starts the partition raises its floor to initFloor (the slices below were never
 * applied here). Compare-and-set on the partition's speed offset makes re-applying harmless and
 * refuses gaps. Values stay strings end to end so Lua's doubles never round an integer.
 * An hslice hash is written only when it holds every earlier apply of its slice hour too (it
 * exists, or the minute hash does not yet): one that exists is complete, so a reader may use it
 * in place of the minutes. Slice hours applied before hour cells were kept never get one.
 */
export const APPLY_LUA = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local p, prefix = ARGV[1], ARGV[8]
if cur == false then
  if ARGV[4] ~= '1' then return {0, ''} end
  local fk = prefix .. ':floor'
  local floor = tonumber(redis.call('HGET', fk, p) or '0')
  if tonumber(ARGV[9]) > floor then redis.call('HSET', fk, p, ARGV[9]) end
elseif tonumber(cur) ~= tonumber(ARGV[2]) then
  return {0, cur}
end
local function put(key, field, op, v)
  if op == 's' then
    redis.call('HINCRBY', key, field, v)
  else
    local old = redis.call('HGET', key, field)
    if old == false or (op == 'm' and tonumber(v) < tonumber(old)) or (op == 'M' and tonumber(v) > tonumber(old)) then
      redis.call('HSET', key, field, v)
    end
  end
end
local n, k, m = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])
local t0 = 13 + 4 * n
local hourKeys = {}
local i = t0
for j = 1, k do
  local rest = ARGV[i] .. ':' .. p .. ':' .. ARGV[i + 1] .. ':' .. ARGV[i + 2]
  local hk = prefix .. ':hslice:' .. rest
  if redis.call('EXISTS', hk) == 1 or redis.call('EXISTS', prefix .. ':slice:' .. rest) == 0 then
    hourKeys[j] = hk
  else
    hourKeys[j] = false
  end
  i = i + 3
end
i = 13
for _ = 1, n do
  put(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3])
  i = i + 4
end
for _ = 1, k do
  local metric, slice, hour = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  redis.call('ZADD', prefix .. ':hours:' .. metric .. ':' .. p, hour, slice .. ':' .. hour)
  redis.call('ZADD', prefix .. ':slices:' .. p, slice, metric .. ':' .. slice .. ':' .. hour)
  i = i + 3
end
for _ = 1, m do
  local hk = hourKeys[tonumber(ARGV[i])]
  if hk then put(hk, ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]) end
  i = i + 4
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], 'appliedAt', ARGV[5])
local id = ''
if ARGV[6] ~= '' then
  id = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[7], '*', 'd', ARGV[6])
end
return {1, ARGV[3], id}
`;

/**
 * KEYS: speed_offset hash, floor hash, meta hash. ARGV: prefix, metric, P, first hour, last hour
 * (inclusive; '-inf'/'+inf' = all), a Lua pattern the cell fields must match ('' = all; built by
 * metrics/cell-key.ts `cellFieldLuaPattern`), grain ('hour' reads a slice hour's hslice hash
 * where it has one, its minutes otherwise), fromSlice × P.
 * Returns {offsets[], floors[], appliedAt, per partition {{slice, {field, value, …}}, …}} — read in
 * one atomic step so the slices agree with the offsets returned. It visits only the hashes the
 * hour index lists in the range: its cost follows the question, not the speed layer's backlog.
 */
export const READ_LUA = `
local prefix, metric, P, h0, h1, pat = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5], ARGV[6]
local hourly = ARGV[7] == 'hour'
local offsets, floors, out = {}, {}, {}
for p = 0, P - 1 do
  local o = redis.call('HGET', KEYS[1], tostring(p))
  local f = redis.call('HGET', KEYS[2], tostring(p))
  offsets[p + 1] = o or ''
  floors[p + 1] = f or ''
  local list = {}
  if o then
    local from = tonumber(ARGV[8 + p])
    local members = redis.call('ZRANGEBYSCORE', prefix .. ':hours:' .. metric .. ':' .. p, h0, h1)
    for _, m in ipairs(members) do
      local s = tonumber(string.match(m, '^(%d+):'))
      if s >= from then
        local rest = metric .. ':' .. p .. ':' .. m
        local h = {}
        if hourly then h = redis.call('HGETALL', prefix .. ':hslice:' .. rest) end
        if #h == 0 then h = redis.call('HGETALL', prefix .. ':slice:' .. rest) end
        if pat ~= '' then
          local kept = {}
          for j = 1, #h, 2 do
            if string.find(h[j], pat) then
              kept[#kept + 1] = h[j]
              kept[#kept + 1] = h[j + 1]
            end
          end
          h = kept
        end
        if #h > 0 then list[#list + 1] = {tostring(s), h} end
      end
    end
  end
  out[p + 1] = list
end
local at = redis.call('HGET', KEYS[3], 'appliedAt') or ''
return {offsets, floors, at, out}
`;

/**
 * KEYS: floor hash. ARGV: prefix, partition, slice, limit.
 * Raises the partition's floor to `slice` (a reader that sees it knows what is below is gone),
 * then deletes up to `limit` of the slice hashes below it with their index entries; returns how
 * many it deleted (the caller repeats while that equals the limit, so no call blocks for long).
 */
export const PRUNE_LUA = `
local prefix, p, slice, limit = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local floor = tonumber(redis.call('HGET', KEYS[1], p) or '0')
if slice > floor then redis.call('HSET', KEYS[1], p, tostring(slice)) end
local sk = prefix .. ':slices:' .. p
local members = redis.call('ZRANGEBYSCORE', sk, '-inf', '(' .. slice, 'LIMIT', 0, limit)
for _, m in ipairs(members) do
  local metric, rest = string.match(m, '^([^:]+):(.+)$')
  redis.call('DEL', prefix .. ':slice:' .. metric .. ':' .. p .. ':' .. rest, prefix .. ':hslice:' .. metric .. ':' .. p .. ':' .. rest)
  redis.call('ZREM', prefix .. ':hours:' .. metric .. ':' .. p, rest)
  redis.call('ZREM', sk, m)
end
return #members
`;
