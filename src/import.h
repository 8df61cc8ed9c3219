/*
 * import — bulk import and export of the registry and the roster from and to
 * the spreadsheets communities keep (issue 3 item 6).
 *
 * Import: CSV (csv.h: UTF-8 with or without BOM, GBK/GB18030, UTF-16) with a
 * header row of the usual Chinese column names (姓名, 公民身份号码/身份证号,
 * 联系电话/手机号, 所属网格, 小区, 楼栋, 单元, 房号 …; see the column tables in
 * registry.c, registry_places.c and roster.c). Every row is validated and
 * its personal identifiers sealed BEFORE the write transaction; then one
 * store_write() resolves references (grids, households) and upserts every
 * row. A row that fails is reported with its line number and reason; if any
 * row fails, or on a dry run, the whole transaction is rolled back, so an
 * import is all-or-nothing. Rows are matched on their natural key (ID
 * number; household address; code), so re-importing an export changes
 * nothing ("unchanged" in the report).
 *
 * Export: the same columns, as CSV (UTF-8 with BOM, CRLF: what Excel opens
 * without asking) or XLSX (libxlsxwriter, constant memory).
 */
#ifndef WHISTLE_IMPORT_H
#define WHISTLE_IMPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "err.h"
#include "perm.h"
#include "registry.h"
#include "store.h"
#include "wbuf.h"

#define IMPORT_MAX_ERRORS 1000 /* reported in full; error_count counts all */

/* Imports kind ("people", "households", "buildings", "organisations",
 * "enterprises", "facilities", "staff") from data. *report:
 * {kind, encoding, dry_run, committed, rows, created, updated, unchanged,
 *  columns:{header: key}, ignored_columns:[...], error_count,
 *  errors:[{line, message}]}.
 * Returns WOK when the file was read (look at report.committed and
 * errors), W_EINVALID when it cannot be read at all (encoding, header). */
int import_registry(store *st, const audit_actor *a, const principal *who, const char *kind,
                    const char *data, size_t len, int dry_run, const char *source,
                    json_t **report, werr *e);
/* The same for a file mapped with mmap(PROT_READ, MAP_PRIVATE) at map (the
 * caller's, unmapped by it afterwards): the pages read are given back to
 * the kernel as the import goes (madvise), so that a large file does not
 * stay resident. */
int import_registry_mapped(store *st, const audit_actor *a, const principal *who, const char *kind,
                           const char *map, size_t len, int dry_run, const char *source,
                           json_t **report, werr *e);

/* Writes the rows of kind in the caller's scope to a sink. unmask: full ID
 * numbers and phones (the caller has checked registry.unmask; the export
 * is audited by import_export_*). */
int import_export_rows(db *d, const principal *who, const char *kind, int unmask,
                       table_sink *out, int64_t *rows, werr *e);
/* CSV into out (UTF-8 with BOM, CRLF). Audited (export.<kind>). */
int import_export_csv(store *st, const audit_actor *a, const principal *who, const char *kind,
                      int unmask, wbuf *out, int64_t *rows, werr *e);
/* XLSX into the file at path. Audited. */
int import_export_xlsx(store *st, const audit_actor *a, const principal *who, const char *kind,
                       int unmask, const char *path, int64_t *rows, werr *e);
/* 1 when kind is one of the registry kinds this module handles. */
int import_kind_known(const char *kind);

#endif
