/*
 * locate.c — the process-wide point → grid index (contract in locate.h).
 *
 * A snapshot holds every active grid with a polygon, sorted deepest first
 * (then by code), and a uniform bucket grid over their bounding boxes:
 * each bucket lists the grids whose bounding box touches it, in that order.
 * A query hashes the point to its bucket and tests the candidates exactly;
 * the first hit is the deepest grid. The bucket size is chosen from the
 * number of grids (about two buckets per grid), so a bucket holds a few
 * candidates per level whether there are 100 or 100,000 grids.
 *
 * Snapshots are immutable. Readers hold a read lock for the few
 * microseconds of a query; a rebuild happens outside the lock and swaps the
 * pointer under the write lock.
 */
#include "locate.h"

#include <math.h>
#include <pthread.h>
#include <sys/mman.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "geo.h"
#include "log.h"

#define MAX_CELLS (1 << 22)
#define DB_CHECK_NS 1000000000LL /* look at grid_meta at most once a second */

struct entry {
    int64_t id;
    int depth;
    unsigned short code_len, name_len;
    char *code, *name;
    geo_shape *g;
};

/* A grid as the index keeps it: one block of the arena holding the
 * header, the polygon's arrays and the code and name, so that testing a
 * candidate and answering touch a few neighbouring cache lines. */
struct blk {
    int64_t id;
    int depth;
    unsigned short code_len, name_len;
    const char *code, *name;
    geo_shape g; /* its arrays point into this block */
};

/* A bucket's candidate, with its bounding box inline (in floats rounded
 * outwards: a filter, never a verdict) so that most candidates are rejected
 * without touching their polygon; 20 bytes, so a bucket fits a few cache
 * lines. blk16 is the block's offset in the arena in units of 16 bytes. */
struct cand {
    float min_lng, min_lat, max_lng, max_lat;
    uint32_t blk16;
};

static float down(double v)
{
    float f = (float)v;
    return (double)f > v ? nextafterf(f, -INFINITY) : f;
}

static float up(double v)
{
    float f = (float)v;
    return (double)f < v ? nextafterf(f, INFINITY) : f;
}

struct snapshot {
    int n;
    struct entry *e; /* only while building */
    char *arena;     /* the blocks, in entry order (deepest first, then by code) */
    size_t arena_size;
    double x0, y0, cw, ch;
    int nx, ny;
    int *cell_start; /* nx*ny + 1 */
    struct cand *cell_items;
    size_t cell_start_size, cell_items_size; /* bytes mapped (huge_alloc) */
    uint64_t local_gen;
    int64_t db_gen;
};

typedef struct locator {
    store *st;
    struct locator *next;
    pthread_rwlock_t rw;
    pthread_mutex_t build_mu;
    struct snapshot *snap; /* under rw */
    _Atomic uint64_t local_gen;
    _Atomic int64_t last_check_ns;
    _Atomic uint64_t builds; /* snapshots swapped in so far */
} locator;

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static locator *registry;
/* Bumped by locate_forget: invalidates every thread's cached lookup. */
static _Atomic uint64_t registry_epoch = 1;
static _Thread_local struct {
    store *st;
    locator *l;
    uint64_t epoch;
} tls_last;

static void entries_free(struct snapshot *s)
{
    for (int i = 0; s->e && i < s->n; i++) {
        free(s->e[i].code);
        free(s->e[i].name);
        geo_free(s->e[i].g);
    }
    free(s->e);
    s->e = NULL;
}

/* Zeroed memory for the index's big arrays, backed by huge pages where
 * the kernel offers them: a locate touches a few random cache lines of a
 * multi-megabyte index, and with 4 KiB pages each of them is also a TLB
 * miss (a costly page walk, worse under virtualisation). */
static void *huge_alloc(size_t size)
{
    void *a = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (a == MAP_FAILED)
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(a, size, MADV_HUGEPAGE);
#endif
    return a;
}

