-- Claim a webhook's due deliveries (pending and due, or sending with a lapsed
-- claim), oldest due first: each becomes sending until the lease end, one
-- more attempt, its last attempt now.
-- KEYS: the hook's deliveries (hash event id -> JSON), its due set (zset event id -> next_at).
-- ARGV: now, lease end, most to claim.
-- Returns the claimed deliveries' JSON.
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local json = redis.call('HGET', KEYS[1], id)
  if json then
    local d = cjson.decode(json)
    d.status = 'sending'
    d.attempts = (d.attempts or 0) + 1
    d.next_at = tonumber(ARGV[2])
    d.last_attempt_at = tonumber(ARGV[1])
    json = cjson.encode(d)
    redis.call('HSET', KEYS[1], id, json)
    redis.call('ZADD', KEYS[2], ARGV[2], id)
    out[#out + 1] = json
  else
    redis.call('ZREM', KEYS[2], id)
  end
end
return out
