/*
 * routes.c — THE route table: everything whistle's HTTP interface can do.
 * Add a route here (and its handler in an api_*.c file, declared in api.h);
 * the router checks the permission before the handler runs, and
 * docs/openapi.json must describe it (tests/api/openapi.test.mjs checks).
 *
 * Permissions are listed per role in perm.c.
 *
 * Flags: J (JSON body), P (the leaders' screens: priority lane), I (a cheap
 * read that the HTTP event thread runs itself; anything that writes, or
 * whose cost has no bound, must not be I — store_write refuses there, and
 * a slow I route stalls every connection of its thread). See http.c.
 */
#include "api.h"

#define J ROUTE_JSON
#define P ROUTE_PRIORITY
#define I ROUTE_INLINE

/* A route's last field (inline_if) is optional: most lines leave it out. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

const struct route routes[] = {
    /* operations */
    {"GET", "/healthz", h_healthz, PERM_PUBLIC, ROUTE_NO_LOG | I, "Health check (database)"},
    {"GET", "/metrics", h_metrics, PERM_PUBLIC, ROUTE_NO_LOG, "Prometheus metrics"},
    {"GET", "/api/v1/ping", h_ping, PERM_PUBLIC, ROUTE_NO_LOG | I, "No-op (benchmark ceiling)"},
    {"GET", "/api/v1/version", h_version, PERM_PUBLIC, I, "Version and schema"},
    {"GET", "/api/v1/routes", h_routes, PERM_PUBLIC, 0,
     "The route table (method, pattern, permission)"},
    {"GET", "/api/v1/openapi.json", h_openapi, PERM_PUBLIC, 0,
     "This API as an OpenAPI 3.1 document"},
    {"POST", "/api/v1/test/clock", h_test_clock, "settings.admin", J,
     "Shift the clock (only with serve --test-clock)"},

    /* sessions */
    {"POST", "/api/v1/auth/login", h_login, PERM_PUBLIC, J | ROUTE_NO_CSRF, "Log in"},
    {"POST", "/api/v1/auth/logout", h_logout, PERM_LOGIN, 0, "Log out"},
    {"GET", "/api/v1/auth/me", h_me, PERM_LOGIN, I, "The caller"},

    /* accounts */
    {"GET", "/api/v1/users", h_users_list, "user.admin", 0, "List users"},
    {"POST", "/api/v1/users", h_users_create, "user.admin", J, "Create a user"},
    {"GET", "/api/v1/users/{id}", h_users_get, "user.admin", 0, "One user"},
    {"POST", "/api/v1/users/{id}/password", h_users_password, "user.admin", J, "Set password"},
    {"POST", "/api/v1/users/{id}/lock", h_users_lock, "user.admin", 0, "Disable a user"},
    {"POST", "/api/v1/users/{id}/unlock", h_users_unlock, "user.admin", 0, "Enable a user"},
    {"GET", "/api/v1/tokens", h_tokens_list, "user.admin", 0, "List API tokens"},
    {"POST", "/api/v1/tokens", h_tokens_issue, "user.admin", J, "Issue an API token"},
    {"DELETE", "/api/v1/tokens/{id}", h_tokens_revoke, "user.admin", 0, "Revoke an API token"},
    {"GET", "/api/v1/departments", h_departments_list, PERM_LOGIN, 0, "List departments"},
    {"POST", "/api/v1/departments", h_departments_create, "roster.admin", J,
     "Create a department"},

    /* notifications: webhooks (api_webhook.c) */
    {"GET", "/api/v1/webhooks", h_webhooks_list, "webhook.admin", 0, "List webhooks"},
    {"POST", "/api/v1/webhooks", h_webhooks_create, "webhook.admin", J,
     "Create a webhook (URL, secret, event filter)"},
    {"GET", "/api/v1/webhooks/dead-letters", h_webhooks_dead_letters, "webhook.admin", 0,
     "Deliveries that failed every attempt"},
    {"POST", "/api/v1/webhooks/dead-letters/{id}/retry", h_webhooks_retry, "webhook.admin", 0,
     "Queue a dead letter again"},
    {"DELETE", "/api/v1/webhooks/{id}", h_webhooks_delete, "webhook.admin", 0,
     "Delete a webhook"},
    {"POST", "/api/v1/webhooks/{id}/ping", h_webhooks_ping, "webhook.admin", 0,
     "Send a test event to one webhook"},
    {"GET", "/api/v1/webhooks/{id}/deliveries", h_webhooks_deliveries, "webhook.admin", 0,
     "Deliveries of one webhook"},

    /* supervision 督办 and deductions (api_supervision.c) */
    {"GET", "/api/v1/supervision", h_supervision_list, "supervision.read", 0,
     "Supervision notices (督办单) in the caller's scope"},
    {"POST", "/api/v1/supervision", h_supervision_issue, "supervision.write", J,
     "Supervise an order by hand (人工督办)"},
    {"GET", "/api/v1/supervision/{id}", h_supervision_get, "supervision.read", 0,
     "One supervision notice"},
    {"POST", "/api/v1/supervision/{id}/answer", h_supervision_answer, "supervision.answer", J,
     "The department answers a notice"},
    {"POST", "/api/v1/supervision/{id}/close", h_supervision_close, "supervision.write", J,
     "The centre closes an answered notice"},
    {"GET", "/api/v1/deductions", h_deductions_list, "supervision.read", 0,
     "Assessment deductions (乱吹哨, late signing, 推诿扯皮, overdue)"},

    /* grid (api_grid.c): levels, tree, locate, import/export, map, contact cards.
     * Fixed paths before /api/v1/grids/{code}. */
    {"GET", "/api/v1/grid-levels", h_grid_levels_get, "grid.read", 0, "The grid levels"},
    {"PUT", "/api/v1/grid-levels", h_grid_levels_put, "grid.admin", J,
     "Configure the grid levels"},
    {"GET", "/api/v1/grids", h_grids_list, "grid.read", 0,
     "Grids: roots of the caller's scope, children of a code, or a subtree"},
    {"POST", "/api/v1/grids", h_grids_create, "grid.admin", J, "Create a grid"},
    {"GET", "/api/v1/grids.geojson", h_grids_geojson, "grid.read", 0,
     "Grid polygons in the caller's scope (GeoJSON, for the map)"},
    {"POST", "/api/v1/grids/import", h_grids_import, "grid.admin", ROUTE_UPLOAD,
     "Import grids from CSV or GeoJSON (dry run, all or nothing)"},
    {"GET", "/api/v1/grids/export", h_grids_export, "grid.read", 0,
     "Export grids as CSV or GeoJSON"},
    {"GET", "/api/v1/grids/resolve", h_grids_resolve, "grid.read", 0,
     "The grid of an address or building/unit/room (through the registry)"},
    {"GET", "/api/v1/grids/{code}", h_grids_get, "grid.read", 0, "One grid"},
    {"PATCH", "/api/v1/grids/{code}", h_grids_update, "grid.admin", J, "Change a grid"},
    {"PUT", "/api/v1/grids/{code}/duties", h_grids_duties_put, "grid.admin", J,
     "Set the people in charge and the 包保单位"},
    {"POST", "/api/v1/grids/{code}/retire", h_grids_retire, "grid.admin", J, "Retire a grid"},
    {"POST", "/api/v1/grids/{code}/split", h_grids_split, "grid.admin", J, "Split a grid"},
    {"POST", "/api/v1/grids/{code}/merge", h_grids_merge, "grid.admin", J,
     "Merge grids into a new one"},
    {"GET", "/api/v1/grids/{code}/cards", h_grids_cards, "grid.read", 0,
     "Printable contact cards (网格服务联系卡)"},
    {"GET", "/api/v1/grids/{code}/qr.svg", h_grids_qr, "grid.read", 0,
     "QR code of the grid's report page"},
    {"GET", "/api/v1/card.css", h_card_css, PERM_PUBLIC, ROUTE_NO_LOG | I,
     "Stylesheet of the contact cards"},
    {"GET", "/api/v1/locate", h_locate, "grid.read", 0, "The deepest grid containing a point"},
    {"GET", "/api/v1/public/locate", h_public_locate, PERM_PUBLIC, 0,
     "The grid containing a point (code and name; resident page)"},
    {"GET", "/api/v1/public/grids", h_public_grids, PERM_PUBLIC, 0,
     "Grid names and codes for the resident page's picker"},

    /* work orders (api_orders.c): report, queues, one route per state-machine
     * action, public tracking, photos, catalogue, calendar. Fixed paths before
     * /api/v1/orders/{id}. */
    {"POST", "/api/v1/reports", h_reports_create, PERM_PUBLIC, J,
     "Report a problem (问题采集; anonymous with a phone, or logged in)"},
    {"GET", "/api/v1/orders", h_orders_list, "order.read", I,
     "Work orders: queues, filters, full-text search, cursor paging", orders_list_is_cheap},
    {"GET", "/api/v1/orders/mine", h_orders_mine, "order.mine", I, "The caller's own reports"},
    {"GET", "/api/v1/orders/counts", h_orders_counts, PERM_LOGIN, I, "Counts per queue"},
    {"GET", "/api/v1/orders/{id}", h_orders_get, PERM_LOGIN, I,
     "One order: timeline, photos, allowed actions"},
    {"POST", "/api/v1/orders/{id}/accept", h_orders_action, "order.accept", J, "立案 accept"},
    {"POST", "/api/v1/orders/{id}/reject", h_orders_action, "order.accept", J,
     "不予立案 reject (with reason)"},
    {"POST", "/api/v1/orders/{id}/merge", h_orders_action, "order.accept", J,
     "Merge into another order (duplicate)"},
    {"POST", "/api/v1/orders/{id}/onsite", h_orders_action, "order.onsite", J,
     "即时办结 resolve on the spot"},
    {"POST", "/api/v1/orders/{id}/dispatch", h_orders_action, "order.dispatch", J,
     "派遣 dispatch to a lead department (+ assisting)"},
    {"POST", "/api/v1/orders/{id}/sign", h_orders_action, "order.handle", J, "签收 sign for"},
    {"POST", "/api/v1/orders/{id}/return", h_orders_action, "order.handle", J,
     "申请退单 ask to return the order"},
    {"POST", "/api/v1/orders/{id}/return-approve", h_orders_action, "order.approve", J,
     "同意退单 approve a return (back to dispatch)"},
    {"POST", "/api/v1/orders/{id}/return-refuse", h_orders_action, "order.approve", J,
     "不同意退单 refuse a return"},
    {"POST", "/api/v1/orders/{id}/extend", h_orders_action, "order.handle", J,
     "申请延期 ask for an extension"},
    {"POST", "/api/v1/orders/{id}/extend-approve", h_orders_action, "order.approve", J,
     "同意延期 approve an extension (new deadline)"},
    {"POST", "/api/v1/orders/{id}/extend-refuse", h_orders_action, "order.approve", J,
     "不同意延期 refuse an extension"},
    {"POST", "/api/v1/orders/{id}/feedback", h_orders_action, "order.handle", J,
     "反馈 feed back with text and photos"},
    {"POST", "/api/v1/orders/{id}/verify", h_orders_action, "order.verify", J,
     "核实 verify: passed → closed, not passed → rework"},
    {"POST", "/api/v1/orders/{id}/rate", h_orders_action, "order.rate", J,
     "评价 rate (the reporter)"},
    {"POST", "/api/v1/orders/{id}/escalate", h_orders_action, "order.escalate", J,
     "上报 escalate community → street → county"},
    {"POST", "/api/v1/orders/{id}/reopen", h_orders_action, "order.approve", J,
     "重新办理 reopen on a justified complaint"},
    {"GET", "/api/v1/track/{code}", h_track, PERM_PUBLIC, I,
     "Public progress of an order by its tracking code"},
    {"POST", "/api/v1/track/{code}/rate", h_track_rate, PERM_PUBLIC, J,
     "The reporter rates through the tracking code"},
    {"POST", "/api/v1/attachments", h_attachments_upload, PERM_PUBLIC, ROUTE_UPLOAD,
     "Upload a photo (JPEG, PNG, WebP; at most 5 MB)"},
    {"GET", "/api/v1/attachments/{id}", h_attachments_get, PERM_PUBLIC, 0,
     "A photo (to those who may see an order showing it, or ?track=CODE)"},
    {"GET", "/api/v1/public/catalog", h_catalog_public, PERM_PUBLIC, I,
     "The event catalogue for the resident page (names, icons)"},
    {"GET", "/api/v1/catalog", h_catalog_get, "catalog.read", 0,
     "The current event catalogue (事项清单) with its rules"},
    {"PUT", "/api/v1/catalog", h_catalog_put, "catalog.admin", J,
     "Import a whole catalogue (new version)"},
    {"PUT", "/api/v1/catalog/categories/{code}", h_catalog_put_category, "catalog.admin", J,
     "Change or add one category (new version)"},
    {"GET", "/api/v1/catalog/versions", h_catalog_versions, "catalog.read", 0,
     "Catalogue versions"},
    {"GET", "/api/v1/catalog/versions/{version}", h_catalog_version_get, "catalog.read", 0,
     "One catalogue version"},
    {"GET", "/api/v1/calendar/deadline", h_calendar_deadline, PERM_LOGIN, 0,
     "A deadline computed with the working-day calendar"},
    {"GET", "/api/v1/calendar/{year}", h_calendar_get, PERM_LOGIN, 0,
     "The working-day calendar of a year"},
    {"PUT", "/api/v1/calendar/{year}", h_calendar_put, "calendar.admin", J,
     "Load a year's holidays, make-up working days and hours"},

    /* registry (基础信息): people, households, visits, places */
    {"GET", "/api/v1/people", h_people_search, "registry.read", 0,
     "Search people by name, phone, ID number, address, grid, care tag (masked)"},
    {"POST", "/api/v1/people", h_people_create, "registry.write", J,
     "Register or update a person (upsert by ID number)"},
    {"GET", "/api/v1/people/{id}", h_people_get, "registry.read", 0,
     "One person (unmask=1 needs registry.unmask; audited)"},
    {"GET", "/api/v1/households", h_households_search, "registry.read", 0,
     "Search households by address and grid"},
    {"POST", "/api/v1/households", h_households_create, "registry.write", J,
     "Register or update a household by address"},
    {"GET", "/api/v1/households/{id}", h_households_get, "registry.read", 0,
     "A household with its members and visits"},
    {"GET", "/api/v1/households/{id}/visits", h_visits_list, "registry.read", 0,
     "Visits (入户走访) to a household"},
    {"POST", "/api/v1/households/{id}/visits", h_visits_create, "visit.write", J,
     "Record a household visit (入户走访)"},
    {"GET", "/api/v1/visits/due", h_visits_due, "registry.read", 0,
     "Households due for a visit by care tag and interval"},
    {"GET", "/api/v1/registry/{kind}", h_places_search, "registry.read", 0,
     "Search buildings, organisations, enterprises or facilities"},
    {"POST", "/api/v1/registry/{kind}", h_places_create, "registry.write", J,
     "Register or update a building, organisation, enterprise or facility (upsert by code)"},
    {"GET", "/api/v1/registry/{kind}/{id}", h_places_get, "registry.read", 0,
     "One building, organisation, enterprise or facility"},
    {"POST", "/api/v1/import/{kind}", h_import, "registry.import", ROUTE_UPLOAD,
     "Import a CSV (UTF-8 or GBK); dry_run=1 reports bad rows and writes nothing"},
    {"GET", "/api/v1/export/{kind}", h_export, "registry.read", 0,
     "Export as CSV or XLSX (unmask=1 needs registry.unmask; audited)"},

    /* roster (花名册) */
    {"GET", "/api/v1/roster", h_roster_list, "roster.read", 0,
     "Staff and their duties per grid, grouped by person"},
    {"GET", "/api/v1/departments/{id}/contacts", h_dept_contacts_list, "roster.read", 0,
     "Contact people of a department or unit"},
    {"POST", "/api/v1/departments/{id}/contacts", h_dept_contacts_create, "roster.admin", J,
     "Add a contact person to a department or unit"},
    {"GET", "/api/v1/party-orgs", h_party_orgs_list, "roster.read", 0,
     "Party organisations (街道党工委 → 社区党委 → 小区党支部 → 楼栋党小组)"},
    {"POST", "/api/v1/party-orgs", h_party_orgs_create, "roster.admin", J,
     "Create a party organisation"},
    {"GET", "/api/v1/party-orgs/{id}", h_party_orgs_get, "roster.read", 0,
     "A party organisation with members, their households (党员联系户) and children"},
    {"POST", "/api/v1/party-orgs/{id}/members", h_party_members_create, "roster.admin", J,
     "Add a party member and the households they contact"},
    {"GET", "/api/v1/representatives", h_representatives_list, "roster.read", 0,
     "Representatives (代表委员)"},
    {"POST", "/api/v1/representatives", h_representatives_create, "roster.admin", J,
     "Add a representative (党代表, 人大代表, 政协委员)"},

    /* Open311 GeoReport v2 (api_open311.c, docs/open311.md): public routes;
     * POST requests authenticates with the api_key form field. The last
     * segment carries the format (.json/.xml), split by the handler. */
    {"GET", "/open311/v2/discovery.{format}", h_o311_discovery, PERM_PUBLIC, 0,
     "Open311 service discovery"},
    {"GET", "/open311/v2/services.{format}", h_o311_services, PERM_PUBLIC, 0,
     "Open311 services (the event catalogue)"},
    {"GET", "/open311/v2/services/{service_code}", h_o311_service, PERM_PUBLIC, 0,
     "Open311 service definition"},
    {"POST", "/open311/v2/requests.{format}", h_o311_post, PERM_PUBLIC, ROUTE_NO_CSRF,
     "Open311: file a service request"},
    {"GET", "/open311/v2/requests.{format}", h_o311_requests, PERM_PUBLIC, 0,
     "Open311: service requests"},
    {"GET", "/open311/v2/requests/{service_request_id}", h_o311_request, PERM_PUBLIC, 0,
     "Open311: one service request"},
    {"GET", "/open311/v2/tokens/{token}", h_o311_token, PERM_PUBLIC, 0,
     "Open311: request id for a token"},

    /* evaluation: indicators, assessment, monthly report, ledger, analysis. The
     * leaders' screens (P) are answered on the priority lane (lane.h); the
     * full recount (stats/check) is not: it would hold a lane thread for minutes. */
    {"GET", "/api/v1/stats/dashboard", h_stats_dashboard, "stats.read", P,
     "Dashboard numbers: today, this month, 30-day trend, ranking, categories, hotspots"},
    {"GET", "/api/v1/stats/indicators", h_stats_indicators, "stats.read", P,
     "Indicators by department, grid, category, channel and period"},
    {"GET", "/api/v1/stats/check", h_stats_check, "stats.check", 0,
     "Prove the aggregates equal a recomputation from the timeline"},
    {"GET", "/api/v1/assessment", h_assessment, "stats.read", P,
     "Monthly assessment scores, rankings and their breakdown"},
    {"GET", "/api/v1/assessment/rules", h_assessment_rules_get, "stats.read", 0,
     "Assessment rules in force for a month, and their versions"},
    {"PUT", "/api/v1/assessment/rules", h_assessment_rules_put, "settings.admin", J,
     "Store a new version of the assessment rules"},
    {"GET", "/api/v1/reports/monthly", h_report_monthly, "report.read", P,
     "Monthly report (月专报) as HTML, CSV, XLSX or JSON"},
    {"GET", "/api/v1/ledger", h_ledger, "ledger.read", 0,
     "Problem ledger (问题台账) of a grid, as JSON, HTML, CSV or XLSX"},
    {"GET", "/api/v1/ledger/week", h_ledger_week, "ledger.read", 0,
     "Weekly ledger view (collected Mon-Wed, compiled Thu, handed over Fri)"},
    {"POST", "/api/v1/ledger/{id}/tick", h_ledger_tick, "ledger.write", J,
     "Tick off (销号) a closed problem"},
    {"GET", "/api/v1/analysis", h_analysis, "stats.read", 0,
     "Joint analysis: recurring problems, hotspots, rising categories"},

    /* settings */
    {"GET", "/api/v1/settings", h_settings_list, "settings.admin", 0, "Deployment settings"},
    {"PUT", "/api/v1/settings/{key}", h_settings_put, "settings.admin", J, "Change a setting"},
    {"GET", "/api/v1/public/settings", h_public_settings, PERM_PUBLIC, I,
     "Settings the public pages need (map tiles)"},

    /* audit */
    {"GET", "/api/v1/audit", h_audit_list, "audit.read", 0, "Page through the audit trail"},
};

const int routes_count = (int)(sizeof routes / sizeof routes[0]);
