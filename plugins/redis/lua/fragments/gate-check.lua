-- Is the queue (hash `queueAttributes`) or, when `checkWorker` is '1', the
-- worker (hash `workerAttributes`) disabled? 'queue', 'worker' or ''.
local function blockedBy(queueAttributes, workerAttributes, checkWorker)
  if redis.call('HGET', queueAttributes, 'disabled') == 'true' then return 'queue' end
  if checkWorker == '1' and redis.call('HGET', workerAttributes, 'disabled') == 'true' then return 'worker' end
  return ''
end
