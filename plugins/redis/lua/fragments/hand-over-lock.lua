-- Pass the BullMQ lock (key `lockKey`) from the lease holder (`holderToken`)
-- to `moveToken`, for `ms` ms, when it is missing or still the holder's.
-- Returns `moveToken`, or '' when someone else holds the lock (the job is
-- theirs then, not to be moved).
local function handOverLock(lockKey, holderToken, moveToken, ms)
  local lock = redis.call('GET', lockKey)
  if not lock or lock == holderToken then
    redis.call('SET', lockKey, moveToken, 'PX', ms)
    return moveToken
  end
  return ''
end
