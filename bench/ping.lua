-- HTTP ceiling: GET /api/v1/ping, a route that does no work.
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
wrk.method = "GET"
wrk.path = "/api/v1/ping"
