-- The scanner lease of one watch rule (redis-watch.ts): one server at a time scans a rule.
-- KEYS[1]: the lease key (string: the owner, with a TTL)
-- ARGV[1]: the owner; ARGV[2]: the lease in ms, or 0 to give it up
-- Returns 1 when ARGV[1] holds the lease afterwards, else 0.
local holder = redis.call('GET', KEYS[1])
if ARGV[2] == '0' then
  if holder == ARGV[1] then redis.call('DEL', KEYS[1]) end
  return 0
end
if (not holder) or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
