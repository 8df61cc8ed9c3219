-- (d) Today's dashboard numbers (GET /api/v1/stats/dashboard) as a leader,
-- while report ingest runs.
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
