-- (c) Public tracking: GET /api/v1/track/{code} for random existing codes,
-- anonymous (no Authorization), as a resident's phone would.
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
local codes = bench_lines(os.getenv("BENCH_CODES"))
function request()
  return wrk.format("GET", "/api/v1/track/" .. bench_pick(codes))
end
