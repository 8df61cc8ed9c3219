/*
 * catalog — the event catalogue (事项清单): a tree of categories (大类 →
 * 小类) with stable codes, and per category the responsible department
 * (optionally overridden per grid code prefix, i.e. per street or
 * community), assisting departments, urgency levels with a response limit
 * (签收时限) and a completion limit (办结时限) each, in working or natural
 * hours, whether grid workers may resolve on the spot (即时办结) and the
 * level handling starts at (community / street / county).
 *
 * Versioned: every import or edit stores a new immutable version; orders
 * keep the version they were created under. The current version is cached
 * in memory (catalog_current) and refreshed when a new version is saved.
 * The JSON format is described in docs/orders.md.
 */
#ifndef WHISTLE_CATALOG_H
#define WHISTLE_CATALOG_H

#include <jansson.h>
#include <stdint.h>

#include "audit.h"
#include "err.h"
#include "store.h"

#define CAT_CODE_MAX 32
#define CAT_MAX_URGENCY 4
#define CAT_MAX_ASSIST 6
#define CAT_MAX_AREAS 16

enum { LEVEL_COMMUNITY = 0, LEVEL_STREET = 1, LEVEL_COUNTY = 2 };
const char *level_name(int level); /* "community" */
int level_parse(const char *s);     /* -1 when unknown */

struct cat_limit {
    char urgency[16];     /* normal | urgent | emergency */
    int response_minutes; /* 签收时限 */
    int complete_minutes; /* 办结时限 */
};

struct cat_category {
    char code[CAT_CODE_MAX];
    char parent[CAT_CODE_MAX]; /* "" for a top-level category (大类) */
    const char *name, *name_en, *icon; /* point into the parsed document */
    int leaf;                  /* 小类: orders are filed under leaves only */
    char dept[16];             /* department code, "" when none (manual dispatch) */
    int nassist;
    char assist[CAT_MAX_ASSIST][16];
    int nareas;                /* per street/community: grid code prefix → dept */
    struct {
        char prefix[32];
        char dept[16];
    } areas[CAT_MAX_AREAS];
    int nlimits;
    struct cat_limit limits[CAT_MAX_URGENCY];
    int working;               /* limits in working time (1) or natural time (0) */
    int onsite;                /* grid workers may resolve on the spot */
    int level;                 /* LEVEL_* handling starts at */
    int pause_on_extension;    /* the clock stops while an extension request waits */
};

typedef struct catalog {
    int version;
    int n;
    struct cat_category *cats;
    json_t *doc;          /* the parsed document (owns the strings) */
    char *public_json;    /* tree for the resident page: codes, names, icons */
    int refs;
} catalog;

/* Parses and validates a catalogue document. */
int catalog_parse(const char *json, size_t len, catalog **out, werr *e);
void catalog_free(catalog *c);

/* The current catalogue (loaded on first use; refreshed after a save).
 * Returns a reference: pass it to catalog_release. NULL when none. */
catalog *catalog_current(store *st);
void catalog_release(catalog *c);
/* One version (from the database), or NULL. Caller catalog_free()s. */
catalog *catalog_version(store *st, int version);

const struct cat_category *catalog_find(const catalog *c, const char *code);
/* The department code responsible for cat in the grid (area overrides
 * first, longest prefix wins), "" when none. */
const char *catalog_dept_for(const struct cat_category *cat, const char *grid_code);
/* The limits for an urgency (falls back to the first level). */
const struct cat_limit *catalog_limit(const struct cat_category *cat, const char *urgency);

/* Stores body as a new version (validated), then refreshes the cache. */
int catalog_save(store *st, const audit_actor *a, const char *json, size_t len, const char *note,
                 int *version, werr *e);
/* Replaces (or adds) one category in the current version → new version. */
int catalog_put_category(store *st, const audit_actor *a, const char *code, json_t *cat,
                         int *version, werr *e);
/* Stores data/catalog.json as version 1 when the catalogue is empty. */
int catalog_ensure_default(store *st, werr *e);
/* Versions, newest first: [{version, created_at, note}] */
int catalog_versions(db *d, json_t **out, werr *e);

#endif
