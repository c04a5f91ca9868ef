-- Byte order of two strings (Lua's own comparison follows the locale), as
-- sorted sets order members of one score and byte-order.ts compares them.
local function less(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
