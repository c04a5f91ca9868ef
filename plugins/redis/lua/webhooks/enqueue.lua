-- A webhook's cursor moves and its new deliveries are created, if the
-- cursor is still where the caller read it (another server may have moved
-- it first: then nothing changes). A delivery whose event the hook has
-- already is left as it is.
-- KEYS: cursors (hash hook -> event id), counters (hash hook -> last
--   delivery number), the hook's deliveries (hash event id -> JSON), its due
--   set (zset event id -> next_at), its newest set (zset event id -> number).
-- ARGV: hook, '1' when a cursor is expected ('0': the hook has none yet),
--   the expected cursor, the new cursor, now, then event id and JSON of each
--   delivery (status pending, due now).
-- Returns 1 when done, 0 when the cursor had moved.
local hook = ARGV[1]
local current = redis.call('HGET', KEYS[1], hook)
if ARGV[2] == '1' then
  if current ~= ARGV[3] then return 0 end
elseif current then
  return 0
end
for i = 6, #ARGV, 2 do
  if redis.call('HSETNX', KEYS[3], ARGV[i], ARGV[i + 1]) == 1 then
    local n = redis.call('HINCRBY', KEYS[2], hook, 1)
    redis.call('ZADD', KEYS[4], ARGV[5], ARGV[i])
    redis.call('ZADD', KEYS[5], n, ARGV[i])
  end
end
redis.call('HSET', KEYS[1], hook, ARGV[4])
return 1
