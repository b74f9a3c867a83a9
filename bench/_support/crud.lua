-- wrk script for bench/crud.py: `wrk -s crud.lua URL -- <op> <plan.lua>`; each request is made as one of
-- the people of the plan (their token, their rows), round robin. Prints "CODES {json}" at the end.
local op, n = "list", 0
people = {}
local statuses = {"todo", "in_progress", "done"}
codes = {}

function init(args)
  op = args[1]
  dofile(args[2])
end

function request()
  n = n + 1
  local person = people[(n % #people) + 1]
  local headers = {["Authorization"] = "Bearer " .. person.token, ["Content-Type"] = "application/json"}
  local id = person.ids[(math.floor(n / #people) % #person.ids) + 1]
  if op == "list" then
    return wrk.format("GET", "/api/tasks/tasks?limit=20", headers)
  elseif op == "get" then
    return wrk.format("GET", "/api/tasks/tasks/" .. id, headers)
  elseif op == "update" then
    local body = '{"status":"' .. statuses[(n % 3) + 1] .. '"}'
    return wrk.format("POST", "/api/tasks/tasks/" .. id .. "/move", headers, body)
  else
    return wrk.format("POST", "/api/tasks/tasks", headers, '{"title":"bench ' .. n .. '"}')
  end
end

function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local c = thread:get("codes")
    for k, v in pairs(c) do total[k] = (total[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(total) do table.insert(parts, '"' .. k .. '":' .. v) end
  io.write("CODES {" .. table.concat(parts, ",") .. "}\n")
end
