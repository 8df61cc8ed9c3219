#include "import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xlsxwriter.h>

#include "clock.h"
#include "csv.h"
#include "roster.h"
#include "validate.h"
#include "vault.h"

/* ---- an arena for the strings of one import ------------------------------- */

struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    char data[];
};

typedef struct arena {
    struct arena_block *head;
} arena;

static void *arena_alloc(arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (!a->head || a->head->used + n > a->head->cap) {
        size_t cap = n > (1u << 20) ? n : (1u << 20);
        struct arena_block *b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->next = a->head;
        b->used = 0;
        b->cap = cap;
        a->head = b;
    }
    void *p = a->head->data + a->head->used;
    a->head->used += n;
    return p;
}

static char *arena_strdup(arena *a, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = arena_alloc(a, n);
    if (p)
        memcpy(p, s, n);
    return p;
}

static void arena_free(arena *a)
{
    while (a->head) {
        struct arena_block *n = a->head->next;
        free(a->head);
        a->head = n;
    }
}

/* ---- kinds ------------------------------------------------------------------ */

enum { K_PEOPLE, K_HOUSEHOLDS, K_PLACE, K_STAFF };

struct kind_info {
    int k;
    const reg_col *cols;
    const reg_kind *place;
};

static int kind_info(const char *kind, struct kind_info *ki)
{
    memset(ki, 0, sizeof *ki);
    if (!kind)
        return -1;
    if (!strcmp(kind, "people")) {
        ki->k = K_PEOPLE;
        ki->cols = reg_people_cols;
    } else if (!strcmp(kind, "households")) {
        ki->k = K_HOUSEHOLDS;
        ki->cols = reg_household_cols;
    } else if (!strcmp(kind, "staff")) {
        ki->k = K_STAFF;
        ki->cols = roster_staff_cols;
    } else if ((ki->place = reg_kind_find(kind))) {
        ki->k = K_PLACE;
        ki->cols = ki->place->cols;
    } else {
        return -1;
    }
    return 0;
}

int import_kind_known(const char *kind)
{
    struct kind_info ki;
    return kind_info(kind, &ki) == 0;
}

/* ---- header mapping ------------------------------------------------------------ */

/* "* 姓名（必填）" → "姓名": stars and spaces dropped, and a bracketed note
 * at the end (match_header also tries the header whole, for aliases such
 * as 小区（院落）). */
static void norm_header(const char *in, char *out, size_t cap)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", in);
    reg_clean_cell(buf);
    size_t n = 0;
    for (const char *p = buf; *p && n + 1 < cap; p++) {
        int wide = !strncmp(p, "（", 3);
        if ((wide || *p == '(') && n > 0) {
            const char *close = strstr(p, wide ? "）" : ")");
            if (close && close[wide ? 3 : 1] == '\0')
                break;
        }
        if (*p == '*' || *p == ' ')
            continue;
        out[n++] = *p;
    }
    out[n] = '\0';
}

static int alias_match(const char *aliases, const char *h)
{
    size_t hl = strlen(h);
    for (const char *p = aliases; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == hl && !strncmp(p, h, n))
            return 1;
        p = bar ? bar + 1 : NULL;
    }
    return 0;
}

/* Column index for a header, or -1. Tries the header as written (minus
 * stars and spaces) and without a trailing bracketed note. */
static int match_header(const reg_col *cols, const char *raw)
{
    char h[256], full[256];
    snprintf(full, sizeof full, "%s", raw);
    reg_clean_cell(full);
    size_t n = 0;
    for (char *p = full; *p; p++)
        if (*p != '*' && *p != ' ')
            full[n++] = *p;
    full[n] = '\0';
    norm_header(raw, h, sizeof h);
    for (int pass = 0; pass < 2; pass++) {
        const char *x = pass ? h : full;
        if (!*x)
            continue;
        for (int i = 0; cols[i].key; i++)
            if (!strcasecmp(x, cols[i].key) || !strcmp(x, cols[i].zh) ||
                alias_match(cols[i].aliases, x))
                return i;
    }
    return -1;
}

/* ---- the import -------------------------------------------------------------------- */

