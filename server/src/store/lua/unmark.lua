-- Removes a throttle mark, only if the caller set it.
-- KEYS[1]  the mark
-- ARGV[1]  the caller's token
-- Returns 1 removed | 0 refused.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
return 1
