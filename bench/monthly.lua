-- (d) The monthly report (月专报) for all departments, as JSON, while
-- report ingest runs. The path (with ?month=) comes from run.sh.
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
