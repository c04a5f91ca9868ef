-- Record how an attempt of a claimed webhook delivery ended, if it is still
-- sending under that attempt (a lapsed claim taken by another server is not
-- this caller's any more). Pending: due again at next_at; delivered or
-- failed: finished, and the finished ones beyond the newest `keep` go.
-- KEYS: the hook's deliveries (hash), due (zset), newest (zset event id ->
--   number), done (zset event id -> number), last (hash hook -> JSON).
-- ARGV: hook, event id, attempt, status, at, next_at, status code ('' none),
--   '1' when there is an error, the error, keep.
-- Returns 1 when recorded, 0 when not.
local json = redis.call('HGET', KEYS[1], ARGV[2])
if not json then return 0 end
local d = cjson.decode(json)
if d.status ~= 'sending' or d.attempts ~= tonumber(ARGV[3]) then return 0 end
d.status = ARGV[4]
if ARGV[7] ~= '' then d.status_code = tonumber(ARGV[7]) else d.status_code = nil end
if ARGV[8] == '1' then d.error = ARGV[9] else d.error = nil end
if d.status == 'pending' then
  d.next_at = tonumber(ARGV[6])
  redis.call('ZADD', KEYS[2], ARGV[6], ARGV[2])
else
  d.next_at = nil
  d.finished_at = tonumber(ARGV[5])
  redis.call('ZREM', KEYS[2], ARGV[2])
  redis.call('ZADD', KEYS[4], redis.call('ZSCORE', KEYS[3], ARGV[2]) or 0, ARGV[2])
end
json = cjson.encode(d)
redis.call('HSET', KEYS[1], ARGV[2], json)
redis.call('HSET', KEYS[5], ARGV[1], json)
local keep = tonumber(ARGV[10])
local n = redis.call('ZCARD', KEYS[4])
if n > keep then
  local old = redis.call('ZRANGE', KEYS[4], 0, n - keep - 1)
  redis.call('ZREM', KEYS[4], unpack(old))
  redis.call('ZREM', KEYS[3], unpack(old))
  redis.call('HDEL', KEYS[1], unpack(old))
end
return 1
