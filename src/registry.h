/*
 * registry — 基础信息 (SPEC §3): people (实有人口), households (户) with their
 * address down to building/unit/room, buildings (实有房屋), organisations,
 * enterprises and shops, public facilities (部件), household visits (入户走访).
 *
 * Privacy (vault.h): ID numbers and phones are sealed; lists and searches
 * always show masks; the full values come only from reg_person_get with
 * unmask (the caller checks the "registry.unmask" permission) and every
 * such read is audited. Scope: a grid-scoped caller sees only people and
 * households of their grid subtree (others are absent, not masked); a
 * department- or self-scoped caller sees none.
 *
 * Writes come in two steps so that bulk imports stay fast: *_prepare()
 * validates, normalises and encrypts outside the write transaction; *_put()
 * runs inside store_write() and resolves references, then upserts.
 */
#ifndef WHISTLE_REGISTRY_H
#define WHISTLE_REGISTRY_H

#include <jansson.h>
#include <stdint.h>

#include "audit.h"
#include "err.h"
#include "perm.h"
#include "store.h"
#include "vault.h"

/* ---- care tags (关爱标签) --------------------------------------------- */

typedef struct care_tag {
    const char *tag;     /* elderly_alone */
    const char *zh;      /* 独居老人 */
    int visit_days;      /* default interval between visits */
} care_tag;

extern const care_tag care_tags[]; /* ends with a NULL tag */
/* The tag for an English code or a Chinese label (and common synonyms). */
const care_tag *care_tag_find(const char *s);

/* ---- scope -------------------------------------------------------------- */

typedef struct reg_scope {
    int all;            /* sees everything */
    int none;           /* sees nothing (department, resident, device) */
    char lo[64], hi[64]; /* grid code range [lo, hi) of the subtree */
} reg_scope;

/* NULL principal: the system (CLI), which sees everything. */
void reg_scope_from(const principal *p, reg_scope *s);
/* Code range of a subtree: [prefix, prefix with its last character + 1). */
void reg_code_range(const char *prefix, char lo[64], char hi[64]);
int reg_scope_covers(const reg_scope *s, const char *grid_code);

/* ---- people ------------------------------------------------------------- */

/* Fields as they come from a form or a spreadsheet cell (strings, any may be
 * NULL or empty). */
typedef struct person_input {
    const char *name, *gender, *birth_date, *id_number, *phone, *residence, *relation,
        *ethnicity, *political, *hukou_address, *workplace, *tags, *status, *note;
    /* the household: an id, or an address (found or created) */
    int64_t household_id;
    const char *grid, *street, *compound, *building, *unit, *room;
} person_input;

/* A validated, normalised, encrypted person ready for reg_person_put.
 * Strings point into the input (which must outlive it) or into the fixed
 * buffers here. */
typedef struct reg_person {
    const char *name, *residence, *relation, *ethnicity, *political, *hukou_address, *workplace,
        *status, *note;
    char gender[2], birth_date[11], tags[200];
    int id_len, phone_len; /* sealed lengths; 0 when absent */
    unsigned char id_enc[18 + VAULT_SEAL_OVERHEAD], id_hash[VAULT_HASH_BYTES];
    unsigned char phone_enc[20 + VAULT_SEAL_OVERHEAD], phone_hash[VAULT_HASH_BYTES];
    char id_mask[19], phone_mask[21];
    int64_t household_id;
    const char *grid, *street, *compound, *building, *unit, *room;
} reg_person;

/* A normalised address: its parts, natural key and display form. */
typedef struct reg_addr {
    char street[128], compound[128], building[32], unit[32], room[32];
    char addr_key[420], address[420];
} reg_addr;

/* Validates and seals. On error e names the field ("phone: …"). */
int reg_person_prepare(const person_input *in, reg_person *out, werr *e);

enum { REG_CREATED = 1, REG_UPDATED = 2, REG_UNCHANGED = 3 };