static void snapshot_free(struct snapshot *s)
{
    if (!s)
        return;
    entries_free(s);
    if (s->arena)
        munmap(s->arena, s->arena_size);
    if (s->cell_start)
        munmap(s->cell_start, s->cell_start_size);
    if (s->cell_items)
        munmap(s->cell_items, s->cell_items_size);
    free(s);
}

static size_t blk_size(const struct entry *en)
{
    const geo_shape *g = en->g;
    size_t n = sizeof(struct blk) + sizeof(double) * 2 * (size_t)g->npts +
               sizeof(int) * (size_t)(g->npolys + 1 + g->nrings + 1) + en->code_len + 1u +
               en->name_len + 1u;
    return (n + 15) & ~(size_t)15;
}

/* Packs the parsed entries into one arena (huge pages where the kernel
 * offers them), in entry order; returns the blocks' offsets in off[]. */
static int pack(struct snapshot *s, size_t *off)
{
    size_t total = 0;
    for (int i = 0; i < s->n; i++) {
        off[i] = total;
        total += blk_size(&s->e[i]);
    }
    if (total == 0)
        return WOK;
    if (total / 16 > UINT32_MAX)
        return W_EINTERNAL;
    void *a = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (a == MAP_FAILED)
        return W_EINTERNAL;
#ifdef MADV_HUGEPAGE
    madvise(a, total, MADV_HUGEPAGE);
#endif
    s->arena = a;
    s->arena_size = total;
    for (int i = 0; i < s->n; i++) {
        const struct entry *en = &s->e[i];
        const geo_shape *g = en->g;
        struct blk *b = (struct blk *)(s->arena + off[i]);
        char *p = (char *)(b + 1);
        b->id = en->id;
        b->depth = en->depth;
        b->code_len = en->code_len;
        b->name_len = en->name_len;
        b->g = *g;
        b->g.pts = (double *)p;
        memcpy(p, g->pts, sizeof(double) * 2 * (size_t)g->npts);
        p += sizeof(double) * 2 * (size_t)g->npts;
        b->g.poly_ring = (int *)p;
        memcpy(p, g->poly_ring, sizeof(int) * (size_t)(g->npolys + 1));
        p += sizeof(int) * (size_t)(g->npolys + 1);
        b->g.ring_start = (int *)p;
        memcpy(p, g->ring_start, sizeof(int) * (size_t)(g->nrings + 1));
        p += sizeof(int) * (size_t)(g->nrings + 1);
        memcpy(p, en->code, en->code_len);
        p[en->code_len] = '\0';
        b->code = p;
        p += en->code_len + 1;
        memcpy(p, en->name, en->name_len);
        p[en->name_len] = '\0';
        b->name = p;
    }
    return WOK;
}

static locator *locator_for(store *st, int create)
{
    uint64_t ep = atomic_load_explicit(&registry_epoch, memory_order_acquire);
    if (tls_last.st == st && tls_last.epoch == ep && tls_last.l)
        return tls_last.l;
    pthread_mutex_lock(&reg_mu);
    locator *l = registry;
    while (l && l->st != st)
        l = l->next;
    if (!l && create && (l = calloc(1, sizeof *l)) != NULL) {
        l->st = st;
        pthread_rwlock_init(&l->rw, NULL);
        pthread_mutex_init(&l->build_mu, NULL);
        atomic_store(&l->local_gen, 1);
        l->next = registry;
        registry = l;
    }
    if (l) {
        tls_last.st = st;
        tls_last.l = l;
        tls_last.epoch = atomic_load(&registry_epoch);
    }
    pthread_mutex_unlock(&reg_mu);
    return l;
}

static int read_db_gen(store *st, int64_t *gen)
{
    db *d = store_reader(st);
    if (!d)
        return W_EINTERNAL;
    db_stmt *s = db_query(d, "SELECT generation FROM grid_meta WHERE id = 1", "");
    int rc = s && db_step(s) == DB_ROW ? WOK : W_EINTERNAL;
    if (rc == WOK)
        *gen = db_col_int64(s, 0);
    db_done(s);
    store_release(st, d);
    return rc;
}

