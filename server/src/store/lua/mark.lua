-- Sets a throttle mark unless one is set, and says how long the existing one has left.
-- KEYS[1]  the mark, payonce:throttle:{user}:fingerprint
-- ARGV[1]  the caller's token
-- ARGV[2]  the window, in milliseconds
-- Returns -1 set (the caller may proceed) | the milliseconds left on the existing mark.
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return -1
end
local left = redis.call('PTTL', KEYS[1])
if left < 1 then
  left = 1
end
return left
