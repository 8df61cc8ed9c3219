-- (b) Staff traffic from many users of different roles and scopes (tokens
-- issued by run.sh, one line per user: "token role dept_id scope"):
--   70% queue pages (GET /api/v1/orders?queue=… for the user's queue),
--   20% order details (GET /api/v1/orders/{id}) of orders in the user's
--       scope ("scope id" lines: d<dept>, g<grid> or all),
--   10% state actions (POST /api/v1/orders/{id}/sign on dispatched orders
--       of the handler's department; a 409 "already signed" is a correct
--       answer to a stale click and is counted under 4xx, not as an error).
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
local users = {}
for _, l in ipairs(bench_lines(os.getenv("BENCH_USERS"))) do
  local tok, role, dept, scope = l:match("(%S+) (%S+) (%S+) (%S+)")
  table.insert(users, { h = { ["Authorization"] = "Bearer " .. tok }, role = role, dept = dept,
                        scope = scope })
end
-- The "a b" lines of a file grouped into lists: key → values (the key is
-- the first field, or the second when key_second).
local function grouped(path, key_second)
  local t = {}
  for _, l in ipairs(bench_lines(path)) do
    local k, v = l:match("(%S+) (%S+)")
    if key_second then k, v = v, k end
    t[k] = t[k] or {}
    table.insert(t[k], v)
  end
  return t
end
local ids = grouped(os.getenv("BENCH_ORDER_IDS"))             -- scope → order ids
local signable = grouped(os.getenv("BENCH_SIGNABLE"), true)   -- dept → dispatched ids
local queues = { dispatcher = "dispatch", department_handler = "department",
                 grid_worker = "grid", leader = "all" }
local json_h = { ["Content-Type"] = "application/json" }
function request()
  local u = bench_pick(users)
  local r = math.random(100)
  if r <= 70 then
    return wrk.format("GET", "/api/v1/orders?queue=" .. (queues[u.role] or "all") .. "&limit=20",
                      u.h)
  elseif r <= 90 or u.role ~= "department_handler" or not signable[u.dept] then
    return wrk.format("GET", "/api/v1/orders/" .. bench_pick(ids[u.scope] or ids["all"]), u.h)
  else
    local h = { ["Authorization"] = u.h["Authorization"], ["Content-Type"] = "application/json" }
    return wrk.format("POST", "/api/v1/orders/" .. bench_pick(signable[u.dept]) .. "/sign", h,
                      '{"note":"已签收"}')
  end
end
