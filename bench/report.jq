# bench/report.jq — assembles the rows of one run (jq -s) into the results
# file: ceilings, every figure as a ratio to its ceiling, and the targets of
# issue 8 with met / not met.
def r2: . * 100 | round / 100;
def byname($n): map(select(.workload == $n and .available)) | first;
. as $rows
| ($rows | byname("http_ceiling") | .rps // null) as $http
| ($rows | byname("storage_ceiling")) as $st
| ($st.ceiling_reports_per_s // null) as $store
| ($rows | byname("report_ingest") | .rps // null) as $ingest
| ($rows | map(select(.available)) | map(.peak_rss_mb // empty) | max // null) as $maxrss
| [ $rows[]
    | if .available and .rps != null and $http != null and .workload != "http_ceiling"
      then . + {ratio_http: (.rps / $http | r2)} else . end
    | if .available and (.workload == "report_ingest" or .workload == "ingest_during_reads")
         and $store != null then . + {ratio_storage: (.rps / $store | r2)} else . end ] as $rows2
| def t($name; $target; $ok; $value):
    {workload: $name, target: $target,
     value: $value,
     met: (if $value == null then null else $ok end)};
  ($rows2 | byname("report_ingest")) as $a
| ($rows2 | byname("staff")) as $b
| ($rows2 | byname("track")) as $c
| ($rows2 | byname("dashboard_under_ingest")) as $d
| ($rows2 | byname("ingest_during_reads")) as $di
| ($rows2 | byname("monthly_under_ingest")) as $mr
| ($rows2 | byname("locate_100")) as $l1
| ($rows2 | byname("locate_100000")) as $l2
| ($rows2 | byname("import_people")) as $imp
| {
  run_at: $at, machine: $m, duration_s: $dur, server_rss_at_start_mb: $rss0,
  ceilings: {http_rps: $http, storage_reports_per_s: $store},
  rows: $rows2,
  targets: [
    t("report_ingest"; "≥ 5,000 reports/s"; ($a.rps // 0) >= 5000; $a.rps),
    t("report_ingest"; "p99 ≤ 25 ms"; ($a.p99_ms // 1e9) <= 25; $a.p99_ms),
    t("report_ingest"; "≥ 25% of the HTTP ceiling"; ($a.ratio_http // 0) >= 0.25; $a.ratio_http),
    t("staff"; "≥ 10,000 req/s (city DB)"; ($b.rps // 0) >= 10000 and $b.dataset == "city"; $b.rps),
    t("staff"; "p99 ≤ 15 ms"; ($b.p99_ms // 1e9) <= 15; $b.p99_ms),
    t("track"; "≥ 12,000 req/s"; ($c.rps // 0) >= 12000; $c.rps),
    t("track"; "p99 ≤ 10 ms"; ($c.p99_ms // 1e9) <= 10; $c.p99_ms),
    # (the row's name says it: the report answers while ingest runs)
    t("monthly_under_ingest"; "< 300 ms (city DB, p99)";
      (($mr.requests // 0) > 0) and ($mr.p99_ms // 1e9) < 300 and $mr.dataset == "city";
      (if $mr == null then null elif ($mr.requests // 0) > 0 then $mr.p99_ms else "no answer" end)),
    t("ingest_during_reads"; "ingest keeps ≥ 80% while reports run";
      (($di.rps // 0) / ($a.rps // 1e18)) >= 0.8 and (($d.requests // 0) > 0);
      (if $di == null or $a == null then null else ($di.rps / $a.rps | r2) end)),
    # a workload that completed no request has no latency: never "met"
    t("dashboard_under_ingest"; "< 50 ms (p99)";
      (($d.requests // 0) > 0) and ($d.p99_ms // 1e9) < 50;
      (if $d == null then null elif ($d.requests // 0) > 0 then $d.p99_ms else "no answer" end)),
    t("locate"; "cost per point with 100,000 grids ≤ 2× with 100";
      (($l2.ns_per_point // 1e18) / ($l1.ns_per_point // 1)) <= 2;
      (if $l1 == null or $l2 == null then null else ($l2.ns_per_point / $l1.ns_per_point | r2) end)),
    t("import_people"; "≥ 100,000 people/s"; ($imp.people_per_s // 0) >= 100000; $imp.people_per_s),
    ($rows2 | map(select(.available and .dataset == "city" and .connections != null)) | map(.peak_rss_mb // empty) | max // null) as $cityrss
    | t("memory"; "< 200 MB resident under load (city DB)"; ($cityrss // 1e9) < 200; $cityrss)
  ]
}
