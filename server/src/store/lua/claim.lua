-- Claims an idempotency key, or reports what holds it, in one atomic step.
-- KEYS[1]  the record, payonce:idem:{user:key}
-- ARGV[1]  the request's fingerprint
-- ARGV[2]  the caller's fencing token
-- ARGV[3]  the lease, in milliseconds
-- Returns {0} claimed | {1, lease_left_ms} in flight | {2} fingerprint mismatch
--       | {3, status, meta, body} finished: replay it.
local record = redis.call('HMGET', KEYS[1], 'state', 'fp', 'status', 'meta', 'body')
if not record[1] then
  redis.call('HSET', KEYS[1], 'state', 'running', 'fp', ARGV[1], 'token', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {0}
end
if record[2] ~= ARGV[1] then
  return {2}
end
if record[1] == 'running' then
  return {1, redis.call('PTTL', KEYS[1])}
end
return {3, record[3], record[4], record[5]}