static void cell_of(const struct snapshot *s, double x, double y, int *ix, int *iy)
{
    double fx = floor((x - s->x0) / s->cw), fy = floor((y - s->y0) / s->ch);
    *ix = fx < 0 ? -1 : (fx >= s->nx ? s->nx : (int)fx);
    *iy = fy < 0 ? -1 : (fy >= s->ny ? s->ny : (int)fy);
    /* the closed bounding box's far edge belongs to the last cell */
    if (*ix == s->nx && x <= s->x0 + s->cw * s->nx * (1 + 1e-12))
        *ix = s->nx - 1;
    if (*iy == s->ny && y <= s->y0 + s->ch * s->ny * (1 + 1e-12))
        *iy = s->ny - 1;
}

static int build(locator *l, uint64_t local_gen, struct snapshot **out, werr *e)
{
    int64_t db_gen = 0;
    if (read_db_gen(l->st, &db_gen) != WOK)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot read grid generation");
    struct snapshot *s = calloc(1, sizeof *s);
    if (!s)
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    s->local_gen = local_gen;
    s->db_gen = db_gen;
    db *d = store_reader(l->st);
    if (!d) {
        free(s);
        return werr_set(e, W_EINTERNAL, "database_unavailable", "database unavailable");
    }
    int cap = 0, rc = WOK;
    db_stmt *q = db_query(d,
                          "SELECT id, code, name, depth, geometry FROM grids "
                          "WHERE status = 'active' AND geometry IS NOT NULL "
                          "ORDER BY depth DESC, code ASC", "");
    int step;
    while (q && (step = db_step(q)) == DB_ROW) {
        const char *text = db_col_text(q, 4);
        geo_shape *g = NULL;
        werr ge = {0};
        if (!text || geo_parse_text(text, strlen(text), &g, &ge) != WOK) {
            log_warn(NULL, "locate: grid %s has an unreadable polygon: %s", db_col_text(q, 1),
                     ge.message);
            continue;
        }
        if (s->n == cap) {
            cap = cap ? cap * 2 : 256;
            struct entry *ne = realloc(s->e, sizeof *ne * (size_t)cap);
            if (!ne) {
                geo_free(g);
                rc = W_EINTERNAL;
                break;
            }
            s->e = ne;
        }
        struct entry *en = &s->e[s->n++];
        en->id = db_col_int64(q, 0);
        en->code = strdup(db_col_text(q, 1));
        en->name = strdup(db_col_text(q, 2));
        en->code_len = (unsigned short)(en->code ? strnlen(en->code, 63) : 0);
        en->name_len = (unsigned short)(en->name ? strnlen(en->name, 255) : 0);
        en->depth = db_col_int(q, 3);
        en->g = g;
        if (!en->code || !en->name)
            rc = W_EINTERNAL;
    }
    db_done(q);
    store_release(l->st, d);
    if (!q)
        rc = W_EINTERNAL;
    if (rc != WOK) {
        snapshot_free(s);
        return werr_set(e, rc, "database_error", "cannot load grid polygons");
    }
    size_t *off = s->n ? malloc(sizeof *off * (size_t)s->n) : NULL;
    if (s->n && (!off || pack(s, off) != WOK)) {
        free(off);
        snapshot_free(s);
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory for the grid index");
    }
    if (s->n == 0) {
        *out = s;
        return WOK;
    }
    double x0 = s->e[0].g->min_lng, x1 = s->e[0].g->max_lng;
    double y0 = s->e[0].g->min_lat, y1 = s->e[0].g->max_lat;
    for (int i = 1; i < s->n; i++) {
        const geo_shape *g = s->e[i].g;
        x0 = fmin(x0, g->min_lng), x1 = fmax(x1, g->max_lng);
        y0 = fmin(y0, g->min_lat), y1 = fmax(y1, g->max_lat);
    }
    double w = fmax(x1 - x0, 1e-9), h = fmax(y1 - y0, 1e-9);
    double target = fmin(2.0 * s->n + 16, MAX_CELLS);
    double cell = sqrt(w * h / target);
    s->nx = (int)fmin(fmax(ceil(w / cell), 1), 4096);
    s->ny = (int)fmin(fmax(ceil(h / cell), 1), 4096);
    s->x0 = x0, s->y0 = y0;
    s->cw = w / s->nx, s->ch = h / s->ny;
    size_t ncells = (size_t)s->nx * (size_t)s->ny;
    s->cell_start_size = (ncells + 1) * sizeof(int);
    s->cell_start = huge_alloc(s->cell_start_size);
    if (!s->cell_start) {
        free(off);
        snapshot_free(s);
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    }
    /* pass 1: count per cell; pass 2: fill in sorted entry order */
    long total = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < s->n; i++) {
            const geo_shape *g = s->e[i].g;
            int ax, ay, bx, by;
            cell_of(s, g->min_lng, g->min_lat, &ax, &ay);
            cell_of(s, g->max_lng, g->max_lat, &bx, &by);
            ax = ax < 0 ? 0 : ax, ay = ay < 0 ? 0 : ay;
            bx = bx >= s->nx ? s->nx - 1 : bx, by = by >= s->ny ? s->ny - 1 : by;
            for (int iy = ay; iy <= by; iy++)
                for (int ix = ax; ix <= bx; ix++) {
                    size_t c = (size_t)iy * (size_t)s->nx + (size_t)ix;
                    if (pass == 0)
                        s->cell_start[c + 1]++, total++;
                    else
                        s->cell_items[s->cell_start[c]++] =
                            (struct cand){down(g->min_lng), down(g->min_lat), up(g->max_lng),
                                          up(g->max_lat), (uint32_t)(off[i] / 16)};
                }
        }
        if (pass == 0) {
            if (total > INT32_MAX / 2 || !(s->cell_items = huge_alloc(s->cell_items_size = sizeof(struct cand) * (size_t)(total + 1)))) {
                free(off);
                snapshot_free(s);
                return werr_set(e, W_EINTERNAL, "out_of_memory", "grid index too large");
            }
            for (size_t c = 0; c < ncells; c++)
                s->cell_start[c + 1] += s->cell_start[c];
        } else { /* cell_start[c] now holds the end of c: shift back */
            for (size_t c = ncells; c > 0; c--)
                s->cell_start[c] = s->cell_start[c - 1];
            s->cell_start[0] = 0;
        }
    }
    free(off);
    entries_free(s); /* everything now lives in the arena */
    *out = s;
    return WOK;
}

