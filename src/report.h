/*
 * report — the monthly report (月专报) that goes to every county leader,
 * and the renderers shared by every printable/exportable table of the
 * evaluation module (the ledger uses them too).
 *
 * A report is first built as a document model (JSON), then rendered:
 *   {"title", "subtitle", "generated_at",
 *    "sections": [{"id", "title", "note"?,
 *                  "columns": [{"key", "label", "type"}],   type: text|int|num|rate
 *                  "rows": [[cell, …], …]}]}
 * HTML prints cleanly on A4 (rows never split across pages, table headers
 * repeat on every page), CSV has one block per table, XLSX one sheet per
 * table. Everything in the report is read from the aggregates and from
 * indexed lists with LIMIT — never from a scan of the orders.
 */
#ifndef WHISTLE_REPORT_H
#define WHISTLE_REPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store.h"
#include "wbuf.h"

enum { REPORT_HTML = 0, REPORT_CSV, REPORT_XLSX, REPORT_JSON };
/* "html" | "csv" | "xlsx" | "json" → REPORT_*, -1 when unknown. */
int report_format_parse(const char *s);
const char *report_content_type(int format);
const char *report_extension(int format);

/* Builds the monthly report of month yyyymm as a document model. */
int report_monthly(store *st, db *d, int month, int64_t now, json_t **doc, werr *e);

/* Renders a document model. *out is malloc'd (free it), *len its size. */
int report_render(json_t *doc, int format, char **out, size_t *len, werr *e);
void report_render_html(json_t *doc, wbuf *b);
void report_render_csv(json_t *doc, wbuf *b);
int report_render_xlsx(json_t *doc, char **out, size_t *len, werr *e);

/* Section helpers for builders: a section with columns "key:label:type"
 * (NULL-terminated), rows appended with json_array_append_new. */
json_t *report_section(const char *id, const char *title, const char *const *columns);
json_t *report_rows(json_t *section);

#endif