struct row {
    int line;
    int bad;
    const char **cells;
    reg_person *p;
    const char *hkind; /* households: kind code */
};

struct imp {
    const audit_actor *a;
    const principal *who;
    reg_scope sc;
    struct kind_info ki;
    int ncols;
    size_t nrows;          /* records after the header */
    unsigned char *bad;    /* bit per record: refused in the first pass */
    size_t nbad;
    /* where the records start, to read them again inside the transaction */
    csv_reader start;
    const int *map;
    int nheader;
    int dry_run;
    const char *kind, *source, *encoding;
    json_t *errors;
    int64_t error_count, created, updated, unchanged;
    int committed;
    werr *e;
};

static void add_error(struct imp *im, int line, const char *msg)
{
    im->error_count++;
    if (json_array_size(im->errors) < IMPORT_MAX_ERRORS) {
        json_t *x = json_pack("{s:i, s:s}", "line", line, "message", msg);
        if (!x) /* a message cut inside a UTF-8 sequence */
            x = json_pack("{s:i, s:s}", "line", line, "message", "invalid value");
        json_array_append_new(im->errors, x);
    }
}

static const char *household_kind(const char *s)
{
    if (!s || !*s)
        return NULL;
    static const char *const map[][2] = {
        {"resident", "自住"},   {"rental", "出租"},     {"vacant", "空置"},
        {"collective", "集体户"}, {"resident", "自住户"}, {"rental", "出租户"},
        {"vacant", "空置房"},   {"collective", "集体"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(s, map[i][0]) || !strcmp(s, map[i][1]))
            return map[i][0];
    return "";
}

static int is_bad(const struct imp *im, size_t i) { return im->bad[i / 8] >> (i % 8) & 1; }

/* The current record of r as a row (cells in ar, by column). */
static int load_row(const struct imp *im, csv_reader *r, arena *ar, struct row *row)
{
    memset(row, 0, sizeof *row);
    row->line = r->record_line;
    row->cells = arena_alloc(ar, sizeof(char *) * (size_t)im->ncols);
    if (!row->cells)
        return W_EINTERNAL;
    for (int c = 0; c < im->ncols; c++)
        row->cells[c] = NULL;
    for (int i = 0; i < r->nfields && i < im->nheader; i++) {
        if (im->map[i] < 0)
            continue;
        reg_clean_cell(r->fields[i]);
        if (!*r->fields[i])
            continue;
        if (!(row->cells[im->map[i]] = arena_strdup(ar, r->fields[i])))
            return W_EINTERNAL;
    }
    return WOK;
}

/* First pass, outside the transaction: validate and seal one row. */
static int prepare_row(struct imp *im, struct row *r, arena *ar, werr *e)
{
    const char **c = r->cells;
    switch (im->ki.k) {
    case K_PEOPLE: {
        person_input in = {0};
        in.name = c[0], in.gender = c[1], in.birth_date = c[2], in.id_number = c[3];
        in.phone = c[4], in.residence = c[5], in.relation = c[6], in.ethnicity = c[7];
        in.political = c[8], in.hukou_address = c[9], in.workplace = c[10], in.tags = c[11];
        in.status = c[12], in.grid = c[13], in.street = c[14], in.compound = c[15];
        in.building = c[16], in.unit = c[17], in.room = c[18], in.note = c[19];
        r->p = arena_alloc(ar, sizeof *r->p);
        if (!r->p)
            return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
        return reg_person_prepare(&in, r->p, e);
    }
    case K_HOUSEHOLDS: {
        reg_addr ad;
        if (reg_address_norm(c[1], c[2], c[3], c[4], c[5], &ad) != 0)
            return werr_set(e, W_EINVALID, "invalid_field",
                            "address: give 小区/楼栋/单元/房号 or 详址");
        for (int i = 1; i <= 5; i++)
            if (c[i] && *c[i] && !valid_text(c[i], 1, i <= 2 ? 120 : 30))
                return werr_set(e, W_EINVALID, "invalid_field", "%s: too long",
                                reg_household_cols[i].zh);
        r->hkind = household_kind(c[6]);
        if (r->hkind && !*r->hkind)
            return werr_set(e, W_EINVALID, "invalid_field",
                            "户类型 kind: 自住, 出租, 空置 or 集体户");
        if ((c[7] && *c[7] && !valid_text(c[7], 1, 64)) ||
            (c[8] && *c[8] && !valid_text(c[8], 1, 500)))
            return werr_set(e, W_EINVALID, "invalid_field", "户主姓名/备注: too long");
        r->p = arena_alloc(ar, sizeof *r->p);
        if (!r->p)
            return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
        memset(r->p, 0, sizeof *r->p);
        r->p->grid = c[0] && *c[0] ? c[0] : NULL;
        r->p->street = c[1], r->p->compound = c[2], r->p->building = c[3];
        r->p->unit = c[4], r->p->room = c[5];
        return WOK;
    }
    case K_STAFF: return roster_staff_check(c, e);
    default: return reg_place_check(im->ki.place, c, e);
    }
}

static int put_row(db *d, struct imp *im, reg_grid_cache *gc, struct row *r, int *what, werr *e)
{
    int64_t id;
    const char **c = r->cells;
    switch (im->ki.k) {
    case K_PEOPLE: return reg_person_put(d, gc, &im->sc, r->p, what, &id, e);
    case K_HOUSEHOLDS:
        return reg_household_put(d, gc, &im->sc, r->p, r->hkind, c[7] && *c[7] ? c[7] : NULL,
                                 c[8] && *c[8] ? c[8] : NULL, what, &id, e);
    case K_STAFF: return roster_staff_put(d, gc, &im->sc, c, what, &id, e);
    default: return reg_place_put(d, gc, &im->sc, im->ki.place, c, what, &id, e);
    }
}

/* ---- bulk imports: secondary indexes rebuilt once ----------------------------
 *
 * Inserting a million people updates every index of people and households
 * row by row with random keys (name, phone hash, grid…): the B-tree pages
 * of those indexes no longer fit the writer's cache, are spilled to the WAL
 * and rewritten again and again inside the one transaction. For a large
 * import the indexes that the per-row lookups do not use are dropped first
 * and created again at the end with one sort each — in the SAME
 * transaction, so the import stays all-or-nothing and readers (WAL
 * snapshots) never see a table without its indexes. The statements to
 * recreate them come from sqlite_master, so they are exactly the
 * migration's. Kept: the UNIQUE constraints (people.id_hash,
 * households.addr_key: the per-row lookups) and people_household (people
 * without an ID number, moving a household). */
#define BULK_ROWS 20000

struct bulk {
    int n;
    char *name[16], *sql[16];
};

static int bulk_begin(db *d, struct bulk *b)
{
    memset(b, 0, sizeof *b);
    db_stmt *s = db_query(d, "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                             "tbl_name IN ('people', 'households') AND sql IS NOT NULL AND "
                             "name <> 'people_household' ORDER BY name", "");
    while (s && db_step(s) == DB_ROW && b->n < 16) {
        b->name[b->n] = strdup(db_col_text(s, 0));
        b->sql[b->n] = strdup(db_col_text(s, 1));
        if (!b->name[b->n] || !b->sql[b->n]) {
            free(b->name[b->n]);
            free(b->sql[b->n]);
            break;
        }
        b->n++;
    }
    db_done(s);
    for (int i = 0; i < b->n; i++) {
        char sql[200];
        snprintf(sql, sizeof sql, "DROP INDEX \"%s\"", b->name[i]);
        if (db_exec(d, sql, "") != WOK)
            return W_EINTERNAL;
    }
    return WOK;
}

/* Recreates what bulk_begin dropped; frees b. */
static int bulk_end(db *d, struct bulk *b)
{
    int rc = WOK;
    for (int i = 0; i < b->n; i++) {
        if (rc == WOK && db_exec(d, b->sql[i], "") != WOK)
            rc = W_EINTERNAL;
        free(b->name[i]);
        free(b->sql[i]);
    }
    b->n = 0;
    return rc;
}

static int import_tx(db *d, void *arg)
{
    struct imp *im = arg;
    reg_grid_cache *gc = reg_grid_cache_new();
    if (!gc)
        return werr_set(im->e, W_EINTERNAL, "out_of_memory", "out of memory");
    im->created = im->updated = im->unchanged = 0;
    size_t good = im->nrows - im->nbad;
    struct bulk bulk = {0};
    int bulky = good >= BULK_ROWS && (im->ki.k == K_PEOPLE || im->ki.k == K_HOUSEHOLDS);
    if (bulky && bulk_begin(d, &bulk) != WOK) {
        bulk_end(d, &bulk);
        reg_grid_cache_free(gc);
        return werr_set(im->e, W_EINTERNAL, "database_error", "cannot prepare the bulk import");
    }
    /* Second pass over the same records (a fresh reader: this fn may run
     * twice), prepared again in small batches so that memory stays
     * bounded whatever the file's size; the rows refused in the first
     * pass are skipped. */
    csv_reader rd = im->start;
    rd.owned = rd.buf = NULL;
    rd.buf_len = rd.buf_cap = 0;
    arena ar = {0};
    int internal = 0;
    for (size_t i = 0; i < im->nrows && !internal; i++) {
        if ((i & 4095) == 0)
            arena_free(&ar);
        if (csv_next(&rd) != 1) {
            internal = 1;
            break;
        }
        if (is_bad(im, i))
            continue;
        struct row row, *r = &row;
        werr e = {0};
        if (load_row(im, &rd, &ar, r) != WOK || prepare_row(im, r, &ar, &e) != WOK) {
            internal = 1; /* it passed the first time: out of memory */
            break;
        }
        int what = 0;
        if (put_row(d, im, gc, r, &what, &e) != WOK) {
            add_error(im, r->line, e.message);
            if (e.rc == W_EINTERNAL)
                break;
            continue;
        }
        if (what == REG_CREATED)
            im->created++;
        else if (what == REG_UPDATED)
            im->updated++;
        else
            im->unchanged++;
    }
    arena_free(&ar);
    csv_close(&rd);
    reg_grid_cache_free(gc);
    if (internal) {
        bulk_end(d, &bulk);
        return werr_set(im->e, W_EINTERNAL, "internal", "cannot read the rows again");
    }
    if (bulky && bulk_end(d, &bulk) != WOK)
        return werr_set(im->e, W_EINTERNAL, "database_error", "cannot rebuild the indexes");
    if (im->error_count || im->dry_run)
        return W_ECONFLICT; /* roll back: nothing of this import is kept */
    if (im->ki.k != K_STAFF && reg_recount_grids(d) != WOK)
        return werr_set(im->e, W_EINTERNAL, "database_error", "cannot recount grids");
    char action[64];
    snprintf(action, sizeof action, "import.%s", im->kind);
    json_t *detail = json_pack("{s:I, s:I, s:I, s:I, s:s?, s:s}", "rows", (json_int_t)im->nrows,
                               "created", (json_int_t)im->created, "updated",
                               (json_int_t)im->updated, "unchanged", (json_int_t)im->unchanged,
                               "source", im->source, "encoding", im->encoding);
    int rc = audit_record(d, im->a, action, "import", im->kind, detail);
    json_decref(detail);
    if (rc != WOK)
        return werr_set(im->e, W_EINTERNAL, "database_error", "cannot audit the import");
    im->committed = 1;
    return WOK;
}

/* A set of ID hashes, to report the same ID number twice in a file;
 * grows to keep its load under one half. */
struct idset {
    unsigned char (*h)[VAULT_HASH_BYTES];
    int *line;
    size_t cap, n;
};

static int idset_init(struct idset *s, size_t cap)
{
    s->h = calloc(cap, VAULT_HASH_BYTES);
    s->line = calloc(cap, sizeof(int));
    s->cap = cap;
    s->n = 0;
    if (!s->h || !s->line) {
        free(s->h);
        free(s->line);
        s->h = NULL;
        s->line = NULL;
        return -1;
    }
    return 0;
}

static size_t idset_slot(const struct idset *s, const unsigned char *h)
{
    size_t i;
    memcpy(&i, h, sizeof i);
    for (i %= s->cap; s->line[i] && memcmp(s->h[i], h, VAULT_HASH_BYTES); i = (i + 1) % s->cap)
        ;
    return i;
}

/* 0 when added, the first line when h was there, -1 out of memory. */
static int idset_add(struct idset *s, const unsigned char *h, int line)
{
    if ((s->n + 1) * 2 > s->cap) {
        struct idset g;
        if (idset_init(&g, s->cap * 2) != 0)
            return -1;
        for (size_t k = 0; k < s->cap; k++)
            if (s->line[k]) {
                size_t j = idset_slot(&g, s->h[k]);
                memcpy(g.h[j], s->h[k], VAULT_HASH_BYTES);
                g.line[j] = s->line[k];
                g.n++;
            }
        free(s->h);
        free(s->line);
        *s = g;
    }
    size_t i = idset_slot(s, h);
    if (s->line[i])
        return s->line[i];
    memcpy(s->h[i], h, VAULT_HASH_BYTES);
    s->line[i] = line;
    s->n++;
    return 0;
}

int import_registry(store *st, const audit_actor *a, const principal *who, const char *kind,
                    const char *data, size_t len, int dry_run, const char *source,
                    json_t **report, werr *e)
{
    struct imp im;
    memset(&im, 0, sizeof im);
    if (kind_info(kind, &im.ki) != 0)
        return werr_set(e, W_EINVALID, "unknown_kind", "unknown kind '%s'", kind ? kind : "");
    int rc = vault_ensure(st, e);
    if (rc != WOK)
        return rc;
    reg_scope_from(who, &im.sc);
    if (im.sc.none)
        return werr_set(e, W_EFORBIDDEN, "out_of_scope", "your account has no grids to import into");
    im.a = a;
    im.who = who;
    im.kind = kind;
    im.source = source;
    im.dry_run = dry_run;
    im.e = e;
    while (im.ki.cols[im.ncols].key)
        im.ncols++;
    csv_reader *r = malloc(sizeof *r);
    if (!r)
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    if ((rc = csv_open(r, data, len, e)) != WOK) {
        free(r);
        return rc;
    }
    im.encoding = r->encoding;
    /* The header: the first of the first five records that names at least
     * two known columns (spreadsheets often carry a title row above it). */
    int map[CSV_MAX_FIELDS];
    json_t *columns = json_object(), *ignored = json_array();
    int found = 0, header_line = 0;
    for (int tries = 0; tries < 5 && !found; tries++) {
        int got = csv_next(r);
        if (got != 1)
            break;
        int known = 0;
        for (int i = 0; i < r->nfields; i++)
            known += match_header(im.ki.cols, r->fields[i]) >= 0;
        if (known >= 2 || (known >= 1 && im.ncols <= 2)) {
            found = 1;
            header_line = r->record_line;
            int seen[64] = {0};
            for (int i = 0; i < r->nfields; i++) {
                int c = match_header(im.ki.cols, r->fields[i]);
                char h[256];
                snprintf(h, sizeof h, "%s", r->fields[i]);
                reg_clean_cell(h);
                if (c >= 0 && !seen[c]) {
                    seen[c] = 1;
                    map[i] = c;
                    json_object_set_new(columns, h, json_string(im.ki.cols[c].key));
                } else {
                    map[i] = -1;
                    if (*h)
                        json_array_append_new(ignored, json_string(h));
                }
            }
            for (int c = 0; c < im.ncols; c++)
                if (im.ki.cols[c].required && !seen[c]) {
                    rc = werr_set(e, W_EINVALID, "missing_column",
                                  "line %d: the header has no column %s (%s)", header_line,
                                  im.ki.cols[c].zh, im.ki.cols[c].key);
                }
            if (rc != WOK)
                break;
        }
    }
    if (rc == WOK && !found)
        rc = werr_set(e, W_EINVALID, "no_header",
                      "no header row with known column names (such as %s, %s) in the first "
                      "lines",
                      im.ki.cols[0].zh, im.ki.cols[1].zh);
    int nheader = found ? r->nfields : 0;
    im.map = map;
    im.nheader = nheader;
    im.start = *r; /* the reader just after the header */
    arena ar = {0};
    size_t cap = 0;
    im.errors = json_array();
    struct idset ids = {0};
    if (rc == WOK && im.ki.k == K_PEOPLE) {
        if (idset_init(&ids, 1u << 14) != 0)
            rc = werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    }
    /* First pass: parse, validate and seal every row (no database). */
    while (rc == WOK) {
        int got = csv_next(r);
        if (got == 0)
            break;
        if (got < 0) {
            add_error(&im, r->record_line, r->error);
            break;
        }
        if (im.nrows % 8 == 0 && im.nrows / 8 == cap) {
            size_t ncap = cap ? cap * 2 : 1024;
            unsigned char *n = realloc(im.bad, ncap);
            if (!n) {
                rc = werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
                break;
            }
            memset(n + cap, 0, ncap - cap);
            im.bad = n;
            cap = ncap;
        }
        size_t i = im.nrows++;
        /* rows are not kept: memory stays bounded (the second pass, in the
         * transaction, reads and prepares them again) */
        if ((i & 4095) == 0)
            arena_free(&ar);
        struct row rowbuf, *row = &rowbuf;
        if (load_row(&im, r, &ar, row) != WOK) {
            rc = werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
            break;
        }
        werr re = {0};
        int bad = 0;
        if (prepare_row(&im, row, &ar, &re) != WOK) {
            bad = 1;
            add_error(&im, row->line, re.message);
            if (re.rc == W_EINTERNAL) {
                rc = werr_set(e, re.rc, re.code, "%s", re.message);
                break;
            }
        } else if (im.ki.k == K_PEOPLE && row->p->id_len) {
            int first = idset_add(&ids, row->p->id_hash, row->line);
            if (first < 0) {
                rc = werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
                break;
            }
            if (first) {
                char msg[160];
                snprintf(msg, sizeof msg,
                         "身份证号 id_number: the same ID number as line %d", first);
                bad = 1;
                add_error(&im, row->line, msg);
            }
        }
        if (bad) {
            im.bad[i / 8] |= (unsigned char)(1u << (i % 8));
            im.nbad++;
        }
    }
    free(ids.h);
    free(ids.line);
    /* Second pass: one transaction (rolled back on a dry run or any error,
     * so that the dry run also reports what only the database can tell). */
    if (rc == WOK) {
        int wrc = store_write(st, import_tx, &im);
        if (wrc != WOK && wrc != W_ECONFLICT)
            rc = e->rc ? e->rc : werr_set(e, wrc, "database_error", "the import failed");
        else if (wrc == W_ECONFLICT && !im.error_count && !im.dry_run)
            rc = werr_set(e, W_ECONFLICT, "database_error", "the import was rolled back");
    }
    if (rc == WOK)
        *report = json_pack(
            "{s:s, s:s, s:b, s:b, s:I, s:I, s:I, s:I, s:o, s:o, s:I, s:o}", "kind", kind,
            "encoding", im.encoding, "dry_run", dry_run, "committed", im.committed, "rows",
            (json_int_t)im.nrows, "created", (json_int_t)im.created, "updated",
            (json_int_t)im.updated, "unchanged", (json_int_t)im.unchanged, "columns", columns,
            "ignored_columns", ignored, "error_count", (json_int_t)im.error_count, "errors",
            im.errors);
    else {
        json_decref(columns);
        json_decref(ignored);
        json_decref(im.errors);
    }
    arena_free(&ar);
    free(im.bad);
    csv_close(r);
    free(r);
    return rc;
}

/* ---- export ------------------------------------------------------------------------ */

int import_export_rows(db *d, const principal *who, const char *kind, int unmask,
                       table_sink *out, int64_t *rows, werr *e)
{
    struct kind_info ki;
    if (kind_info(kind, &ki) != 0)
        return werr_set(e, W_EINVALID, "unknown_kind", "unknown kind '%s'", kind ? kind : "");
    switch (ki.k) {
    case K_PEOPLE: return reg_people_export(d, who, unmask, out, rows, e);
    case K_HOUSEHOLDS: return reg_households_export(d, who, out, rows, e);
    case K_STAFF: return roster_staff_export(d, who, out, rows, e);
    default: return reg_place_export(d, who, ki.place, out, rows, e);
    }
}

static int csv_row(void *ctx, const char *const *cells, int n)
{
    wbuf *b = ctx;
    for (int i = 0; i < n; i++) {
        if (i)
            wbuf_putc(b, ',');
        wbuf_csv(b, cells[i]);
    }
    wbuf_puts(b, "\r\n");
    return b->oom ? -1 : 0;
}

struct export_audit {
    const audit_actor *a;
    const char *kind, *format;
    int unmask;
    int64_t rows;
};

static int export_audit_tx(db *d, void *arg)
{
    struct export_audit *x = arg;
    char action[64];
    snprintf(action, sizeof action, "export.%s", x->kind);
    json_t *detail = json_pack("{s:s, s:b, s:I}", "format", x->format, "unmask", x->unmask,
                               "rows", (json_int_t)x->rows);
    int rc = audit_record(d, x->a, action, "export", x->kind, detail);
    json_decref(detail);
    return rc;
}

static int run_export(store *st, const audit_actor *a, const principal *who, const char *kind,
                      int unmask, const char *format, table_sink *sink, int64_t *rows, werr *e)
{
    if (!import_kind_known(kind))
        return werr_set(e, W_EINVALID, "unknown_kind", "unknown kind '%s'", kind ? kind : "");
    if (unmask && vault_ensure(st, e) != WOK)
        return e->rc;
    db *d = store_reader(st);
    if (!d)
        return werr_set(e, W_EINTERNAL, "database_unavailable", "database unavailable");
    int rc = import_export_rows(d, who, kind, unmask, sink, rows, e);
    store_release(st, d);
    if (rc != WOK)
        return rc;
    /* the export (and any full values in it) leaves only once it is on record */
    struct export_audit x = {a, kind, format, unmask && !strcmp(kind, "people"), *rows};
    if (store_write(st, export_audit_tx, &x) != WOK)
        return werr_set(e, W_EINTERNAL, "audit_failed", "cannot record the export");
    return WOK;
}

int import_export_csv(store *st, const audit_actor *a, const principal *who, const char *kind,
                      int unmask, wbuf *out, int64_t *rows, werr *e)
{
    wbuf_puts(out, "\xEF\xBB\xBF"); /* so that Excel reads UTF-8 */
    table_sink sink = {out, csv_row};
    int rc = run_export(st, a, who, kind, unmask, "csv", &sink, rows, e);
    if (rc == WOK && out->oom)
        rc = werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    return rc;
}

struct xlsx_ctx {
    lxw_worksheet *ws;
    lxw_format *bold;
    lxw_row_t row;
};

static int xlsx_row(void *ctx, const char *const *cells, int n)
{
    struct xlsx_ctx *x = ctx;
    if (x->row >= LXW_ROW_MAX)
        return -1;
    for (int i = 0; i < n; i++)
        if (cells[i] && *cells[i] &&
            worksheet_write_string(x->ws, x->row, (lxw_col_t)i, cells[i],
                                   x->row == 0 ? x->bold : NULL) != LXW_NO_ERROR)
            return -1;
    x->row++;
    return 0;
}

int import_export_xlsx(store *st, const audit_actor *a, const principal *who, const char *kind,
                       int unmask, const char *path, int64_t *rows, werr *e)
{
    lxw_workbook_options opt = {.constant_memory = LXW_TRUE, .tmpdir = NULL};
    lxw_workbook *wb = workbook_new_opt(path, &opt);
    if (!wb)
        return werr_set(e, W_EINTERNAL, "write_failed", "cannot create %s", path);
    struct xlsx_ctx x = {workbook_add_worksheet(wb, kind), workbook_add_format(wb), 0};
    format_set_bold(x.bold);
    table_sink sink = {&x, xlsx_row};
    int rc = run_export(st, a, who, kind, unmask, "xlsx", &sink, rows, e);
    if (workbook_close(wb) != LXW_NO_ERROR && rc == WOK)
        rc = werr_set(e, W_EINTERNAL, "write_failed", "cannot write %s", path);
    return rc;
}
