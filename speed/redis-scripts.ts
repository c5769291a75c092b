/**
 * KEYS: speed_offset hash, meta hash, deltas stream.
 * ARGV: partition, from, to, initIfMissing, appliedAt, delta ('' = none), maxDeltas, n,
 *       then n × (slice key, field, op s|m|M, value).
 * Compare-and-set on the partition's speed offset makes re-applying harmless and refuses gaps.
 * Values stay strings end to end so Lua's doubles never round an integer.
 */
export const APPLY_LUA = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur == false then
  if ARGV[4] ~= '1' then return {0, ''} end
elseif tonumber(cur) ~= tonumber(ARGV[2]) then
  return {0, cur}
end
local n = tonumber(ARGV[8])
local i = 9
for _ = 1, n do
  local key, field, op, v = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  if op == 's' then
    redis.call('HINCRBY', key, field, v)
  else
    local old = redis.call('HGET', key, field)
    if old == false or (op == 'm' and tonumber(v) < tonumber(old)) or (op == 'M' and tonumber(v) > tonumber(old)) then
      redis.call('HSET', key, field, v)
    end
  end
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
 * KEYS: speed_offset hash, floor hash, meta hash. ARGV: prefix, metric, slice size, P, fromSlice × P.
 * Returns {offsets[], floors[], appliedAt, per partition {{slice, {field, value, …}}, …}} — read in
 * one atomic step so the slices agree with the offsets returned.
 */
export const READ_LUA = `
local prefix, metric, size, P = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local offsets, floors, out = {}, {}, {}
for p = 0, P - 1 do
  local o = redis.call('HGET', KEYS[1], tostring(p))
  local f = redis.call('HGET', KEYS[2], tostring(p))
  offsets[p + 1] = o or ''
  floors[p + 1] = f or ''
  local list = {}
  if o then
    local last = math.floor((tonumber(o) - 1) / size)
    for s = tonumber(ARGV[5 + p]), last do
      local h = redis.call('HGETALL', prefix .. ':slice:' .. metric .. ':' .. p .. ':' .. s)
      if #h > 0 then list[#list + 1] = {tostring(s), h} end
    end
  end
  out[p + 1] = list
end
local at = redis.call('HGET', KEYS[3], 'appliedAt') or ''
return {offsets, floors, at, out}
`;
