#include "import.h"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>
#include <stdint.h>
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

/* Blocks are kept in allocation order and reused after arena_reset, so a
 * chunk of rows refilled a thousand times does not return its memory to
 * the system (and fault it in again) each time. */
struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    char data[];
};

typedef struct arena {
    struct arena_block *first, *cur;
} arena;

#define ARENA_BLOCK (1u << 20)

/* n bytes owned by a (freed by arena_free), or NULL out of memory. */
static void *arena_alloc(arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    while (a->cur && a->cur->used + n > a->cur->cap && a->cur->next) {
        a->cur = a->cur->next;
        a->cur->used = 0;
    }
    if (!a->cur || a->cur->used + n > a->cur->cap) {
        size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        struct arena_block *b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->used = 0;
        b->cap = cap;
        /* after the current block: the blocks behind it stay for reuse */
        b->next = a->cur ? a->cur->next : NULL;
        if (a->cur)
            a->cur->next = b;
        else
            a->first = b;
        a->cur = b;
    }
    void *p = a->cur->data + a->cur->used;
    a->cur->used += n;
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

/* Forgets every allocation, keeping the blocks. */
static void arena_reset(arena *a)
{
    a->cur = a->first;
    if (a->cur)
        a->cur->used = 0;
}

static void arena_free(arena *a)
{
    while (a->first) {
        struct arena_block *n = a->first->next;
        free(a->first);
        a->first = n;
    }
    a->cur = NULL;
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
    const char **cells;
    reg_person *p;
    const char *hkind;    /* households: kind code */
    const char *addr_key; /* people: the normalised address (in the chunk), or NULL */
    uint64_t addr_h;      /* its hash64 */
};

/* Refused rows and their messages, in the order they were found. */
struct errlist {
    json_t *a; /* owned; at most IMPORT_MAX_ERRORS entries */
    int64_t n; /* all of them */
};

struct imp {
    const audit_actor *a;
    const principal *who;
    reg_scope sc;
    struct kind_info ki;
    int ncols;
    /* the records after the header, read (once) inside the transaction */
    csv_reader start;
    const int *map;
    int nheader;
    int dry_run;
    size_t lines;       /* line ends after the header (bulk or not) */
    const char *mapped; /* the file mapping the records are read from, or NULL */
    size_t mapped_len;
    const char *kind, *source, *encoding;
    /* outputs of import_tx (reset when it runs again) */
    size_t nrows;          /* records after the header */
    struct errlist checks; /* refused by the reader (validation, same ID twice, malformed) */
    struct errlist writes; /* refused by the database (grid, scope, conflicts) */
    int64_t created, updated, unchanged;
    int committed;
    werr *e;
};

static void add_error(struct errlist *l, int line, const char *msg)
{
    l->n++;
    if (json_array_size(l->a) < IMPORT_MAX_ERRORS) {
        json_t *x = json_pack("{s:i, s:s}", "line", line, "message", msg);
        if (!x) /* a message cut inside a UTF-8 sequence */
            x = json_pack("{s:i, s:s}", "line", line, "message", "invalid value");
        json_array_append_new(l->a, x);
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

/* FNV-1a of s. */
static uint64_t hash64(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Validates and seals one row (no database). */
static int prepare_row(const struct imp *im, struct row *r, arena *ar, werr *e)
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
        int rc = reg_person_prepare(&in, r->p, e);
        reg_addr ad;
        if (rc != WOK ||
            reg_address_norm(in.street, in.compound, in.building, in.unit, in.room, &ad) != 0)
            return rc;
        /* the writer's key for its memo of households, made here (off the writer) */
        if (!(r->addr_key = arena_strdup(ar, ad.addr_key)))
            return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
        r->addr_h = hash64(ad.addr_key);
        return WOK;
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

/* ---- households of people: a memo of addresses ------------------------------
 *
 * People of one flat usually come together (three lines for one address):
 * the writer remembers the household (id and grid) of the addresses it has
 * seen, so that only the first person of an address looks the household up
 * or creates it. It is a cache, not the truth: it is emptied when half
 * full and a miss takes the full path (reg_household_of). An entry cannot
 * go stale inside the transaction: a household's address never changes
 * during an import, and its grid changes only through this writer.
 *
 * Moves are deferred. A person whose grid differs from the household's
 * moves the household and all its people to that grid (reg_household_put);
 * a file that lists an address again under another grid would rewrite the
 * household's people at every such line. Instead the entry takes the new
 * grid and is marked moved; the moved households are written (household
 * and people, as reg_household_put writes them, with the time of the last
 * move) when the memo is emptied, before anything reads a person that
 * already existed (hc_flush), and at the end. Until then the only reader
 * of those rows is this memo, so the outcome is the same row for row. */
#define HC_SLOTS (1u << 16)

struct hc_entry {
    uint64_t h;
    const char *key; /* in hc->keys; NULL for a free slot */
    int64_t id, grid;
    int64_t moved_at; /* the last deferred move (clock_now), 0 for none */
};

struct hcache {
    struct hc_entry *e;      /* HC_SLOTS entries, owned */
    struct hc_entry **moved; /* HC_SLOTS / 2 (at most n), owned: entries with moved_at */
    size_t n, nmoved;
    arena keys;            /* owns the keys */
    int64_t people_before; /* bulk: the largest people.id before the import, else -1 */
};

/* The entry of key, or the free slot where it would go. */
static struct hc_entry *hc_slot(struct hcache *c, const char *key, uint64_t h)
{
    for (size_t i = h & (HC_SLOTS - 1);; i = (i + 1) & (HC_SLOTS - 1)) {
        struct hc_entry *x = &c->e[i];
        if (!x->key || (x->h == h && !strcmp(x->key, key)))
            return x;
    }
}

/* The largest people.id (0 for none). */
static int people_max_id(db *d, int64_t *out)
{
    db_stmt *s = db_query(d, "SELECT coalesce(max(id), 0) FROM people", "");
    int rc = s && db_step(s) == DB_ROW ? WOK : W_EINTERNAL;
    if (rc == WOK)
        *out = db_col_int64(s, 0);
    db_done(s);
    return rc;
}

/* Writes the deferred moves. The last flush of a bulk import with many
 * moves rewrites the people added by the import in one pass in id order
 * (table order) rather than household by household (random pages, each
 * page rewritten once per household on it): every person added by the
 * import has its household's grid at the end (it was inserted with the
 * household's grid then, and each move since is either deferred and
 * written here or was written for all the household's people), so setting
 * it from the household changes exactly the rows the moves would. */
static int hc_flush(db *d, struct hcache *c, int last, werr *e)
{
    int one_pass = last && c->people_before >= 0 && c->nmoved >= 256;
    for (size_t i = 0; i < c->nmoved; i++) {
        struct hc_entry *x = c->moved[i];
        char when[32];
        clock_format(x->moved_at, when);
        if (db_exec(d, "UPDATE households SET grid_id = ?, updated_at = ? WHERE id = ?", "ItI",
                    x->grid, when, x->id) != WOK ||
            (one_pass
                 ? db_exec(d, "UPDATE people SET grid_id = ? WHERE household_id = ? AND id <= ?",
                           "III", x->grid, x->id, c->people_before)
                 : db_exec(d, "UPDATE people SET grid_id = ? WHERE household_id = ?", "II", x->grid,
                           x->id)) != WOK)
            return werr_set(e, W_EINTERNAL, "database_error", "cannot move household");
        x->moved_at = 0;
    }
    c->nmoved = 0;
    int64_t last_id = 0;
    if (one_pass && people_max_id(d, &last_id) != WOK)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot move household");
    /* in slices: the statement journal (in memory) of one UPDATE of a
     * million rows would hold a copy of every page it changes */
    for (int64_t from = c->people_before; one_pass && from < last_id; from += 16384)
        if (db_exec(d,
                    "UPDATE people SET grid_id = (SELECT h.grid_id FROM households h WHERE h.id = "
                    "people.household_id) WHERE id > ? AND id <= ? AND coalesce(grid_id, 0) <> "
                    "coalesce((SELECT h.grid_id FROM households h WHERE h.id = "
                    "people.household_id), 0)",
                    "II", from, from + 16384) != WOK)
            return werr_set(e, W_EINTERNAL, "database_error", "cannot move household");
    return WOK;
}

/* Remembers key → (id, grid); empties the memo first when half full.
 * Out of memory it remembers nothing (the memo is only a shortcut). */
static int hc_put(db *d, struct hcache *c, const char *key, uint64_t h, int64_t id, int64_t grid,
                  werr *e)
{
    if (c->n >= HC_SLOTS / 2) {
        int rc = hc_flush(d, c, 0, e);
        if (rc != WOK)
            return rc;
        memset(c->e, 0, sizeof *c->e * HC_SLOTS);
        arena_reset(&c->keys);
        c->n = 0;
    }
    struct hc_entry *x = hc_slot(c, key, h);
    if (!(x->key = arena_strdup(&c->keys, key)))
        return WOK;
    x->h = h;
    x->id = id;
    x->grid = grid;
    x->moved_at = 0;
    c->n++;
    return WOK;
}

/* One person of an import: the household from the memo when its address was
 * seen, else as reg_person_put finds or creates it; then the person, trying
 * an insert first. Same outcome, messages and checks as reg_person_put. */
static int put_person(db *d, struct imp *im, reg_grid_cache *gc, struct hcache *hc,
                      const struct row *r, int *what, werr *e)
{
    const reg_person *p = r->p;
    int64_t hid = 0, gid = 0, id;
    int rc;
    if (p->household_id || !r->addr_key) {
        if ((rc = hc_flush(d, hc, 0, e)) != WOK)
            return rc;
        return reg_person_put(d, gc, &im->sc, p, what, &id, e);
    }
    uint64_t h = r->addr_h;
    struct hc_entry *x = hc_slot(hc, r->addr_key, h);
    if (x->key) {
        hid = x->id;
        gid = x->grid;
        if (p->grid) {
            /* the check reg_household_put makes first; then its move, deferred */
            int64_t g;
            const char *code;
            if ((rc = reg_grid_resolve(d, gc, &im->sc, p->grid, &g, &code, e)) != WOK)
                return rc;
            if (g != gid) {
                if (!x->moved_at)
                    hc->moved[hc->nmoved++] = x;
                x->moved_at = clock_now();
                x->grid = gid = g;
            }
        }
    } else {
        if ((rc = reg_household_of(d, gc, &im->sc, p, &hid, &gid, e)) != WOK ||
            (rc = hc_put(d, hc, r->addr_key, h, hid, gid, e)) != WOK)
            return rc;
    }
    if ((rc = reg_person_put_in(d, &im->sc, p, hid, gid, 1, what, &id, e)) != WOK || *what)
        return rc;
    /* the ID number is registered: that person is read, after the deferred
     * moves are written (one of them may be that person's household) */
    if ((rc = hc_flush(d, hc, 0, e)) != WOK)
        return rc;
    return reg_person_put_in(d, &im->sc, p, hid, gid, 0, what, &id, e);
}

static int put_row(db *d, struct imp *im, reg_grid_cache *gc, struct hcache *hc, struct row *r,
                   int *what, werr *e)
{
    int64_t id;
    const char **c = r->cells;
    switch (im->ki.k) {
    case K_PEOPLE:
        return put_person(d, im, gc, hc, r, what, e);
    case K_HOUSEHOLDS:
        return reg_household_put(d, gc, &im->sc, r->p, r->hkind, c[7] && *c[7] ? c[7] : NULL,
                                 c[8] && *c[8] ? c[8] : NULL, what, &id, e);
    case K_STAFF: return roster_staff_put(d, gc, &im->sc, c, what, &id, e);
    default: return reg_place_put(d, gc, &im->sc, im->ki.place, c, what, &id, e);
    }
}

/* ---- bulk imports: secondary indexes and the address index rebuilt once -------
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
 * without an ID number, moving a household).
 *
 * Likewise the trigger that adds each new household to the address search
 * (households_fts_ai) is dropped, and the households added since are put
 * into households_fts with one INSERT … SELECT before it is created again.
 * An import never changes or deletes a household's address, and new
 * households get ids above every existing one (INTEGER PRIMARY KEY without
 * gaps reused inside one transaction), so "id above the largest before"
 * is exactly the set the trigger would have indexed. */
#define BULK_ROWS 20000

struct bulk {
    int n;
    char *name[16], *sql[16]; /* owned */
    char *fts_trigger;        /* owned: households_fts_ai's CREATE statement, when dropped */
    int64_t fts_from;         /* the largest household id before the trigger was dropped */
};

/* Recreates what bulk_begin dropped (when rc is WOK); frees b. */
static int bulk_end(db *d, struct bulk *b, int rc)
{
    for (int i = 0; i < b->n; i++) {
        if (rc == WOK && db_exec(d, b->sql[i], "") != WOK)
            rc = W_EINTERNAL;
        free(b->name[i]);
        free(b->sql[i]);
    }
    b->n = 0;
    if (b->fts_trigger) {
        if (rc == WOK &&
            (db_exec(d,
                     "INSERT INTO households_fts (rowid, address) SELECT id, address FROM "
                     "households WHERE id > ?",
                     "I", b->fts_from) != WOK ||
             db_exec(d, b->fts_trigger, "") != WOK))
            rc = W_EINTERNAL;
        free(b->fts_trigger);
        b->fts_trigger = NULL;
    }
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA cache_size=-%d", STORE_WRITER_CACHE_KB);
    if (db_exec(d, pragma, "") != WOK && rc == WOK)
        rc = W_EINTERNAL;
    return rc;
}

/* Drops what a bulk import rebuilds at the end; on failure the caller
 * still calls bulk_end (to free b) and rolls back. */
static int bulk_begin(db *d, struct bulk *b)
{
    memset(b, 0, sizeof *b);
    /* The people indexes' random keys: a bulk import keeps twice the
     * writer's usual cache while it runs (1M people: 10–20% faster than
     * with 32 MB), and bulk_end gives it back. */
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA cache_size=-%d", 2 * STORE_WRITER_CACHE_KB);
    if (db_exec(d, pragma, "") != WOK)
        return W_EINTERNAL;
    db_stmt *s = db_query(d, "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                             "tbl_name IN ('people', 'households') AND sql IS NOT NULL AND "
                             "name <> 'people_household' ORDER BY name", "");
    if (!s)
        return W_EINTERNAL;
    int rc = WOK;
    while (db_step(s) == DB_ROW && b->n < 16) {
        b->name[b->n] = strdup(db_col_text(s, 0));
        b->sql[b->n] = strdup(db_col_text(s, 1));
        if (!b->name[b->n] || !b->sql[b->n]) {
            free(b->name[b->n]);
            free(b->sql[b->n]);
            rc = W_EINTERNAL;
            break;
        }
        b->n++;
    }
    db_done(s);
    for (int i = 0; rc == WOK && i < b->n; i++) {
        char sql[200];
        snprintf(sql, sizeof sql, "DROP INDEX \"%s\"", b->name[i]);
        if (db_exec(d, sql, "") != WOK)
            rc = W_EINTERNAL;
    }
    if (rc != WOK)
        return rc;
    char *trigger = NULL;
    s = db_query(d,
                 "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = "
                 "'households_fts_ai'",
                 "");
    if (!s)
        return W_EINTERNAL;
    if (db_step(s) == DB_ROW && db_col_text(s, 0) && !(trigger = strdup(db_col_text(s, 0))))
        rc = W_EINTERNAL;
    db_done(s);
    if (rc != WOK || !trigger)
        return rc; /* no trigger (an older schema): nothing to do */
    s = db_query(d, "SELECT coalesce(max(id), 0) FROM households", "");
    if (!s || db_step(s) != DB_ROW) {
        db_done(s);
        free(trigger);
        return W_EINTERNAL;
    }
    b->fts_from = db_col_int64(s, 0);
    db_done(s);
    if (db_exec(d, "DROP TRIGGER households_fts_ai", "") != WOK) {
        free(trigger);
        return W_EINTERNAL;
    }
    b->fts_trigger = trigger;
    return WOK;
}

/* ---- the reader: parses, checks and seals rows on its own thread -------------
 *
 * The writer's transaction reads the file once: a reader thread parses,
 * validates and seals the rows (the CPU-heavy part without the database)
 * into a ring of chunks while the writer stores the chunks before it. The
 * reader is started and joined inside each run of import_tx, so a run
 * again (store_write's re-run) reads the file again from the start. The
 * refused rows are not passed on: their messages go into the reader's own
 * error list, which the writer reads only after the join. */

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

#define CHUNK_ROWS 2048 /* records read into one chunk */
#define NCHUNKS 4

struct chunk {
    arena ar; /* owns the cells and prepared people of the rows */
    int n;    /* good rows */
    struct row rows[CHUNK_ROWS];
};

struct feed {
    const struct imp *im; /* read only */
    csv_reader rd;        /* owns its field buffer */
    struct idset ids;     /* people: ID hashes seen */
    struct errlist errs;  /* owned until feed_stop hands it over */
    size_t nrows;
    size_t dropped; /* bytes of im->mapped given back to the kernel */
    int failed;     /* out of memory, no key: fail is why */
    werr fail;
    /* the ring; below, shared by both threads under mu */
    struct chunk *ring[NCHUNKS];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t produced, consumed;
    int done, stop, threaded;
    pthread_t th;
};

/* Gives the pages of a file mapping that the reader has passed back to the
 * kernel (they are read from the file again if this import runs again):
 * the file does not stay resident as a whole. */
static void drop_read(struct feed *f)
{
    const char *base = f->im->mapped;
    if (!base || f->rd.p < base || f->rd.p > base + f->im->mapped_len)
        return; /* not a mapping, or the records were converted (another encoding) */
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t upto = (size_t)(f->rd.p - base) / page * page;
    if (upto >= f->dropped + (4u << 20)) {
        madvise((char *)base + f->dropped, upto - f->dropped, MADV_DONTNEED);
        f->dropped = upto;
    }
}

/* Reads up to CHUNK_ROWS records into c (reader side). Returns 1 when more
 * may follow, 0 at the end of the input or after a malformed record or a
 * failure (f->failed). Mirrors what the writer needs: the good rows only. */
static int feed_fill(struct feed *f, struct chunk *c)
{
    const struct imp *im = f->im;
    arena_reset(&c->ar);
    c->n = 0;
    for (int k = 0; k < CHUNK_ROWS; k++) {
        int got = csv_next(&f->rd);
        if (got == 0)
            return 0;
        if (got < 0) {
            add_error(&f->errs, f->rd.record_line, f->rd.error);
            return 0;
        }
        f->nrows++;
        struct row *row = &c->rows[c->n];
        if (load_row(im, &f->rd, &c->ar, row) != WOK) {
            werr_set(&f->fail, W_EINTERNAL, "out_of_memory", "out of memory");
            f->failed = 1;
            return 0;
        }
        werr re = {0};
        if (prepare_row(im, row, &c->ar, &re) != WOK) {
            add_error(&f->errs, row->line, re.message);
            if (re.rc == W_EINTERNAL) {
                werr_set(&f->fail, re.rc, re.code, "%s", re.message);
                f->failed = 1;
                return 0;
            }
            continue;
        }
        if (im->ki.k == K_PEOPLE && row->p->id_len) {
            int first = idset_add(&f->ids, row->p->id_hash, row->line);
            if (first < 0) {
                werr_set(&f->fail, W_EINTERNAL, "out_of_memory", "out of memory");
                f->failed = 1;
                return 0;
            }
            if (first) {
                char msg[160];
                snprintf(msg, sizeof msg, "身份证号 id_number: the same ID number as line %d",
                         first);
                add_error(&f->errs, row->line, msg);
                continue;
            }
        }
        c->n++;
    }
    drop_read(f);
    return 1;
}

static void *feed_main(void *arg)
{
    struct feed *f = arg;
    for (;;) {
        pthread_mutex_lock(&f->mu);
        while (f->produced - f->consumed == NCHUNKS && !f->stop)
            pthread_cond_wait(&f->cv, &f->mu);
        int stop = f->stop;
        struct chunk *c = f->ring[f->produced % NCHUNKS];
        pthread_mutex_unlock(&f->mu);
        if (stop)
            break;
        int more = feed_fill(f, c);
        pthread_mutex_lock(&f->mu);
        f->produced++;
        f->done = !more;
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
        if (!more)
            break;
    }
    return NULL;
}

static void feed_free(struct feed *f)
{
    for (int i = 0; i < NCHUNKS; i++)
        if (f->ring[i]) {
            arena_free(&f->ring[i]->ar);
            free(f->ring[i]);
        }
    free(f->ids.h);
    free(f->ids.line);
    json_decref(f->errs.a);
    csv_close(&f->rd);
    free(f);
}

/* A reader over im's records, running on its own thread when one can be
 * started (else the writer fills each chunk itself). NULL out of memory;
 * the result is freed by feed_stop. */
static struct feed *feed_start(const struct imp *im)
{
    struct feed *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->im = im;
    f->rd = im->start; /* a fresh reader: this may be the second run */
    f->rd.owned = f->rd.buf = NULL;
    f->rd.buf_len = f->rd.buf_cap = 0;
    int ok = (f->errs.a = json_array()) != NULL;
    if (ok && im->ki.k == K_PEOPLE)
        ok = idset_init(&f->ids, 1u << 14) == 0;
    for (int i = 0; ok && i < NCHUNKS; i++)
        ok = (f->ring[i] = calloc(1, sizeof *f->ring[i])) != NULL;
    if (!ok) {
        feed_free(f);
        return NULL;
    }
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    f->threaded = pthread_create(&f->th, NULL, feed_main, f) == 0;
    return f;
}

/* The next chunk for the writer, or NULL when there is none left. */
static struct chunk *feed_next(struct feed *f)
{
    if (!f->threaded) {
        if (f->done)
            return NULL;
        f->done = !feed_fill(f, f->ring[0]);
        return f->ring[0];
    }
    pthread_mutex_lock(&f->mu);
    while (f->consumed == f->produced && !f->done)
        pthread_cond_wait(&f->cv, &f->mu);
    struct chunk *c = f->consumed < f->produced ? f->ring[f->consumed % NCHUNKS] : NULL;
    pthread_mutex_unlock(&f->mu);
    return c;
}

/* The writer is done with the chunk feed_next gave. */
static void feed_release(struct feed *f)
{
    if (!f->threaded)
        return;
    pthread_mutex_lock(&f->mu);
    f->consumed++;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

/* Stops and joins the reader, hands its results to im (errors, rows) and
 * fail (when it failed), frees f. Returns WOK or the reader's failure. */
static int feed_stop(struct feed *f, struct imp *im, werr *fail)
{
    if (f->threaded) {
        pthread_mutex_lock(&f->mu);
        f->stop = 1;
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
        pthread_join(f->th, NULL);
    }
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    json_decref(im->checks.a);
    im->checks = f->errs;
    f->errs.a = NULL;
    im->nrows = f->nrows;
    int rc = WOK;
    if (f->failed) {
        *fail = f->fail;
        rc = f->fail.rc ? f->fail.rc : W_EINTERNAL;
    }
    feed_free(f);
    return rc;
}

/* ---- the transaction ---------------------------------------------------------------- */

/* Line ends left in r's input: the records, give or take quoted line breaks. */
static size_t lines_after(const csv_reader *r)
{
    size_t n = 0;
    char eol = memchr(r->p, '\n', (size_t)(r->end - r->p)) ? '\n' : '\r';
    for (const char *p = r->p; p < r->end; n++) {
        p = memchr(p, eol, (size_t)(r->end - p));
        if (!p)
            break;
        p++;
    }
    return n;
}

static int import_tx(db *d, void *arg)
{
    struct imp *im = arg;
    /* this fn may run twice: outputs start afresh */
    im->created = im->updated = im->unchanged = 0;
    im->nrows = 0;
    im->checks.n = 0;
    json_array_clear(im->checks.a);
    im->writes.n = 0;
    json_array_clear(im->writes.a);
    int bulk_kind = im->ki.k == K_PEOPLE || im->ki.k == K_HOUSEHOLDS;
    reg_grid_cache *gc = reg_grid_cache_new();
    struct hcache hc = {0};
    if (im->ki.k == K_PEOPLE) {
        hc.e = calloc(HC_SLOTS, sizeof *hc.e);
        hc.moved = calloc(HC_SLOTS / 2, sizeof *hc.moved);
    }
    struct feed *f = gc && ((hc.e && hc.moved) || im->ki.k != K_PEOPLE) ? feed_start(im) : NULL;
    if (!f) {
        reg_grid_cache_free(gc);
        free(hc.e);
        free(hc.moved);
        return werr_set(im->e, W_EINTERNAL, "out_of_memory", "out of memory");
    }
    /* large enough (by its lines: before the first row is written, so that
     * no trigger has run into households_fts yet): indexes rebuilt at the end */
    struct bulk bulk = {0};
    int rc = WOK, stop = 0;
    hc.people_before = -1;
    if (bulk_kind && im->lines >= BULK_ROWS &&
        (bulk_begin(d, &bulk) != WOK || (hc.e && people_max_id(d, &hc.people_before) != WOK)))
        rc = werr_set(im->e, W_EINTERNAL, "database_error", "cannot prepare the bulk import");
    struct chunk *c;
    /* after an internal error the rest is still read, for the report */
    while (rc == WOK && (c = feed_next(f))) {
        for (int k = 0; k < c->n && !stop; k++) {
            struct row *r = &c->rows[k];
            int what = 0;
            werr e = {0};
            if (put_row(d, im, gc, &hc, r, &what, &e) != WOK) {
                add_error(&im->writes, r->line, e.message);
                stop = e.rc == W_EINTERNAL;
                continue;
            }
            if (what == REG_CREATED)
                im->created++;
            else if (what == REG_UPDATED)
                im->updated++;
            else
                im->unchanged++;
        }
        feed_release(f);
    }
    werr fail = {0};
    int frc = feed_stop(f, im, &fail);
    if (rc == WOK && hc.e && hc_flush(d, &hc, 1, &fail) != WOK)
        rc = werr_set(im->e, fail.rc, fail.code, "%s", fail.message);
    reg_grid_cache_free(gc);
    free(hc.e);
    free(hc.moved);
    arena_free(&hc.keys);
    if (frc != WOK && rc == WOK)
        rc = werr_set(im->e, frc, fail.code[0] ? fail.code : "internal", "%s", fail.message);
    rc = bulk_end(d, &bulk, rc);
    if (rc != WOK)
        return im->e->rc
                   ? im->e->rc
                   : werr_set(im->e, W_EINTERNAL, "database_error", "cannot rebuild the indexes");
    if (im->checks.n || im->writes.n || im->dry_run)
        return W_ECONFLICT; /* roll back: nothing of this import is kept */
    if (im->ki.k != K_STAFF && reg_recount_grids(d) != WOK)
        return werr_set(im->e, W_EINTERNAL, "database_error", "cannot recount grids");
    char action[64];
    snprintf(action, sizeof action, "import.%s", im->kind);
    json_t *detail =
        json_pack("{s:I, s:I, s:I, s:I, s:s?, s:s}", "rows", (json_int_t)im->nrows, "created",
                  (json_int_t)im->created, "updated", (json_int_t)im->updated, "unchanged",
                  (json_int_t)im->unchanged, "source", im->source, "encoding", im->encoding);
    rc = audit_record(d, im->a, action, "import", im->kind, detail);
    json_decref(detail);
    if (rc != WOK)
        return werr_set(im->e, W_EINTERNAL, "database_error", "cannot audit the import");
    im->committed = 1;
    return WOK;
}

static int import_run(store *st, const audit_actor *a, const principal *who, const char *kind,
                      const char *data, size_t len, int mapped, int dry_run, const char *source,
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
    im.lines = lines_after(r);
    if (mapped) {
        /* the checks above read the whole file: let it go until it is read */
        im.mapped = data;
        im.mapped_len = len;
        madvise((void *)data, len, MADV_DONTNEED);
    }
    im.writes.a = json_array();
    if (rc == WOK && !im.writes.a)
        rc = werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    /* One transaction reads, checks and writes every row (rolled back on a
     * dry run or any error, so that the dry run also reports what only the
     * database can tell). */
    if (rc == WOK) {
        int wrc = store_write(st, import_tx, &im);
        if (wrc != WOK && wrc != W_ECONFLICT)
            rc = e->rc ? e->rc : werr_set(e, wrc, "database_error", "the import failed");
        else if (wrc == W_ECONFLICT && !im.checks.n && !im.writes.n && !im.dry_run)
            rc = werr_set(e, W_ECONFLICT, "database_error", "the import was rolled back");
    }
    json_t *errors = NULL;
    if (rc == WOK) {
        /* the reader's refusals first, then the database's (as two passes
         * over the file reported them) */
        errors = im.checks.a ? im.checks.a : json_array();
        im.checks.a = NULL;
        for (size_t i = 0; errors && i < json_array_size(im.writes.a) &&
                           json_array_size(errors) < IMPORT_MAX_ERRORS;
             i++)
            json_array_append(errors, json_array_get(im.writes.a, i));
        if (!errors)
            rc = werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    }
    if (rc == WOK)
        *report =
            json_pack("{s:s, s:s, s:b, s:b, s:I, s:I, s:I, s:I, s:o, s:o, s:I, s:o}", "kind", kind,
                      "encoding", im.encoding, "dry_run", dry_run, "committed", im.committed,
                      "rows", (json_int_t)im.nrows, "created", (json_int_t)im.created, "updated",
                      (json_int_t)im.updated, "unchanged", (json_int_t)im.unchanged, "columns",
                      columns, "ignored_columns", ignored, "error_count",
                      (json_int_t)(im.checks.n + im.writes.n), "errors", errors);
    else {
        json_decref(columns);
        json_decref(ignored);
    }
    json_decref(im.checks.a);
    json_decref(im.writes.a);
    csv_close(r);
    free(r);
    return rc;
}

int import_registry(store *st, const audit_actor *a, const principal *who, const char *kind,
                    const char *data, size_t len, int dry_run, const char *source, json_t **report,
                    werr *e)
{
    return import_run(st, a, who, kind, data, len, 0, dry_run, source, report, e);
}

int import_registry_mapped(store *st, const audit_actor *a, const principal *who, const char *kind,
                           const char *map, size_t len, int dry_run, const char *source,
                           json_t **report, werr *e)
{
    return import_run(st, a, who, kind, map, len, 1, dry_run, source, report, e);
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
