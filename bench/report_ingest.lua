-- (a) Report ingest: POST /api/v1/reports with a location inside the demo
-- county (so locate, auto-dispatch from the catalogue, deadlines, timeline,
-- outbox and audit all happen), a catalogue category that names a
-- department, and a unique idempotency key and text per request. Answered
-- only after the group commit is durable.
dofile(os.getenv("BENCH_DIR") .. "/lib.lua")
local points = bench_lines(os.getenv("BENCH_POINTS"))
local cats = bench_lines(os.getenv("BENCH_CATEGORIES"))
local headers = { ["Content-Type"] = "application/json",
                  ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN") }
local texts = { "小区东门外人行道井盖缺失，晚上很危险，请尽快处理。",
                "楼道里有电动车飞线充电，存在火灾隐患。",
                "幸福路与建设路交叉口路灯不亮已经三天了。",
                "菜市场门口垃圾堆放没人清理，气味很大。",
                "楼上住户深夜装修噪音扰民，多次沟通无果。" }
function request()
  local p = bench_pick(points)
  local lat, lng = p:match("([^,]+),([^,]+)")
  -- a few metres of jitter so that not every report sits on the same point
  lat = tonumber(lat) + (math.random() - 0.5) * 0.0004
  lng = tonumber(lng) + (math.random() - 0.5) * 0.0004
  local key = bench_unique()
  local cat = #cats > 0 and (',"category_code":"' .. bench_pick(cats) .. '"') or ""
  local body = string.format(
    '{"description":"%s (%s)","lat":%.6f,"lng":%.6f,"address":"城关镇幸福路 %d 号",' ..
    '"channel":"grid_app","idempotency_key":"%s"%s}',
    bench_pick(texts), key, lat, lng, math.random(1, 300), key, cat)
  return wrk.format("POST", "/api/v1/reports", headers, body)
end
