/**
 * The blocks whose hour cells a read at grain hour takes in place of their slices: `size` slices
 * each (aligned), their cells kept in one hash per `hours` hours of event time (a block of a
 * long backlog spans many hours: one hash per day keeps a day's question at one or two of them).
 */
export const BLOCK_LEVELS = [
  { size: 4, hours: 1 },
  { size: 16, hours: 1 },
  { size: 64, hours: 24 },
  { size: 256, hours: 24 },
] as const;
const LUA_LEVELS = `local sizes, spans = {${BLOCK_LEVELS.map((l) => l.size).join(', ')}}, {${BLOCK_LEVELS.map((l) => l.hours).join(', ')}}`;

/**
 * Key layout (all under the deployment's `{prefix}` hash tag):
 *   slice:<metric>:<p>:<slice>:<hour>   hash of minute cells (field `bucket␟dims…␟cell`)
 *   hslice:<metric>:<p>:<slice>:<hour>  the same cells summed up to the hour (bucket = the hour's start)
 *   blk:<metric>:<p>:<size>:<block>:<t> the hour cells of slices block·size … block·size+size−1 whose
 *                                       hour div the level's `hours` is t (BLOCK_LEVELS)
 *   hours:<metric>:<p>                  zset, member `<slice>:<hour>`, score hour — the range index
 *   bhours:<metric>:<p>:<size>:<block>  zset of the block's t (member and score)
 *   slices:<p>                          zset, member `<metric>:<slice>:<hour>` (score slice) or
 *                                       `<metric>:<size>:<block>:<t>` (score its last slice) — for pruning
 *   hfrom                               hash, partition → first slice whose every apply wrote hour
 *                                       cells (a store written before hour cells were kept has
 *                                       minutes only below it)
 */

/**
 * KEYS: speed_offset hash, meta hash, deltas stream.
 * ARGV: partition, from, to, initIfMissing, appliedAt, delta ('' = none), maxDeltas, prefix,
 *       initFloor, slice of `from`, n, k, m, then n × (slice key, field, op s|m|M, value), then
 *       k × (metric, slice, hour) — the slice hours this batch touches, added to the indexes —
 *       then m × (touched index 1..k, hour field, op, value): the batch's cells summed up to their
 *       hour, added to the slice hour's hslice hash and to its blocks.
 * An apply that starts the partition raises its floor to initFloor (the slices below were never
 * applied here). Compare-and-set on the partition's speed offset makes re-applying harmless and
 * refuses gaps. Values stay strings end to end so Lua's doubles never round an integer.
 * Hour cells are complete from the partition's `hfrom` slice on: set by its first apply here, to
 * initFloor on a fresh partition, or to the slice after `from`'s on a partition a previous script
 * (minutes only) applied to. Below it only minutes are written and read.
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
local hf = redis.call('HGET', prefix .. ':hfrom', p)
if hf == false then
  if cur == false then hf = ARGV[9] else hf = tostring(tonumber(ARGV[10]) + 1) end
  redis.call('HSET', prefix .. ':hfrom', p, hf)
end
hf = tonumber(hf)
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
${LUA_LEVELS}
local n, k, m = tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13])
local i = 14
for _ = 1, n do
  put(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3])
  i = i + 4
end
local hourKeys = {}
local sk = prefix .. ':slices:' .. p
for j = 1, k do
  local metric, slice, hour = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  redis.call('ZADD', prefix .. ':hours:' .. metric .. ':' .. p, hour, slice .. ':' .. hour)
  redis.call('ZADD', sk, slice, metric .. ':' .. slice .. ':' .. hour)
  local s = tonumber(slice)
  if s >= hf then
    local keys = {prefix .. ':hslice:' .. metric .. ':' .. p .. ':' .. slice .. ':' .. hour}
    for li, size in ipairs(sizes) do
      local q = math.floor(s / size)
      local t = math.floor(tonumber(hour) / spans[li])
      local b = string.format('%d:%d', q, t)
      redis.call('ZADD', prefix .. ':bhours:' .. metric .. ':' .. p .. ':' .. size .. ':' .. q, t, t)
      redis.call('ZADD', sk, q * size + size - 1, metric .. ':' .. size .. ':' .. b)
      keys[#keys + 1] = prefix .. ':blk:' .. metric .. ':' .. p .. ':' .. size .. ':' .. b
    end
    hourKeys[j] = keys
  else
    hourKeys[j] = false
  end
  i = i + 3
end
for _ = 1, m do
  local keys = hourKeys[tonumber(ARGV[i])]
  if keys then
    for _, key in ipairs(keys) do put(key, ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]) end
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
 * KEYS: speed_offset hash, floor hash, meta hash. ARGV: prefix, metric, P, first hour, last hour
 * (inclusive; '-inf'/'+inf' = all), a Lua pattern the cell fields must match ('' = all; built by
 * metrics/cell-key.ts `cellFieldLuaPattern`), grain, slice size, the same test as a glob for
 * HSCAN MATCH (`cellFieldGlob`, '' = all), fromSlice × P.
 * Returns {offsets[], floors[], appliedAt, per partition {{first slice, last slice, {field,
 * value, …}}, …}} — read in one atomic step so the slices agree with the offsets returned. It
 * visits only the hashes the hour indexes list in the range: its cost follows the question.
 * At grain 'minute' every entry is one slice hour's minutes. At grain 'hour', slices from
 * fromSlice up are covered by (a) single slices up to the first multiple of the smallest block
 * size (found by slice number), then (b) blocks of each size up to the first multiple of the next
 * size, then (c) blocks of the largest size (BLOCK_LEVELS): at most 3 hashes per level and hour
 * (or day, for the day-wide levels) plus one per 256 slices, however long the backlog. Cells of
 * a day-wide hash outside the range's hours are left out here.
 * Below the partition's `hfrom` only minutes exist: those slices are read as minutes.
 */