/* Rebuilds l->snap unless another thread already did it while we waited. */
static int refresh(locator *l, werr *e)
{
    uint64_t builds = atomic_load(&l->builds);
    pthread_mutex_lock(&l->build_mu);
    uint64_t want = atomic_load(&l->local_gen);
    pthread_rwlock_rdlock(&l->rw);
    int done = l->snap && l->snap->local_gen == want && atomic_load(&l->builds) != builds;
    pthread_rwlock_unlock(&l->rw);
    int rc = WOK;
    if (!done) {
        struct snapshot *s = NULL;
        rc = build(l, want, &s, e);
        if (rc == WOK) {
            pthread_rwlock_wrlock(&l->rw);
            struct snapshot *old = l->snap;
            l->snap = s;
            atomic_fetch_add(&l->builds, 1);
            pthread_rwlock_unlock(&l->rw);
            atomic_store(&l->last_check_ns, clock_mono_ns());
            snapshot_free(old);
        }
    }
    pthread_mutex_unlock(&l->build_mu);
    return rc;
}

/* 1 when the snapshot must be rebuilt (caller holds the read lock). */
static int stale(locator *l)
{
    const struct snapshot *cur = l->snap;
    if (!cur || cur->local_gen != atomic_load(&l->local_gen))
        return 1;
    int64_t now = clock_mono_ns(), last = atomic_load(&l->last_check_ns);
    if (now - last >= DB_CHECK_NS &&
        atomic_compare_exchange_strong(&l->last_check_ns, &last, now)) {
        int64_t g;
        if (read_db_gen(l->st, &g) == WOK && g != cur->db_gen)
            return 1;
    }
    return 0;
}

