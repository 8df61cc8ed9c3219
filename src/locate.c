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
 * With 100,000 grids the index is tens of megabytes and a query's loads
 * miss the CPU caches, so its layout is about dependent memory loads, not
 * instructions (docs/PERFORMANCE.md, "locate"): a bucket is one 64-byte
 * cache line holding its first candidates inline, each with its bounding
 * box clipped to the bucket in 16-bit fixed point; a candidate whose
 * polygon covers the whole bucket ends the list (nothing after it can be
 * reached) and needs no polygon test. A query is then one load for the
 * bucket and one for the answer's block.
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

/* A bucket's candidate: its bounding box clipped to the bucket, in
 * 1/65535ths of the bucket's width and height, rounded outwards (a filter,
 * never a verdict), so that most candidates are rejected without touching
 * their polygon; blk16 is the block's offset in the arena in units of 16
 * bytes. */
struct cand {
    uint16_t x0, y0, x1, y1;
    uint32_t blk16;
};

#define INLINE_CANDS 4
#define BUCKET_COVERS 1 /* the bucket's last candidate covers the bucket */

/* A bucket: one cache line. Candidates beyond the inline ones continue at
 * more[] (in the snapshot's overflow array). */
struct bucket {
    uint16_t n;     /* candidates in all */
    uint16_t flags; /* BUCKET_COVERS */
    uint32_t more;  /* index in ovf of candidate INLINE_CANDS */
    struct cand c[INLINE_CANDS];
    uint8_t pad[8];
};
_Static_assert(sizeof(struct bucket) == 64, "a bucket is one cache line");

/* A coordinate in the bucket's fixed point (0 … 65535), clamped. */
static double fixed(double v, double origin, double size)
{
    double f = (v - origin) / size * 65535.0;
    return f < 0 ? 0 : f > 65535.0 ? 65535.0 : f;
}

struct snapshot {
    int n;
    struct entry *e; /* only while building */
    char *arena;     /* the blocks, in entry order (deepest first, then by code) */
    size_t arena_size;
    double x0, y0, cw, ch;
    int nx, ny;
    struct bucket *cells;        /* nx*ny */
    struct cand *ovf;            /* candidates beyond each bucket's inline ones */
    long ncands;                 /* candidates in all buckets (after pruning) */
    size_t cells_size, ovf_size; /* bytes mapped (huge_alloc) */
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
    if (s->cells)
        munmap(s->cells, s->cells_size);
    if (s->ovf)
        munmap(s->ovf, s->ovf_size);
    free(s);
}

/* A block: the header, then the code and name (the answer, next to the
 * header so that answering touches the lines already loaded), then the
 * polygon's points (8-byte aligned) and ring offsets. */
static size_t blk_strings(const struct entry *en)
{
    return ((size_t)en->code_len + 1u + en->name_len + 1u + 7u) & ~(size_t)7;
}

