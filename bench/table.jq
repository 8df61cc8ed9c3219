# bench/table.jq — the one table `make bench` prints from results/latest.json.
def pad($n): tostring | if length >= $n then . else . + (" " * ($n - length)) end;
def lpad($n): tostring | if length >= $n then . else (" " * ($n - length)) + . end;
def num: if . == null then "-" elif type == "number" then (if . >= 100 then round else (. * 100 | round / 100) end) else . end;
def errs: if .errors == null then "-" else (.errors | .connect + .read + .write + .timeout + .status) end;
"whistle bench \(.run_at) — \(.machine.nproc) cores \(.machine.cpu), \(.machine.memory), kernel \(.machine.kernel), \(.machine.whistle) @ \(.machine.commit), load average \(.machine.load_before) before",
"ceilings: HTTP \(.ceilings.http_rps | num) req/s (GET /api/v1/ping); storage \(.ceilings.storage_reports_per_s | num) reports/s (the report write path in-process: WAL, synchronous=FULL, group commit, no HTTP)",
"",
("workload" | pad(24)) + ("data" | pad(7)) + ("conns" | lpad(6)) + ("req/s" | lpad(9)) + ("p50 ms" | lpad(9)) + ("p99 ms" | lpad(9)) + ("errors" | lpad(8)) + ("CPU %" | lpad(7)) + ("RSS MB" | lpad(8)) + ("÷HTTP" | lpad(7)) + ("÷store" | lpad(8)),
(.rows[] |
  if .available | not then (.workload | pad(24)) + "not available yet: " + .reason
  elif .workload == "storage_ceiling" then
    (.workload | pad(24)) + ((.dataset // "-") | pad(7)) + (.threads | num | lpad(6)) + ((.ceiling_reports_per_s | num) | lpad(9)) + (.p50_ms | num | lpad(9)) + (.p99_ms | num | lpad(9)) + (.errors | num | lpad(8)) + ("  reports/s in-process (order_report, \(.threads) threads), \(.jobs_per_batch | num) jobs per group commit, writer busy \(.writer_busy_pct | num)%")
  elif .requests == 0 then
    (.workload | pad(24)) + ((.dataset // "-") | pad(7)) + (.connections | num | lpad(6)) + "   no request completed within \(.duration_s | num) s (wrk --timeout 10 s)"
  elif .ns_per_point != null then
    (.workload | pad(24)) + ("-" | pad(7)) + ("-" | lpad(6)) + ((1e9 / .ns_per_point | num) | lpad(9)) + ("   \(.ns_per_point | num) ns per point" + (if .ns_per_point_in_report != null then ", \(.ns_per_point_in_report | num) ns in a report (caches cold)" else "" end))
  elif .people_per_s != null then
    (.workload | pad(24)) + ("-" | pad(7)) + ("-" | lpad(6)) + ((.people_per_s | num) | lpad(9)) + "   people/s, \(.people) people in \(.seconds | num) s, peak RSS \(.peak_rss_mb | num) MB"
  else
    (.workload | pad(24)) + ((.dataset // "-") | pad(7)) + (.connections | num | lpad(6)) + (.rps | num | lpad(9)) + (.p50_ms | num | lpad(9)) + (.p99_ms | num | lpad(9)) + (errs | lpad(8)) + (.server_cpu_pct | num | lpad(7)) + (.peak_rss_mb | num | lpad(8)) + (.ratio_http | num | lpad(7)) + (.ratio_storage | num | lpad(8))
  end),
"",
"targets (issue 8):",
(.targets[] | "  " + (if .met == true then "MET    " elif .met == false then "NOT MET" else "n/a    " end) + "  " + (.workload | pad(24)) + (.target | pad(44)) + "  " + (.value | num | tostring))
