-- bench/lib.lua — shared by every wrk script of `make bench` (loaded with
-- dofile from the script). Gives each wrk thread a number (for unique
-- idempotency keys and bodies), reads helper files written by run.sh, and
-- prints the run's figures as one JSON line that run.sh picks up:
--   BENCH_RESULT {"requests":…, "duration_s":…, "p50_ms":…, …}

local threads = {}
local next_thread = 0

function setup(thread)
  next_thread = next_thread + 1
  thread:set("thread_no", next_thread)
  table.insert(threads, thread)
end

-- Lines of a file written by run.sh (tokens, points, codes), or {}.
function bench_lines(path)
  local t = {}
  if not path then return t end
  local f = io.open(path, "r")
  if not f then return t end
  for line in f:lines() do
    if #line > 0 then table.insert(t, line) end
  end
  f:close()
  return t
end

function bench_pick(list)
  return list[math.random(1, #list)]
end

-- A unique string per request across threads and runs.
bench_seq = 0
function bench_unique()
  bench_seq = bench_seq + 1
  return string.format("%s-%d-%d", os.getenv("BENCH_RUN_ID") or "r", thread_no or 0, bench_seq)
end

-- Counts responses by class in each thread (wrk only counts non-2xx/3xx).
status_4xx, status_5xx = 0, 0
function response(status, headers, body)
  if status >= 500 then status_5xx = status_5xx + 1
  elseif status >= 400 then status_4xx = status_4xx + 1 end
  if bench_on_response then bench_on_response(status, headers, body) end
end

function done(summary, latency, requests)
  local s4, s5 = 0, 0
  for _, t in ipairs(threads) do
    s4 = s4 + (tonumber(t:get("status_4xx")) or 0)
    s5 = s5 + (tonumber(t:get("status_5xx")) or 0)
  end
  local e = summary.errors
  local dur = summary.duration / 1e6
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_s":%.3f,"rps":%.1f,' ..
    '"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"mean_ms":%.3f,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d,"4xx":%d,"5xx":%d}}\n',
    summary.requests, dur, summary.requests / dur,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000,
    e.connect, e.read, e.write, e.timeout, e.status, s4, s5))
end
