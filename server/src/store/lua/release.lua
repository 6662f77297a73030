-- Frees a running claim, only while the caller's token owns it; a finished record is never released.
-- KEYS[1]  the record, payonce:idem:{user:key}
-- ARGV[1]  the caller's fencing token
-- Returns 1 released | 0 refused.
local record = redis.call('HMGET', KEYS[1], 'state', 'token')
if record[1] ~= 'running' or record[2] ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
return 1