static size_t blk_size(const struct entry *en)
{
    const geo_shape *g = en->g;
    size_t n = sizeof(struct blk) + blk_strings(en) + sizeof(double) * 2 * (size_t)g->npts +
               sizeof(int) * (size_t)(g->npolys + 1 + g->nrings + 1);
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
    char *a = huge_alloc(total);
    if (!a)
        return W_EINTERNAL;
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
        memcpy(p, en->code, en->code_len);
        p[en->code_len] = '\0';
        b->code = p;
        memcpy(p + en->code_len + 1, en->name, en->name_len);
        p[en->code_len + 1 + en->name_len] = '\0';
        b->name = p + en->code_len + 1;
        p += blk_strings(en);
        b->g.pts = (double *)p;
        memcpy(p, g->pts, sizeof(double) * 2 * (size_t)g->npts);
        p += sizeof(double) * 2 * (size_t)g->npts;
        b->g.poly_ring = (int *)p;
        memcpy(p, g->poly_ring, sizeof(int) * (size_t)(g->npolys + 1));
        p += sizeof(int) * (size_t)(g->npolys + 1);
        b->g.ring_start = (int *)p;
        memcpy(p, g->ring_start, sizeof(int) * (size_t)(g->nrings + 1));
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

/* The south-west corner of bucket (ix, iy). The boxes (at build time) and
 * the point (at query time) are put in the bucket's fixed point from this
 * one expression, so that both round the same way. */
static void bucket_origin(const struct snapshot *s, int ix, int iy, double *x, double *y)
{
    *x = s->x0 + s->cw * ix;
    *y = s->y0 + s->ch * iy;
}

/* Polygons of more edges than this are not tried for covering a bucket
 * (the proof walks every edge, for every bucket the polygon touches). */
#define COVER_MAX_EDGES 4096

static void cell_range(const struct snapshot *s, const geo_shape *g, int *ax, int *ay, int *bx,
                       int *by)
{
    cell_of(s, g->min_lng, g->min_lat, ax, ay);
    cell_of(s, g->max_lng, g->max_lat, bx, by);
    *ax = *ax < 0 ? 0 : *ax, *ay = *ay < 0 ? 0 : *ay;
    *bx = *bx >= s->nx ? s->nx - 1 : *bx, *by = *by >= s->ny ? s->ny - 1 : *by;
}

/* Fills s->cells (and s->ovf) from the entries (sorted deepest first) and
 * their blocks' offsets: first the grids whose box touches each bucket, in
 * entry order, as a temporary list per bucket; then each bucket keeps its
 * list up to the first grid that covers the whole bucket. */
static int buckets_fill(struct snapshot *s, const size_t *off)
{
    size_t ncells = (size_t)s->nx * (size_t)s->ny;
    int *start = calloc(ncells + 1, sizeof *start), *items = NULL;
    if (!start)
        return W_EINTERNAL;
    long total = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < s->n; i++) {
            int ax, ay, bx, by;
            cell_range(s, s->e[i].g, &ax, &ay, &bx, &by);
            for (int iy = ay; iy <= by; iy++)
                for (int ix = ax; ix <= bx; ix++) {
                    size_t c = (size_t)iy * (size_t)s->nx + (size_t)ix;
                    if (pass == 0)
                        start[c + 1]++, total++;
                    else
                        items[start[c]++] = i;
                }
        }
        if (pass == 0) {
            if (total > INT32_MAX / 2 || !(items = malloc(sizeof *items * (size_t)(total + 1)))) {
                free(start);
                return W_EINTERNAL;
            }
            for (size_t c = 0; c < ncells; c++)
                start[c + 1] += start[c];
        } else { /* start[c] now holds the end of c: shift back */
            for (size_t c = ncells; c > 0; c--)
                start[c] = start[c - 1];
            start[0] = 0;
        }
    }
    /* prune: nothing after a covering grid is ever reached */
    long kept = 0, spill = 0;
    uint16_t *len = calloc(ncells, sizeof *len);
    uint8_t *covers = calloc(ncells, 1);
    int rc = len && covers ? WOK : W_EINTERNAL;
    for (size_t c = 0; rc == WOK && c < ncells; c++) {
        double cx0, cy0;
        bucket_origin(s, (int)(c % (size_t)s->nx), (int)(c / (size_t)s->nx), &cx0, &cy0);
        /* a margin beyond rounding: cell_of may file a point a hair outside */
        double mx = s->cw * 1e-6 + 1e-12, my = s->ch * 1e-6 + 1e-12;
        int n = 0;
        for (int k = start[c]; k < start[c + 1]; k++) {
            n++;
            if (geo_covers_rect(s->e[items[k]].g, cx0 - mx, cy0 - my, cx0 + s->cw + mx,
                                cy0 + s->ch + my, COVER_MAX_EDGES)) {
                covers[c] = 1;
                break;
            }
        }
        if (n > UINT16_MAX)
            rc = W_EINTERNAL; /* 65,535 overlapping grids in one bucket: bad data */
        len[c] = (uint16_t)n;
        kept += n;
        spill += n > INLINE_CANDS ? n - INLINE_CANDS : 0;
    }
    if (rc == WOK) {
        s->cells_size = sizeof(struct bucket) * ncells;
        s->ovf_size = sizeof(struct cand) * (size_t)(spill + 1);
        s->cells = huge_alloc(s->cells_size);
        s->ovf = huge_alloc(s->ovf_size);
        if (!s->cells || !s->ovf || spill > UINT32_MAX)
            rc = W_EINTERNAL;
    }
    long more = 0;
    for (size_t c = 0; rc == WOK && c < ncells; c++) {
        struct bucket *bk = &s->cells[c];
        double cx0, cy0;
        bucket_origin(s, (int)(c % (size_t)s->nx), (int)(c / (size_t)s->nx), &cx0, &cy0);
        bk->n = len[c];
        bk->flags = covers[c] ? BUCKET_COVERS : 0;
        bk->more = (uint32_t)more;
        for (int j = 0; j < len[c]; j++) {
            int i = items[start[c] + j];
            const geo_shape *g = s->e[i].g;
            struct cand *k = j < INLINE_CANDS ? &bk->c[j] : &s->ovf[more++];
            /* outwards by a unit beyond floor/ceil: rounding in fixed()
             * must never turn a point inside the box into one outside */
            double fx0 = floor(fixed(g->min_lng, cx0, s->cw)) - 1;
            double fy0 = floor(fixed(g->min_lat, cy0, s->ch)) - 1;
            double fx1 = ceil(fixed(g->max_lng, cx0, s->cw)) + 1;
            double fy1 = ceil(fixed(g->max_lat, cy0, s->ch)) + 1;
            k->x0 = (uint16_t)(fx0 < 0 ? 0 : fx0);
            k->y0 = (uint16_t)(fy0 < 0 ? 0 : fy0);
            k->x1 = (uint16_t)(fx1 > 65535 ? 65535 : fx1);
            k->y1 = (uint16_t)(fy1 > 65535 ? 65535 : fy1);
            k->blk16 = (uint32_t)(off[i] / 16);
        }
    }
    s->ncands = kept;
    free(len);
    free(covers);
    free(items);
    free(start);
    return rc;
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
                          "ORDER BY depth DESC, code ASC",
                          "");
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
    rc = buckets_fill(s, off);
    if (rc != WOK) {
        free(off);
        snapshot_free(s);
        return werr_set(e, rc, "out_of_memory", "out of memory for the grid index");
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
            const struct bucket *bk = &s->cells[c];
            /* the point in the bucket's fixed point, clamped like the boxes */
            double ox, oy;
            bucket_origin(s, ix, iy, &ox, &oy);
            double qx = fixed(lng, ox, s->cw), qy = fixed(lat, oy, s->ch);
            /* Two passes: the candidates whose box holds the point, with
             * their blocks' first lines requested from memory at once (the
             * header, code, name and a small polygon's points are ~4 lines,
             * and with 100,000 grids none of them is in cache: loading them
             * one after another would cost a memory latency each); then the
             * exact tests, in order. */
            const struct blk *pass[8];
            int np = 0, j = 0, covering;
            while (j < bk->n && !hit) {
                for (np = 0, covering = -1; j < bk->n && np < 8; j++) {
                    const struct cand *k =
                        j < INLINE_CANDS ? &bk->c[j] : &s->ovf[bk->more + j - INLINE_CANDS];
                    if (qx < k->x0 || qx > k->x1 || qy < k->y0 || qy > k->y1)
                        continue;
                    const char *b = s->arena + (size_t)k->blk16 * 16;
                    for (int line = 0; line < 4; line++)
                        __builtin_prefetch(b + 64 * line);
                    /* the last one may cover the bucket: no test needed */
                    if (j == bk->n - 1 && (bk->flags & BUCKET_COVERS))
                        covering = np;
                    pass[np++] = (const struct blk *)b;
                }
                for (int t = 0; t < np && !hit; t++)
                    if (t == covering || geo_contains(&pass[t]->g, lat, lng))
                        hit = pass[t];
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
        return werr_set(e, W_ENOTFOUND, "no_grid", "no grid contains the point (%.6f, %.6f)", lat,
                        lng);
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
    *cands_per_bucket = cells ? (double)s->ncands / (double)cells : 0;
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