export const READ_LUA = `
local prefix, metric, P, h0, h1, pat = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5], ARGV[6]
local hourly, sliceSize, glob = ARGV[7] == 'hour', tonumber(ARGV[8]), ARGV[9]
${LUA_LEVELS}
local offsets, floors, out = {}, {}, {}
-- The range's first and last hour as numbers, and in ms [loMs, hiMs) for cells of hashes that
-- span more hours than it.
local hLo, hHi = -math.huge, math.huge
if h0 ~= '-inf' then hLo = tonumber(h0) end
if h1 ~= '+inf' then hHi = tonumber(h1) end
local loMs, hiMs = hLo * 3600000, (hHi + 1) * 3600000
local function cells(key, span, t)
  local h
  if glob == '' then
    h = redis.call('HGETALL', key)
  else
    -- Matched in C: only the question's dimension values reach Lua (a day-wide block holds every
    -- station's cells). One pass over a hash no write changes meanwhile; repeats dropped anyway.
    h = {}
    local seen, cur = {}, '0'
    repeat
      local r = redis.call('HSCAN', key, cur, 'MATCH', glob, 'COUNT', 1000)
      cur = r[1]
      local kv = r[2]
      for j = 1, #kv, 2 do
        if not seen[kv[j]] then
          seen[kv[j]] = true
          h[#h + 1] = kv[j]
          h[#h + 1] = kv[j + 1]
        end
      end
    until cur == '0'
  end
  -- Only a hash whose hours reach outside the range needs its cells' buckets checked.
  local ranged = span > 1 and (t * span < hLo or t * span + span - 1 > hHi)
  if pat == '' and not ranged then return h end
  local kept = {}
  for j = 1, #h, 2 do
    local f = h[j]
    local ok = pat == '' or string.find(f, pat)
    if ok and ranged then
      local b = tonumber(string.match(f, '^(%d+)'))
      ok = b == nil or (b >= loMs and b < hiMs)
    end
    if ok then
      kept[#kept + 1] = f
      kept[#kept + 1] = h[j + 1]
    end
  end
  return kept
end
local function tOf(v, span)
  if v == -math.huge or v == math.huge then return v end
  return math.floor(v / span)
end
for p = 0, P - 1 do
  local o = redis.call('HGET', KEYS[1], tostring(p))
  local f = redis.call('HGET', KEYS[2], tostring(p))
  offsets[p + 1] = o or ''
  floors[p + 1] = f or ''
  local list = {}
  local function add(first, last, h)
    if #h > 0 then list[#list + 1] = {string.format('%d', first), string.format('%d', last), h} end
  end
  if o then
    local from = tonumber(ARGV[10 + p])
    local base = metric .. ':' .. p .. ':'
    -- Single slices read up to 'upto'; with hour cells, blocks from there on.
    local upto, hf = math.huge, math.huge
    if hourly then
      local v = redis.call('HGET', prefix .. ':hfrom', tostring(p))
      if v then hf = tonumber(v) end
      upto = math.max(from, hf)
      if upto < math.huge then upto = math.ceil(upto / sizes[1]) * sizes[1] end
    end
    if upto == math.huge then
      for _, m in ipairs(redis.call('ZRANGEBYSCORE', prefix .. ':hours:' .. metric .. ':' .. p, h0, h1)) do
        local s = tonumber(string.match(m, '^(%d+):'))
        if s >= from then add(s, s, cells(prefix .. ':slice:' .. base .. m, 1, 0)) end
      end
    else
      -- The few single slices below the first block, found by slice number in the pruning index
      -- (members '<metric>:<slice>:<hour>'; a block's '<metric>:<size>:<block>:<t>' does not match),
      -- not by walking every slice hour of the range.
      for _, m in ipairs(redis.call('ZRANGEBYSCORE', prefix .. ':slices:' .. p, from, upto - 1)) do
        local mm, sl, hr = string.match(m, '^([^:]+):(%d+):(%d+)$')
        if mm == metric and tonumber(hr) >= hLo and tonumber(hr) <= hHi then
          local s, rest = tonumber(sl), sl .. ':' .. hr
          if s >= hf then add(s, s, cells(prefix .. ':hslice:' .. base .. rest, 1, 0))
          else add(s, s, cells(prefix .. ':slice:' .. base .. rest, 1, 0)) end
        end
      end
    end
    if upto < math.huge then
      local top = math.floor((tonumber(o) - 1) / sliceSize)
      local lo = upto
      for li, size in ipairs(sizes) do
        local hi = math.huge
        if sizes[li + 1] then hi = math.max(lo, math.ceil(lo / sizes[li + 1]) * sizes[li + 1]) end
        if hi > lo then
          -- Blocks by number, from lo up to the one holding the newest slice applied.
          local q, span = lo / size, spans[li]
          local t0, t1 = tOf(hLo, span), tOf(hHi, span)
          while q * size < hi and q * size <= top do
            local at = base .. size .. ':' .. string.format('%d', q)
            for _, t in ipairs(redis.call('ZRANGEBYSCORE', prefix .. ':bhours:' .. at, t0, t1)) do
              add(q * size, q * size + size - 1, cells(prefix .. ':blk:' .. at .. ':' .. t, span, tonumber(t)))
            end
            q = q + 1
          end
        end
        lo = hi
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
 * then deletes up to `limit` of the slice (and whole block) hashes below it with their index
 * entries; returns how many it deleted (the caller repeats while that equals the limit, so no call
 * blocks for long).
 */
export const PRUNE_LUA = `
local prefix, p, slice, limit = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local floor = tonumber(redis.call('HGET', KEYS[1], p) or '0')
if slice > floor then redis.call('HSET', KEYS[1], p, tostring(slice)) end
local sk = prefix .. ':slices:' .. p
local members = redis.call('ZRANGEBYSCORE', sk, '-inf', '(' .. slice, 'LIMIT', 0, limit)
for _, m in ipairs(members) do
  local metric, rest = string.match(m, '^([^:]+):(.+)$')
  local base = metric .. ':' .. p .. ':'
  local block, hour = string.match(rest, '^(%d+:%d+):(%d+)$')
  if block then
    redis.call('DEL', prefix .. ':blk:' .. base .. rest)
    redis.call('ZREM', prefix .. ':bhours:' .. base .. block, hour)
  else
    redis.call('DEL', prefix .. ':slice:' .. base .. rest, prefix .. ':hslice:' .. base .. rest)
    redis.call('ZREM', prefix .. ':hours:' .. metric .. ':' .. p, rest)
  end
  redis.call('ZREM', sk, m)
end
return #members
`;
