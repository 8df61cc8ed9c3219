/*
 * csv — a streaming CSV reader for the spreadsheets communities keep:
 * RFC 4180 plus the quirks of Chinese Excel exports.
 *
 *   - encoding: UTF-8 with or without BOM; GBK/GB18030 (Chinese Excel's
 *     "CSV (逗号分隔)" default) when the bytes are not valid UTF-8; UTF-16
 *     with a BOM ("Unicode 文本" saves). Converted with glibc iconv.
 *   - separator: comma, tab or semicolon, detected from the header line.
 *   - line ends: CRLF, LF or a lone CR; quoted fields may span lines.
 *   - leniency as Excel: a quote inside an unquoted field is literal, text
 *     after a closing quote is kept, rows of only empty cells are skipped.
 *
 * The reader yields one record at a time (constant memory beyond the
 * input), with the physical line on which the record starts, so that an
 * import can report "line 1234: …".
 */
#ifndef WHISTLE_CSV_H
#define WHISTLE_CSV_H

#include <stddef.h>

#include "err.h"

#define CSV_MAX_FIELDS 512
#define CSV_MAX_FIELD (64 * 1024)

typedef struct csv_reader {
    const char *p, *end;    /* the UTF-8 input still to read */
    char *owned;            /* converted input, when it was not UTF-8 */
    const char *encoding;   /* "utf-8", "utf-8-bom", "gb18030", "utf-16le", "utf-16be" */
    char delim;
    int line;               /* physical line of the next character */
    /* the current record */
    int nfields;
    int record_line;        /* line on which it starts */
    char *fields[CSV_MAX_FIELDS];
    size_t lens[CSV_MAX_FIELDS];
    char *buf;              /* field storage, NUL-separated */
    size_t buf_len, buf_cap;
    size_t offs[CSV_MAX_FIELDS];
    char error[160];        /* why csv_next returned -1 */
} csv_reader;

/* Prepares a reader over data (borrowed; must outlive the reader unless
 * it was converted). Detects the encoding and the separator. */
int csv_open(csv_reader *r, const char *data, size_t len, werr *e);
/* Reads the next non-empty record into r->fields/nfields. Returns 1 for a
 * record, 0 at the end, -1 on malformed input (r->error says why). */
int csv_next(csv_reader *r);
void csv_close(csv_reader *r);

/* Converts len bytes from charset `from` to UTF-8 (malloc'd, NUL-terminated)
 * with iconv; NULL when the input is not valid in that charset. */
char *csv_to_utf8(const char *from, const char *data, size_t len, size_t *out_len);

#endif
