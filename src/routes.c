/*
 * routes.c — THE route table: everything whistle's HTTP interface can do.
 * Add a route here (and its handler in an api_*.c file, declared in api.h);
 * the router checks the permission before the handler runs, and
 * docs/openapi.json must describe it (tests/api/openapi.test.mjs checks).
 *
 * Permissions are listed per role in perm.c.
 */
#include "api.h"

#define J ROUTE_JSON

const struct route routes[] = {
    /* operations */
    {"GET", "/healthz", h_healthz, PERM_PUBLIC, ROUTE_NO_LOG, "Health check (database)"},
    {"GET", "/metrics", h_metrics, PERM_PUBLIC, ROUTE_NO_LOG, "Prometheus metrics"},
    {"GET", "/api/v1/ping", h_ping, PERM_PUBLIC, ROUTE_NO_LOG, "No-op (benchmark ceiling)"},
    {"GET", "/api/v1/version", h_version, PERM_PUBLIC, 0, "Version and schema"},
    {"GET", "/api/v1/routes", h_routes, PERM_PUBLIC, 0,
     "The route table (method, pattern, permission)"},
    {"GET", "/api/v1/openapi.json", h_openapi, PERM_PUBLIC, 0,
     "This API as an OpenAPI 3.1 document"},
    {"POST", "/api/v1/test/clock", h_test_clock, "settings.admin", J,
     "Shift the clock (only with serve --test-clock)"},

    /* sessions */
    {"POST", "/api/v1/auth/login", h_login, PERM_PUBLIC, J | ROUTE_NO_CSRF, "Log in"},
    {"POST", "/api/v1/auth/logout", h_logout, PERM_LOGIN, 0, "Log out"},
    {"GET", "/api/v1/auth/me", h_me, PERM_LOGIN, 0, "The caller"},

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

    /* work orders (api_orders.c): report, queues, one route per state-machine
     * action, public tracking, photos, catalogue, calendar. Fixed paths before
     * /api/v1/orders/{id}. */
    {"POST", "/api/v1/reports", h_reports_create, PERM_PUBLIC, J,
     "Report a problem (问题采集; anonymous with a phone, or logged in)"},
    {"GET", "/api/v1/orders", h_orders_list, "order.read", 0,
     "Work orders: queues, filters, full-text search, cursor paging"},
    {"GET", "/api/v1/orders/mine", h_orders_mine, "order.mine", 0, "The caller's own reports"},
    {"GET", "/api/v1/orders/counts", h_orders_counts, PERM_LOGIN, 0, "Counts per queue"},
    {"GET", "/api/v1/orders/{id}", h_orders_get, PERM_LOGIN, 0,
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
    {"GET", "/api/v1/track/{code}", h_track, PERM_PUBLIC, 0,
     "Public progress of an order by its tracking code"},
    {"POST", "/api/v1/track/{code}/rate", h_track_rate, PERM_PUBLIC, J,
     "The reporter rates through the tracking code"},
    {"POST", "/api/v1/attachments", h_attachments_upload, PERM_PUBLIC, ROUTE_UPLOAD,
     "Upload a photo (JPEG, PNG, WebP; at most 5 MB)"},
    {"GET", "/api/v1/attachments/{id}", h_attachments_get, PERM_PUBLIC, 0,
     "A photo (to those who may see an order showing it, or ?track=CODE)"},
    {"GET", "/api/v1/public/catalog", h_catalog_public, PERM_PUBLIC, 0,
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

    /* audit */
    {"GET", "/api/v1/audit", h_audit_list, "audit.read", 0, "Page through the audit trail"},
};

const int routes_count = (int)(sizeof routes / sizeof routes[0]);
