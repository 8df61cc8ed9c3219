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

    /* audit */
    {"GET", "/api/v1/audit", h_audit_list, "audit.read", 0, "Page through the audit trail"},
};

const int routes_count = (int)(sizeof routes / sizeof routes[0]);
