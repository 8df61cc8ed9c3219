-- The group-commit write path end to end, before the report API exists:
-- POST /api/v1/departments with a unique code per request as an admin
-- bearer token (auth lookup, JSON parse, validation, one INSERT + one
-- audit row inside store_write, answered after the durable commit).
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
local token = os.getenv("BENCH_TOKEN")
local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }
function request()
  local code = "B" .. bench_unique()
  local body = '{"code":"' .. code .. '","name":"压测部门 ' .. code .. '"}'
  return wrk.format("POST", "/api/v1/departments", headers, body)
end