/* Memo of grid references (code or name → id, code) for one transaction. */
typedef struct reg_grid_cache reg_grid_cache;
reg_grid_cache *reg_grid_cache_new(void);
void reg_grid_cache_free(reg_grid_cache *c);
/* Resolves a grid code or an (unambiguous) name, checking scope. */
int reg_grid_resolve(db *d, reg_grid_cache *c, const reg_scope *sc, const char *ref,
                     int64_t *id, const char **code, werr *e);

/* Inside a write transaction: upserts (by ID number, else by household and
 * name). *what receives REG_CREATED/UPDATED/UNCHANGED; *id the person. */
int reg_person_put(db *d, reg_grid_cache *gc, const reg_scope *sc, const reg_person *p,
                   int *what, int64_t *id, werr *e);
/* The person part of reg_person_put, the household (hid, in grid gid; 0
 * for none) already resolved. insert_first: only an INSERT … ON CONFLICT
 * (id_hash) DO NOTHING (bulk imports, where most people are new); *what is
 * 0 when nothing was inserted (the ID number is registered, or there is
 * none): then call again without insert_first for the full upsert. */
int reg_person_put_in(db *d, const reg_scope *sc, const reg_person *p, int64_t hid, int64_t gid,
                      int insert_first, int *what, int64_t *id, werr *e);

/* Creates or updates one person (a form), audited. */
int reg_person_save(store *st, const audit_actor *a, const principal *who, const person_input *in,
                    int64_t *id, int *what, werr *e);

/* One person, masked unless unmask (then the read is audited). W_ENOTFOUND
 * when absent or outside the caller's scope. */
int reg_person_get(store *st, const audit_actor *a, const principal *who, int64_t id, int unmask,
                   json_t **out, werr *e);

typedef struct person_query {
    const char *q;          /* auto: an ID number, a phone or a name */
    const char *name;       /* exact or prefix */
    const char *id_number;  /* exact (by keyed hash) */
    const char *phone;      /* exact (by keyed hash) */
    const char *address;    /* substring, 3+ characters */
    const char *grid;       /* code of a subtree */
    const char *tag;        /* care tag */
    const char *residence;  /* registered | floating | overseas */
    int64_t household_id;
    int64_t cursor;         /* a person id from next_cursor */
    int limit;
} person_query;

/* {items:[...], next_cursor} (masked). */
int reg_person_search(db *d, const principal *who, const person_query *q, json_t **out, werr *e);

/* ---- households --------------------------------------------------------- */

/* Normalises the parts of an address ("3栋" → "3", "2单元" → "2") and builds
 * the natural key and the display address. 0, or -1 when empty. */
int reg_address_norm(const char *street, const char *compound, const char *building,
                     const char *unit, const char *room, reg_addr *out);

typedef struct household_query {
    const char *address;    /* substring, 3+ characters */
    const char *grid;
    int64_t cursor;
    int limit;
} household_query;

int reg_household_search(db *d, const principal *who, const household_query *q, json_t **out,
                         werr *e);
/* A household with its members (masked) and latest visits. */
int reg_household_get(db *d, const principal *who, int64_t id, json_t **out, werr *e);
/* Inside a write transaction: upserts a household by its address (the
 * address parts and grid of p; kind, head_name, note optional). */
int reg_household_put(db *d, reg_grid_cache *gc, const reg_scope *sc, const reg_person *p,
                      const char *kind, const char *head_name, const char *note, int *what,
                      int64_t *id, werr *e);
/* The household of a person's address, created (or moved to the person's
 * grid) as reg_household_put does; *grid receives its grid (0 for none). */
int reg_household_of(db *d, reg_grid_cache *gc, const reg_scope *sc, const reg_person *p,
                     int64_t *id, int64_t *grid, werr *e);
/* Creates or updates a household by address (a form), audited. */
int reg_household_save(store *st, const audit_actor *a, const principal *who,
                       const person_input *addr, const char *kind, const char *head_name,
                       const char *note, int64_t *id, int *what, werr *e);
/* Recounts grids.people and grids.households (after bulk writes). */
int reg_recount_grids(db *d);

/* ---- visits (入户走访) ---------------------------------------------------- */

