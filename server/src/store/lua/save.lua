-- Stores a finished response, only while the caller's token owns the running record (fencing).
-- KEYS[1]  the record, payonce:idem:{user:key}
-- ARGV[1]  the caller's fencing token
-- ARGV[2]  status code
-- ARGV[3]  meta: JSON of the replayable headers and the body-omitted flag
-- ARGV[4]  body
-- ARGV[5]  how long to keep it, in milliseconds
-- Returns 1 saved | 0 refused (the record is gone, finished, or owned by another token).
local record = redis.call('HMGET', KEYS[1], 'state', 'token')
if record[1] ~= 'running' or record[2] ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'state', 'done', 'status', ARGV[2], 'meta', ARGV[3], 'body', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
