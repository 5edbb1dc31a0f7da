-- wrk workloads against paxos-kv's HTTP API, chosen by WORKLOAD=put|get|stale-get|mix (the same
-- as bench/workloads.ts): distinct keys (KEYS=random|sequential) with 100-byte values; reads of 1000 existing keys;
-- mix is 9 linearizable GETs then 1 PUT. done() prints one JSON line for bench/wrk.ts.
local mode = os.getenv("WORKLOAD") or "put"
local readKeys = 1000
local value = string.rep("v", 100)
local counter = 0
local thread_id = 0
local threads = {}

setup = function(thread)
  thread_id = thread_id + 1
  thread:set("id", thread_id)
  table.insert(threads, thread)
end

local keys = os.getenv("KEYS") or "random"

local function put()
  local key
  if keys == "sequential" then key = string.format("%d-%012d", id or 0, counter)
  else key = math.random(1, 1e9) .. "-" .. (id or 0) .. "-" .. counter end
  return wrk.format("PUT", "/v1/kv/bench/put/" .. key, nil, value)
end

local function get(query)
  return wrk.format("GET", "/v1/kv/bench/read/" .. (counter % readKeys) .. query)
end

request = function()
  counter = counter + 1
  if mode == "get" then return get("") end
  if mode == "stale-get" then return get("?consistency=stale") end
  if mode == "mix" then
    if counter % 10 == 0 then return put() end
    return get("")
  end
  return put()
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"durationUs":%d,"non2xx":%d,"socketErrors":%d,"p50Us":%d,"p99Us":%d,"p999Us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
