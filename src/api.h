/*
 * api.h — the HTTP handlers, one section per api_*.c file. Handlers parse
 * and validate input (validate.h), call their domain module, and answer.
 * They are listed, with their permissions, in the route table (routes.c).
 */
#ifndef WHISTLE_API_H
#define WHISTLE_API_H

#include "router.h"

/* api_core.c — operations, auth, users, tokens, audit */
void h_healthz(http_req *r, http_resp *w);
void h_metrics(http_req *r, http_resp *w);
void h_ping(http_req *r, http_resp *w);
void h_version(http_req *r, http_resp *w);
void h_login(http_req *r, http_resp *w);
void h_logout(http_req *r, http_resp *w);
void h_me(http_req *r, http_resp *w);
void h_users_list(http_req *r, http_resp *w);
void h_users_create(http_req *r, http_resp *w);
void h_users_get(http_req *r, http_resp *w);
void h_users_password(http_req *r, http_resp *w);
void h_users_lock(http_req *r, http_resp *w);
void h_users_unlock(http_req *r, http_resp *w);
void h_tokens_list(http_req *r, http_resp *w);
void h_tokens_issue(http_req *r, http_resp *w);
void h_tokens_revoke(http_req *r, http_resp *w);
void h_audit_list(http_req *r, http_resp *w);
void h_test_clock(http_req *r, http_resp *w);
void h_departments_list(http_req *r, http_resp *w);
void h_departments_create(http_req *r, http_resp *w);
void h_settings_list(http_req *r, http_resp *w);
void h_settings_put(http_req *r, http_resp *w);
void h_public_settings(http_req *r, http_resp *w);

/* api_docs.c — the route table as data and the OpenAPI document */
void h_routes(http_req *r, http_resp *w);
void h_openapi(http_req *r, http_resp *w);

/* api_open311.c — Open311 GeoReport v2 under /open311/v2/ (docs/open311.md) */
void h_o311_discovery(http_req *r, http_resp *w);
void h_o311_services(http_req *r, http_resp *w);
void h_o311_service(http_req *r, http_resp *w);
void h_o311_post(http_req *r, http_resp *w);
void h_o311_requests(http_req *r, http_resp *w);
void h_o311_request(http_req *r, http_resp *w);
void h_o311_token(http_req *r, http_resp *w);

/* api_webhook.c — webhooks, deliveries, dead letters (webhook.admin) */
void h_webhooks_list(http_req *r, http_resp *w);
void h_webhooks_create(http_req *r, http_resp *w);
void h_webhooks_delete(http_req *r, http_resp *w);
void h_webhooks_ping(http_req *r, http_resp *w);
void h_webhooks_deliveries(http_req *r, http_resp *w);
void h_webhooks_dead_letters(http_req *r, http_resp *w);
void h_webhooks_retry(http_req *r, http_resp *w);

/* api_supervision.c — supervision notices (督办单) and deductions */
void h_supervision_list(http_req *r, http_resp *w);
void h_supervision_issue(http_req *r, http_resp *w);
void h_supervision_get(http_req *r, http_resp *w);
void h_supervision_answer(http_req *r, http_resp *w);
void h_supervision_close(http_req *r, http_resp *w);
void h_deductions_list(http_req *r, http_resp *w);

/* api_grid.c — grid levels and tree, locate, import/export, map, cards */
void h_grid_levels_get(http_req *r, http_resp *w);
void h_grid_levels_put(http_req *r, http_resp *w);
void h_grids_list(http_req *r, http_resp *w);
void h_grids_get(http_req *r, http_resp *w);
void h_grids_create(http_req *r, http_resp *w);
void h_grids_update(http_req *r, http_resp *w);
void h_grids_duties_put(http_req *r, http_resp *w);
void h_grids_retire(http_req *r, http_resp *w);
void h_grids_split(http_req *r, http_resp *w);
void h_grids_merge(http_req *r, http_resp *w);
void h_grids_geojson(http_req *r, http_resp *w);
void h_grids_import(http_req *r, http_resp *w);
void h_grids_export(http_req *r, http_resp *w);
void h_grids_cards(http_req *r, http_resp *w);
void h_grids_qr(http_req *r, http_resp *w);
void h_card_css(http_req *r, http_resp *w);
void h_locate(http_req *r, http_resp *w);
void h_public_locate(http_req *r, http_resp *w);
void h_public_grids(http_req *r, http_resp *w);
void h_grids_resolve(http_req *r, http_resp *w);

