/*
 * open311 — Open311 GeoReport v2 (SPEC §7) on top of the work-order
 * module: the event catalogue as services, work orders as service
 * requests, whistle's API tokens as api_keys. No HTTP in here: the
 * handlers (api_open311.c) parse the request, call these functions and
 * render the result with o311_render() as JSON or XML.
 *
 * Everything is built in the specification's JSON shape first (arrays of
 * objects), and the XML is derived from that one tree, so that the two
 * formats cannot say different things.
 *
 * Requests created here go through order_report() (channel "open311")
 * like every other report: same state machine, scope and audit. Reads
 * apply the caller's scope (order_visible); without an api_key a caller
 * sees the public view (no description, address or exact location).
 * docs/open311.md describes the mapping.
 */
#ifndef WHISTLE_OPEN311_H
#define WHISTLE_OPEN311_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "err.h"
#include "form.h"
#include "perm.h"
#include "store.h"
#include "wbuf.h"

/* ---- output ------------------------------------------------------------ */

enum { O311_JSON = 0, O311_XML = 1 };

/* Renders v as JSON, or as XML with the declaration, root element `root`
 * and, when v is an array, one `item` element per entry. Arrays nested in
 * objects become <key><singular>…</singular></key> (attributes/attribute,
 * values/value, endpoints/endpoint, formats/format). null is an empty
 * element. Text is escaped. Returns a malloc'd string or NULL (oom). */
char *o311_render(json_t *v, int format, const char *root, const char *item, size_t *len);

/* The spec's error list: [{"code": status, "description": text}]. */
json_t *o311_error(int status, const char *description);

/* ---- the mapping --------------------------------------------------------- */

/* The jurisdiction this server answers for: the setting
 * open311.jurisdiction_id, else the code of the root grid (the county's
 * division code), else "whistle". */
void o311_jurisdiction(db *d, char out[64]);

/* discovery */
json_t *o311_discovery(db *d, const char *base_url);

/* All leaf categories as services. */
int o311_services(store *st, json_t **out, werr *e);
/* One service definition ({service_code, attributes}); W_ENOTFOUND. */
int o311_service_definition(store *st, const char *code, json_t **out, werr *e);

/* POST requests. */
typedef struct o311_post {
    const char *service_code;
    double lat, lng;
    int has_location;
    const char *address_string, *address_id;
    const char *email, *device_id, *account_id, *first_name, *last_name, *phone;
    const char *description, *media_url;
    const form *fields; /* for attribute[CODE] (and attribute[CODE][]) */
} o311_post;

/* Validates against the service definition and files the order for who
 * (the api_key's account). On success *out is the spec's response array
 * [{service_request_id, token, service_notice, account_id}]. Errors carry
 * the HTTP status of the spec (400 bad or missing field, 404 unknown
 * service_code, 403 when the account may not report). */
int o311_post_request(store *st, const principal *who, const audit_actor *a, const o311_post *in,
                      json_t **out, werr *e);

/* GET requests. */
typedef struct o311_query {
    const char *ids;          /* service_request_id list (comma separated) */
    const char *service_code; /* comma separated */
    const char *status;       /* open | closed | "open,closed" */
    int64_t start, end;       /* requested_datetime range; 0: spec defaults */
    int has_start, has_end;
    int limit; /* default and maximum 1000 */
} o311_query;

/* Requests visible to who (NULL: the public view). */
int o311_requests(store *st, const principal *who, const o311_query *q, json_t **out, werr *e);
/* tokens/{token}: [{service_request_id, token}] or W_ENOTFOUND. */
int o311_token(store *st, const char *token, json_t **out, werr *e);

#endif