typedef struct visit_input {
    int64_t household_id;
    int64_t person_id;      /* optional: whom the visit was for */
    const char *visited_at; /* RFC 3339; NULL: now */
    const char *findings;   /* what was found */
    const char *needs;      /* what the household asked for */
} visit_input;

int reg_visit_add(store *st, const audit_actor *a, const principal *who, const visit_input *in,
                  int64_t *id, werr *e);
int reg_visit_list(db *d, const principal *who, int64_t household_id, json_t **out, werr *e);

/* Households with a member carrying `tag` (NULL: any care tag) not visited
 * within interval_days (≤0: the tag's default, 30 without a tag). */
int reg_visits_due(db *d, const principal *who, const char *tag, int interval_days,
                   const char *grid, int64_t cursor, int limit, json_t **out, werr *e);

/* ---- places: buildings, organisations, enterprises, facilities ----------- */

enum reg_col_type { RC_TEXT, RC_INT, RC_REAL, RC_GRID, RC_DEPT, RC_ENUM };

typedef struct reg_col {
    const char *key;         /* column and JSON name */
    const char *zh;          /* header written on export */
    const char *aliases;     /* other accepted headers, '|' separated */
    int type;
    int required;
    const char *const *values; /* RC_ENUM: allowed values (code|中文 pairs) */
} reg_col;

typedef struct reg_kind {
    const char *name;        /* "buildings" */
    const char *table;
    const char *code_prefix; /* auto codes: "B" + id */
    const char *label_zh;
    const reg_col *cols;     /* ends with a NULL key; cols[0] is "code" */
} reg_kind;

extern const reg_kind reg_kinds[]; /* ends with a NULL name */
const reg_kind *reg_kind_find(const char *name);
int reg_kind_ncols(const reg_kind *k);

/* One place row as strings (cells[i] for k->cols[i]) → typed values,
 * validated. Writes into the transaction; *what as for people. */
int reg_place_put(db *d, reg_grid_cache *gc, const reg_scope *sc, const reg_kind *k,
                  const char *const *cells, int *what, int64_t *id, werr *e);
/* Validates the cells without the database (for the dry run's first pass). */
int reg_place_check(const reg_kind *k, const char *const *cells, werr *e);
int reg_place_search(db *d, const principal *who, const reg_kind *k, const char *q,
                     const char *grid, int64_t cursor, int limit, json_t **out, werr *e);
int reg_place_get(db *d, const principal *who, const reg_kind *k, int64_t id, json_t **out,
                  werr *e);
int reg_place_save(store *st, const audit_actor *a, const principal *who, const reg_kind *k,
                   json_t *body, int64_t *id, werr *e);

/* ---- export ------------------------------------------------------------- */

/* A sink for tabular output (CSV or XLSX). */
typedef struct table_sink {
    void *ctx;
    int (*row)(void *ctx, const char *const *cells, int n); /* first call: the header */
} table_sink;

/* The columns of people and households export/import (Chinese headers
 * and the aliases accepted on import), in export order. */
extern const reg_col reg_people_cols[];
extern const reg_col reg_household_cols[];
int reg_people_export(db *d, const principal *who, int unmask, table_sink *out, int64_t *rows,
                      werr *e);
int reg_households_export(db *d, const principal *who, table_sink *out, int64_t *rows, werr *e);
int reg_place_export(db *d, const principal *who, const reg_kind *k, table_sink *out,
                     int64_t *rows, werr *e);

/* The registry part of `whistle demo` (demo_registry.c): households,
 * people, visits, places, party organisations in the deepest active grids
 * (those of demo_grids). scale: small (~5,000 households), county
 * (~50,000), city (~800,000). */
int demo_registry(store *st, const audit_actor *a, unsigned seed, const char *scale, werr *e);

/* Small helpers shared with import and roster. */
/* Trims ASCII and full-width spaces, Excel's ="…" and a leading ' before
 * a formula character, in place; returns s. */
char *reg_clean_cell(char *s);
/* Parses dates as people write them (1990-01-02, 1990/1/2, 19900102,
 * 1990年1月2日, 1990.1.2) into "YYYY-MM-DD"; 0 or -1. */
int reg_parse_date(const char *s, char out[11]);

#endif