/* api_orders.c — reports, queues, order actions, tracking, photos, catalogue, calendar */
void h_reports_create(http_req *r, http_resp *w);
/* A queue page (index walk, bounded by its limit) rather than a full-text
 * or radius search, whose cost has no such bound: see route.inline_if. */
int orders_list_is_cheap(const http_req *r);
void h_orders_list(http_req *r, http_resp *w);
void h_orders_mine(http_req *r, http_resp *w);
void h_orders_counts(http_req *r, http_resp *w);
void h_orders_get(http_req *r, http_resp *w);
void h_orders_action(http_req *r, http_resp *w);
void h_track(http_req *r, http_resp *w);
void h_track_rate(http_req *r, http_resp *w);
void h_attachments_upload(http_req *r, http_resp *w);
void h_attachments_get(http_req *r, http_resp *w);
void h_catalog_public(http_req *r, http_resp *w);
void h_catalog_get(http_req *r, http_resp *w);
void h_catalog_put(http_req *r, http_resp *w);
void h_catalog_put_category(http_req *r, http_resp *w);
void h_catalog_versions(http_req *r, http_resp *w);
void h_catalog_version_get(http_req *r, http_resp *w);
void h_calendar_get(http_req *r, http_resp *w);
void h_calendar_put(http_req *r, http_resp *w);
void h_calendar_deadline(http_req *r, http_resp *w);

/* api_registry.c — people, households, visits, places, import/export, roster */
void h_people_search(http_req *r, http_resp *w);
void h_people_create(http_req *r, http_resp *w);
void h_people_get(http_req *r, http_resp *w);
void h_households_search(http_req *r, http_resp *w);
void h_households_create(http_req *r, http_resp *w);
void h_households_get(http_req *r, http_resp *w);
void h_visits_create(http_req *r, http_resp *w);
void h_visits_list(http_req *r, http_resp *w);
void h_visits_due(http_req *r, http_resp *w);
void h_places_search(http_req *r, http_resp *w);
void h_places_create(http_req *r, http_resp *w);
void h_places_get(http_req *r, http_resp *w);
void h_import(http_req *r, http_resp *w);
void h_export(http_req *r, http_resp *w);
void h_roster_list(http_req *r, http_resp *w);
void h_dept_contacts_list(http_req *r, http_resp *w);
void h_dept_contacts_create(http_req *r, http_resp *w);
void h_party_orgs_list(http_req *r, http_resp *w);
void h_party_orgs_create(http_req *r, http_resp *w);
void h_party_orgs_get(http_req *r, http_resp *w);
void h_party_members_create(http_req *r, http_resp *w);
void h_representatives_list(http_req *r, http_resp *w);
void h_representatives_create(http_req *r, http_resp *w);

/* api_eval.c — dashboard, indicators, assessment, monthly report, ledger, analysis */
void h_stats_dashboard(http_req *r, http_resp *w);
void h_stats_indicators(http_req *r, http_resp *w);
void h_stats_check(http_req *r, http_resp *w);
void h_assessment(http_req *r, http_resp *w);
void h_assessment_rules_get(http_req *r, http_resp *w);
void h_assessment_rules_put(http_req *r, http_resp *w);
void h_report_monthly(http_req *r, http_resp *w);
void h_ledger(http_req *r, http_resp *w);
void h_ledger_week(http_req *r, http_resp *w);
void h_ledger_tick(http_req *r, http_resp *w);
void h_analysis(http_req *r, http_resp *w);

#endif