int locate_point(store *st, double lat, double lng, locate_result *out, werr *e)
{
    if (!isfinite(lat) || !isfinite(lng) || lat < -90 || lat > 90 || lng < -180 || lng > 180)
        return werr_set(e, W_EINVALID, "invalid_field",
                        "lat/lng: latitude -90..90 and longitude -180..180 (WGS84 degrees)");
    locator *l = locator_for(st, 1);
    if (!l)
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    pthread_rwlock_rdlock(&l->rw);
    if (stale(l)) {
        pthread_rwlock_unlock(&l->rw);
        int rc = refresh(l, e);
        if (rc != WOK)
            return rc;
        pthread_rwlock_rdlock(&l->rw);
    }
    const struct snapshot *s = l->snap;
    const struct blk *hit = NULL;
    if (s && s->n > 0) {
        int ix, iy;
        cell_of(s, lng, lat, &ix, &iy);
        if (ix >= 0 && iy >= 0 && ix < s->nx && iy < s->ny) {
            size_t c = (size_t)iy * (size_t)s->nx + (size_t)ix;
            const struct cand *k = &s->cell_items[s->cell_start[c]],
                              *kend = &s->cell_items[s->cell_start[c + 1]];
            for (; k < kend; k++) {
                if (lng < k->min_lng || lng > k->max_lng || lat < k->min_lat || lat > k->max_lat)
                    continue;
                const struct blk *b = (const struct blk *)(s->arena + (size_t)k->blk16 * 16);
                if (geo_contains(&b->g, lat, lng)) {
                    hit = b;
                    break;
                }
            }
        }
    }
    if (hit) {
        out->grid_id = hit->id;
        out->depth = hit->depth;
        memcpy(out->code, hit->code, (size_t)hit->code_len + 1);
        memcpy(out->name, hit->name, (size_t)hit->name_len + 1);
    }
    pthread_rwlock_unlock(&l->rw);
    if (!hit)
        return werr_set(e, W_ENOTFOUND, "no_grid", "no grid contains the point (%.6f, %.6f)",
                        lat, lng);
    return WOK;
}

void locate_invalidate(store *st)
{
    locator *l = locator_for(st, 0);
    if (l)
        atomic_fetch_add(&l->local_gen, 1);
}

long locate_indexed_count(store *st)
{
    locator *l = locator_for(st, 1);
    werr e = {0};
    if (!l)
        return -1;
    pthread_rwlock_rdlock(&l->rw);
    int must = stale(l);
    pthread_rwlock_unlock(&l->rw);
    if (must && refresh(l, &e) != WOK)
        return -1;
    pthread_rwlock_rdlock(&l->rw);
    long n = l->snap ? l->snap->n : 0;
    pthread_rwlock_unlock(&l->rw);
    return n;
}

int locate_index_info(store *st, long *grids, double *cands_per_bucket, long *buckets)
{
    if (locate_indexed_count(st) < 0)
        return W_EINTERNAL;
    locator *l = locator_for(st, 0);
    if (!l)
        return W_EINTERNAL;
    pthread_rwlock_rdlock(&l->rw);
    const struct snapshot *s = l->snap;
    long cells = s ? (long)s->nx * s->ny : 0;
    *grids = s ? s->n : 0;
    *buckets = cells;
    *cands_per_bucket = cells ? (double)s->cell_start[cells] / (double)cells : 0;
    pthread_rwlock_unlock(&l->rw);
    return WOK;
}

void locate_forget(store *st)
{
    pthread_mutex_lock(&reg_mu);
    locator **pp = &registry;
    while (*pp && (*pp)->st != st)
        pp = &(*pp)->next;
    locator *l = *pp;
    if (l)
        *pp = l->next;
    atomic_fetch_add_explicit(&registry_epoch, 1, memory_order_release);
    pthread_mutex_unlock(&reg_mu);
    if (!l)
        return;
    snapshot_free(l->snap);
    pthread_rwlock_destroy(&l->rw);
    pthread_mutex_destroy(&l->build_mu);
    free(l);
}
