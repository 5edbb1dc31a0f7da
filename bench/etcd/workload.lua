-- wrk workloads against etcd's v3 JSON gateway, chosen by WORKLOAD=put|get:
-- put: distinct keys, 100-byte values; get: linearizable range reads of 1000 existing keys.
local chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
local function b64(data)
  return ((data:gsub('.', function(x)
    local r, byte = '', x:byte()
    for i = 8, 1, -1 do r = r .. (byte % 2 ^ i - byte % 2 ^ (i - 1) > 0 and '1' or '0') end
    return r
  end) .. '0000'):gsub('%d%d%d?%d?%d?%d?', function(x)
    if #x < 6 then return '' end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == '1' and 2 ^ (6 - i) or 0) end
    return chars:sub(c + 1, c + 1)
  end) .. ({ '', '==', '=' })[#data % 3 + 1])
end

local mode = os.getenv("WORKLOAD") or "put"
local headers = { ["Content-Type"] = "application/json" }
local value = b64(string.rep("v", 100))
local keys = {}
for i = 0, 999 do keys[i] = b64("bench/read/" .. i) end
local counter = 0

request = function()
  counter = counter + 1
  if mode == "get" then
    return wrk.format("POST", "/v3/kv/range", headers, '{"key":"' .. keys[counter % 1000] .. '"}')
  end
  local key = b64("bench/put/" .. math.random(1, 1e9) .. "-" .. counter)
  return wrk.format("POST", "/v3/kv/put", headers, '{"key":"' .. key .. '","value":"' .. value .. '"}')
end
