-- GET /healthz: one pooled read connection and one tiny query per request.
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
wrk.method = "GET"
wrk.path = "/healthz"
