/*
 * store.c — SQLite behind the store interface: WAL, a pool of readers, one
 * writer thread with group commit, cached prepared statements, migrations.
 */
#include "store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "assets.h"
#include "clock.h"
#include "log.h"

#define STMT_CACHE 512     /* slots per connection (open addressing); the writer
                              * alone runs well over 100 distinct statements */
#define PTR_INDEX 1024     /* direct-mapped SQL pointer → slot (power of 2) */
#define CKPT_FRAMES 4000   /* WAL frames after which the checkpointer is woken */
#define CKPT_LIMIT 200000  /* WAL frames (~800 MB) at which the writer waits for
                              * a checkpoint that restarts the log */
#define MAX_BATCH 512      /* write jobs per transaction */
#define MAX_READERS 64
#define STR_(x) #x
#define STR(x) STR_(x)
#define W_EAGAIN_BATCH 1000 /* internal: re-run the batch with savepoints */

enum { CONN_READER, CONN_WRITER, CONN_CHECKPOINTER };

struct db_stmt {
    char *sql;       /* cache key (cached statements only) */
    unsigned hash;   /* hash_sql(sql) */
    sqlite3_stmt *st;
    db *d;
    int cached;      /* 0: a one-off wrapper, freed by db_done */
    int warned;      /* its full scan was logged once (cached statements) */
};

struct db {
    sqlite3 *h;
    store *owner;
    struct db_stmt cache[STMT_CACHE];
    /* SQL text pointer → cache slot + 1. Callers pass string literals, so
     * the pointer usually identifies the statement; a hit is confirmed with
     * strcmp (a heap buffer may be reused for other text), which is much
     * cheaper than hashing ~1.5 KB of SQL byte by byte. */
    struct { const char *p; int slot; } ptr_index[PTR_INDEX];
    int last_rc;
    /* schema statements run by db_exec (CREATE/DROP/ALTER): they change
     * the database without counting in sqlite3_total_changes() */
    int64_t ddl;
};

struct write_job {
    store_write_fn fn;
    void *ctx;
    int rc;
    int done;
    int state;         /* JOB_* while the batch runs */
    pthread_cond_t cv; /* signalled when this job's batch is durable */
    struct write_job *next;
};

struct store {
    char *path;
    /* reader pool */
    pthread_mutex_t pool_mu;
    db *idle[MAX_READERS];
    int n_idle;
    /* writer */
    db *writer;
    pthread_t writer_thread;
    pthread_mutex_t mu;
    pthread_cond_t job_cv;  /* a job was queued */
    pthread_cond_t done_cv; /* a batch finished */
    struct write_job *head, *tail;
    int stopping;
    int schema_version;
    int always_savepoints; /* WHISTLE_WRITE_SAVEPOINTS=1: the old mode (A/B) */
    _Atomic uint64_t write_jobs, write_batches, write_ns, read_ns, reads, write_reruns;
    /* checkpointer: WAL checkpoints off the writer's commit path */
    db *ckpt;
    pthread_t ckpt_thread;
    int ckpt_running, ckpt_stop, ckpt_want;
    pthread_mutex_t ckpt_mu;
    pthread_cond_t ckpt_cv;
    _Atomic int wal_frames; /* WAL size after the last commit (wal hook) */
    _Atomic uint64_t checkpoints;
    _Atomic uint64_t full_scans; /* runs that scanned >= STORE_FULL_SCAN_ROWS rows */
};

/* ---- connections ---------------------------------------------------- */

static int db_open_conn(store *st, int mode, db **out, werr *e)
{
    db *d = calloc(1, sizeof *d);
    if (!d)
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    d->owner = st;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(st->path, &d->h, flags, NULL);
    if (rc != SQLITE_OK) {
        werr_set(e, W_EINTERNAL, "database_open", "cannot open database %s: %s", st->path,
                 d->h ? sqlite3_errmsg(d->h) : sqlite3_errstr(rc));
        sqlite3_close(d->h);
        free(d);
        return W_EINTERNAL;
    }
    sqlite3_busy_timeout(d->h, 10000);
    sqlite3_extended_result_codes(d->h, 1);
    /* The checkpointer copies WAL frames into the database file; with
     * synchronous=FULL it fsyncs that file before the frames count as
     * checkpointed, as the writer's automatic checkpoint did. */
    /* The writer's cache: 32 MB. The indexes a report touches on a city
     * (10 million orders) are far larger than either 32 or 64 MB, and an
     * ingest A/B on the city measured the same throughput with both, for
     * 33 MB less resident memory (PERFORMANCE.md, "Memory"). */
    const char *pragmas = mode == CONN_WRITER
                              ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                                "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;"
                                "PRAGMA cache_size=-" STR(STORE_WRITER_CACHE_KB) ";"
                                "PRAGMA journal_size_limit=67108864; PRAGMA mmap_size=0;"
                          : mode == CONN_CHECKPOINTER
                              ? "PRAGMA synchronous=FULL; PRAGMA cache_size=-2048; "
                                "PRAGMA mmap_size=0;"
                              /* Readers: a small private cache each (up to
                               * MAX_READERS of them are pooled; the OS page
                               * cache is shared), to keep the server's
                               * resident memory bounded. 512 KB: on the city
                               * the staff mix peaked at 334 MB with 4 MB
                               * caches and 176 MB with 1 MB, at the same
                               * throughput, and 512 KB served it as fast
                               * again (PERFORMANCE.md). Bounding the
                               * number of readers instead made requests
                               * wait for readers held by preempted threads. */
                              : "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;"
                                "PRAGMA cache_size=-512; PRAGMA query_only=ON;";
    char *msg = NULL;
    if (sqlite3_exec(d->h, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
        werr_set(e, W_EINTERNAL, "database_open", "cannot configure database %s: %s", st->path,
                 msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(d->h);
        free(d);
        return W_EINTERNAL;
    }
    *out = d;
    return WOK;
}

int store_configure_read_mmap(int64_t bytes)
{
    /* SQLite's default map size for every connection opened from now on;
     * the writer and the checkpointer turn theirs off (db_open_conn). */
    sqlite3_int64 size = bytes > 0 ? bytes : 0;
    return sqlite3_config(SQLITE_CONFIG_MMAP_SIZE, size, size) == SQLITE_OK ? WOK : W_EINTERNAL;
}

int64_t store_read_mmap(store *st)
{
    db *d = store_reader(st);
    int64_t granted = 0;
    db_stmt *q = d ? db_query(d, "PRAGMA mmap_size", "") : NULL;
    if (q && db_step(q) == DB_ROW)
        granted = db_col_int64(q, 0);
    db_done(q);
    store_release(st, d);
    return granted;
}

static void db_close_conn(db *d)
{
    if (!d)
        return;
    for (int i = 0; i < STMT_CACHE; i++) {
        if (d->cache[i].st) {
            sqlite3_finalize(d->cache[i].st);
            free(d->cache[i].sql);
        }
    }
    sqlite3_close(d->h);
    free(d);
}

db *store_reader(store *st)
{
    db *d = NULL;
    pthread_mutex_lock(&st->pool_mu);
    if (st->n_idle > 0)
        d = st->idle[--st->n_idle];
    pthread_mutex_unlock(&st->pool_mu);
    if (!d) {
        werr e;
        if (db_open_conn(st, CONN_READER, &d, &e) != WOK) {
            log_error(NULL, "%s", e.message);
            return NULL;
        }
    }
    atomic_fetch_add(&st->reads, 1);
    return d;
}

db *store_snapshot(store *st)
{
    db *d = store_reader(st);
    if (d && db_exec(d, "BEGIN", "") != WOK) {
        log_error(NULL, "cannot begin a read transaction: %s", db_errmsg(d));
        store_release(st, d);
        return NULL;
    }
    return d;
}

void store_release(store *st, db *d)
{
    if (!d)
        return;
    /* A reader must not keep a read transaction open in the pool; one it
     * cannot end is closed rather than pooled. */
    if (!sqlite3_get_autocommit(d->h) && db_exec(d, "ROLLBACK", "") != WOK) {
        log_error(NULL, "cannot end a read transaction: %s", db_errmsg(d));
        db_close_conn(d);
        return;
    }
    pthread_mutex_lock(&st->pool_mu);
    if (st->n_idle < MAX_READERS) {
        st->idle[st->n_idle++] = d;
        d = NULL;
    }
    pthread_mutex_unlock(&st->pool_mu);
    db_close_conn(d);
}

/* ---- statements ----------------------------------------------------- */

static unsigned hash_sql(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static unsigned ptr_slot(const char *sql)
{
    uintptr_t x = (uintptr_t)sql;
    return (unsigned)((x >> 3) ^ (x >> 13)) & (PTR_INDEX - 1);
}

/* The cached statement for sql, or a fresh one (cached when a slot is
 * free). A statement that is already stepping (nested use) is never handed
 * out twice: the caller gets a one-off, finalized by db_done. */
static db_stmt *stmt_get(db *d, const char *sql)
{
    unsigned pi = ptr_slot(sql);
    if (d->ptr_index[pi].p == sql) {
        db_stmt *c = &d->cache[d->ptr_index[pi].slot];
        if (c->st && strcmp(c->sql, sql) == 0 && !sqlite3_stmt_busy(c->st))
            return c;
    }
    unsigned h = hash_sql(sql);
    int free_slot = -1;
    for (int i = 0; i < STMT_CACHE; i++) {
        int slot = (int)((h + (unsigned)i) % STMT_CACHE);
        db_stmt *c = &d->cache[slot];
        if (!c->st) {
            free_slot = slot;
            break;
        }
        if (c->hash == h && strcmp(c->sql, sql) == 0) {
            if (sqlite3_stmt_busy(c->st))
                break;
            d->ptr_index[pi].p = sql;
            d->ptr_index[pi].slot = slot;
            return c;
        }
    }
    sqlite3_stmt *s = NULL;
    unsigned flags = free_slot >= 0 ? SQLITE_PREPARE_PERSISTENT : 0;
    d->last_rc = sqlite3_prepare_v3(d->h, sql, -1, flags, &s, NULL);
    if (d->last_rc != SQLITE_OK) {
        log_error(NULL, "sql prepare failed: %s in: %.200s", sqlite3_errmsg(d->h), sql);
        return NULL;
    }
    if (!s) { /* only blanks or a comment: nothing to run, an error of the caller */
        log_error(NULL, "sql prepare failed: no statement in: %.200s", sql);
        return NULL;
    }
    if (free_slot >= 0) {
        char *copy = strdup(sql);
        if (copy) {
            db_stmt *c = &d->cache[free_slot];
            c->sql = copy;
            c->hash = h;
            c->st = s;
            c->d = d;
            c->cached = 1;
            d->ptr_index[pi].p = sql;
            d->ptr_index[pi].slot = free_slot;
            return c;
        }
    }
    db_stmt *one = calloc(1, sizeof *one);
    if (!one) {
        sqlite3_finalize(s);
        return NULL;
    }
    one->st = s;
    one->d = d;
    return one;
}

/* Prepares and binds. Values are copied (SQLITE_TRANSIENT) for db_query,
 * whose caller may step after its buffers are gone; db_exec binds them in
 * place (SQLITE_STATIC, no copy): they are its arguments, alive until it
 * returns, and db_done clears the bindings before it does. */
static db_stmt *db_vquery(db *d, const char *sql, const char *types, int in_place, va_list ap)
{
    sqlite3_destructor_type keep = in_place ? SQLITE_STATIC : SQLITE_TRANSIENT;
    db_stmt *w = stmt_get(d, sql);
    if (!w)
        return NULL;
    sqlite3_stmt *s = w->st;
    int n = sqlite3_bind_parameter_count(s);
    int want = types ? (int)strlen(types) : 0;
    if (n != want) {
        log_error(NULL, "sql bind count %d != %d in: %.200s", want, n, sql);
        db_done(w);
        return NULL;
    }
    for (int i = 0; i < want; i++) {
        int rc = SQLITE_OK;
        switch (types[i]) {
        case 'i': rc = sqlite3_bind_int(s, i + 1, va_arg(ap, int)); break;
        case 'I': rc = sqlite3_bind_int64(s, i + 1, va_arg(ap, int64_t)); break;
        case 'd': rc = sqlite3_bind_double(s, i + 1, va_arg(ap, double)); break;
        case 't': {
            const char *v = va_arg(ap, const char *);
            rc = v ? sqlite3_bind_text(s, i + 1, v, -1, keep) : sqlite3_bind_null(s, i + 1);
            break;
        }
        case 'b': {
            const void *p = va_arg(ap, const void *);
            int len = va_arg(ap, int);
            rc = p ? sqlite3_bind_blob(s, i + 1, p, len, keep) : sqlite3_bind_null(s, i + 1);
            break;
        }
        case 'n': rc = sqlite3_bind_null(s, i + 1); break;
        default:
            log_error(NULL, "sql bind type '%c' unknown", types[i]);
            rc = SQLITE_MISUSE;
        }
        if (rc != SQLITE_OK) {
            db_done(w);
            return NULL;
        }
    }
    return w;
}

db_stmt *db_query(db *d, const char *sql, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    db_stmt *s = db_vquery(d, sql, types, 0, ap);
    va_end(ap);
    return s;
}

int db_step(db_stmt *s)
{
    int rc = sqlite3_step(s->st);
    s->d->last_rc = rc;
    if (rc == SQLITE_ROW)
        return DB_ROW;
    if (rc == SQLITE_DONE)
        return DB_DONE;
    log_warn(NULL, "sql step: %s in: %.200s", sqlite3_errmsg(s->d->h), sqlite3_sql(s->st));
    return DB_ERROR;
}

void db_done(db_stmt *s)
{
    if (!s)
        return;
    /* A statement that stepped through a large table without an index: a
     * missing index or one SQLite cannot use (a partial index whose
     * condition the query does not imply). Counted, and logged once per
     * statement, because on the writer it holds every write behind it. */
    int scanned = sqlite3_stmt_status(s->st, SQLITE_STMTSTATUS_FULLSCAN_STEP, 1);
    if (scanned >= STORE_FULL_SCAN_ROWS) {
        atomic_fetch_add(&s->d->owner->full_scans, 1);
        if (!s->warned)
            log_warn(NULL,
                     "full scan of %d rows (a deliberate full read, or a missing or unusable "
                     "index): %.300s",
                     scanned, sqlite3_sql(s->st));
        s->warned = s->cached;
    }
    sqlite3_reset(s->st);
    sqlite3_clear_bindings(s->st);
    if (!s->cached) {
        sqlite3_finalize(s->st);
        free(s);
    }
}

static int is_ddl(const char *sql)
{
    while (*sql == ' ' || *sql == '\n' || *sql == '\t')
        sql++;
    return !strncasecmp(sql, "CREATE", 6) || !strncasecmp(sql, "DROP", 4) ||
           !strncasecmp(sql, "ALTER", 5);
}

int db_exec(db *d, const char *sql, const char *types, ...)
{
    if (is_ddl(sql))
        d->ddl++; /* counted even if it fails: conservative */
    va_list ap;
    va_start(ap, types);
    db_stmt *s = db_vquery(d, sql, types, 1, ap);
    va_end(ap);
    if (!s)
        return W_EINTERNAL;
    int rc = sqlite3_step(s->st);
    int out = WOK;
    if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
        out = WOK;
    } else if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        /* Usually expected (a duplicate code): the caller reports it. */
        log_msg(LOG_DEBUG, NULL, "sql constraint: %s in: %.200s", sqlite3_errmsg(d->h), sql);
        out = W_ECONFLICT;
    } else {
        log_warn(NULL, "sql exec: %s in: %.200s", sqlite3_errmsg(d->h), sql);
        out = W_EINTERNAL;
    }
    db_done(s);
    d->last_rc = rc;
    return out;
}

int db_col_int(db_stmt *s, int col) { return sqlite3_column_int(s->st, col); }
int64_t db_col_int64(db_stmt *s, int col) { return sqlite3_column_int64(s->st, col); }
double db_col_double(db_stmt *s, int col) { return sqlite3_column_double(s->st, col); }
const char *db_col_text(db_stmt *s, int col)
{
    return (const char *)sqlite3_column_text(s->st, col);
}
const void *db_col_blob(db_stmt *s, int col, int *len)
{
    const void *p = sqlite3_column_blob(s->st, col);
    if (len)
        *len = sqlite3_column_bytes(s->st, col);
    return p;
}
int db_col_is_null(db_stmt *s, int col)
{
    return sqlite3_column_type(s->st, col) == SQLITE_NULL;
}
int db_col_count(db_stmt *s) { return sqlite3_column_count(s->st); }
const char *db_col_name(db_stmt *s, int col) { return sqlite3_column_name(s->st, col); }
int64_t db_last_id(db *d) { return sqlite3_last_insert_rowid(d->h); }
int db_changes(db *d) { return sqlite3_changes(d->h); }
int db_last_was_constraint(db *d) { return (sqlite3_extended_errcode(d->h) & 0xff) == SQLITE_CONSTRAINT; }
const char *db_errmsg(db *d) { return sqlite3_errmsg(d->h); }


/* ---- writer: group commit ------------------------------------------- */

static int exec_simple(db *d, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(d->h, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        log_error(NULL, "sql: %s: %s", sql, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return W_EINTERNAL;
    }
    return WOK;
}

/* A transaction-control statement of the writer, prepared once and kept
 * in the statement cache (sqlite3_exec would parse it on every job). */
static int exec_tx(db *d, const char *sql)
{
    db_stmt *s = stmt_get(d, sql);
    if (!s)
        return exec_simple(d, sql);
    int rc = sqlite3_step(s->st);
    if (rc != SQLITE_DONE)
        log_error(NULL, "sql: %s: %s", sql, sqlite3_errmsg(d->h));
    db_done(s);
    return rc == SQLITE_DONE ? WOK : W_EINTERNAL;
}

/* Runs one batch of jobs in one transaction.
 *
 * A SAVEPOINT per job makes SQLite copy every page the job touches into
 * the statement sub-journal, which costs 20–40% of the writer's time. So
 * the batch first runs optimistically, without savepoints: a job that
 * fails without having changed anything (refusals and validation happen
 * before the first write) needs no undo. Only when a job fails AFTER
 * writing is the whole transaction rolled back; the batch is then run
 * again without that job, this time with a savepoint per job (the old,
 * always-correct mode). Jobs that already failed are not run again; jobs
 * that had succeeded run a second time — which is why a write fn must be
 * re-runnable (see store.h). Each job runs at most twice.
 *
 * "Changed anything" is sqlite3_total_changes64(): every INSERT, UPDATE
 * and DELETE that completed, triggers and FTS shadow tables included;
 * plus the schema statements run through db_exec (d->ddl). A
 * statement that fails is undone by SQLite itself (statement journal,
 * ABORT resolution; no OR FAIL/OR ROLLBACK in whistle's SQL). */
enum { JOB_PENDING = 0, JOB_OK, JOB_FAILED };

static void wal_check(store *st);

static int run_jobs(store *st, struct write_job *batch, int savepoints)
{
    db *d = st->writer;
    if (exec_tx(d, "BEGIN IMMEDIATE") != WOK)
        return W_EINTERNAL;
    for (struct write_job *j = batch; j; j = j->next) {
        if (j->state == JOB_FAILED)
            continue;
        if (savepoints) {
            if (exec_tx(d, "SAVEPOINT job") != WOK) {
                j->rc = W_EINTERNAL;
                j->state = JOB_FAILED;
                continue;
            }
            j->rc = j->fn(d, j->ctx);
            if (j->rc != WOK)
                exec_tx(d, "ROLLBACK TO job");
            exec_tx(d, "RELEASE job");
            j->state = j->rc == WOK ? JOB_OK : JOB_FAILED;
            if (sqlite3_get_autocommit(d->h))
                return W_EINTERNAL; /* SQLite rolled the transaction back itself */
            continue;
        }
        sqlite3_int64 before = sqlite3_total_changes64(d->h) + d->ddl;
        j->rc = j->fn(d, j->ctx);
        if (j->rc == WOK) {
            j->state = JOB_OK;
        } else {
            j->state = JOB_FAILED;
            if (sqlite3_total_changes64(d->h) + d->ddl != before) {
                exec_simple(d, "ROLLBACK");
                atomic_fetch_add(&st->write_reruns, 1);
                return W_EAGAIN_BATCH;
            }
        }
        if (sqlite3_get_autocommit(d->h))
            return W_EINTERNAL;
    }
    if (exec_tx(d, "COMMIT") != WOK)
        return W_EINTERNAL;
    return WOK;
}

static void run_batch(store *st, struct write_job *batch)
{
    db *d = st->writer;
    int64_t t0 = clock_mono_ns();
    int rc = run_jobs(st, batch, st->always_savepoints);
    if (rc == W_EAGAIN_BATCH)
        rc = run_jobs(st, batch, 1);
    if (rc != WOK) {
        if (!sqlite3_get_autocommit(d->h))
            exec_simple(d, "ROLLBACK");
        for (struct write_job *j = batch; j; j = j->next)
            if (j->state != JOB_FAILED)
                j->rc = W_EINTERNAL;
    }
    atomic_fetch_add(&st->write_ns, (uint64_t)(clock_mono_ns() - t0));
    atomic_fetch_add(&st->write_batches, 1);
    wal_check(st);
}

/* ---- checkpointer ---------------------------------------------------- */

/* Optional (WHISTLE_CHECKPOINTER=1). The writer's automatic checkpoint
 * (every 1,000 WAL pages) runs inside a COMMIT: the job that crosses the
 * threshold waits for every page to be copied and the database file
 * fsynced. With the checkpointer, the writer only counts
 * WAL frames (wal hook) and a checkpointer thread on its own connection
 * runs PASSIVE checkpoints, which never block the writer or readers.
 * The WAL restarts from its beginning at the writer's next transaction
 * once a checkpoint has caught up. Bounded: if the WAL still grows past
 * CKPT_LIMIT frames (a checkpoint that cannot keep up, readers pinning old
 * frames), the writer itself waits for a RESTART checkpoint. */
static int wal_hook(void *arg, sqlite3 *h, const char *dbname, int frames)
{
    store *st = arg;
    atomic_store(&st->wal_frames, frames);
    return SQLITE_OK;
}

static void wal_check(store *st)
{
    int frames = atomic_load(&st->wal_frames);
    if (!st->ckpt_running || frames < CKPT_FRAMES)
        return;
    pthread_mutex_lock(&st->ckpt_mu);
    if (!st->ckpt_want) {
        st->ckpt_want = 1;
        pthread_cond_signal(&st->ckpt_cv);
    }
    pthread_mutex_unlock(&st->ckpt_mu);
    if (frames >= CKPT_LIMIT) {
        int log = 0, done = 0;
        int rc = sqlite3_wal_checkpoint_v2(st->writer->h, NULL, SQLITE_CHECKPOINT_RESTART, &log,
                                           &done);
        log_warn(NULL, "WAL at %d frames: the writer ran a RESTART checkpoint (rc %d, %d/%d)",
                 frames, rc, done, log);
        if (rc == SQLITE_OK)
            atomic_store(&st->wal_frames, 0);
    }
}

static void *ckpt_main(void *arg)
{
    store *st = arg;
    pthread_mutex_lock(&st->ckpt_mu);
    while (!st->ckpt_stop) {
        if (!st->ckpt_want) {
            /* also fold the WAL back when writes pause (every second) */
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 1;
            pthread_cond_timedwait(&st->ckpt_cv, &st->ckpt_mu, &until);
            if (st->ckpt_stop)
                break;
            if (!st->ckpt_want && atomic_load(&st->wal_frames) == 0)
                continue;
        }
        st->ckpt_want = 0;
        pthread_mutex_unlock(&st->ckpt_mu);
        int log = 0, done = 0;
        int rc = sqlite3_wal_checkpoint_v2(st->ckpt->h, NULL, SQLITE_CHECKPOINT_PASSIVE, &log,
                                           &done);
        if (rc == SQLITE_OK) {
            atomic_fetch_add(&st->checkpoints, 1);
            /* fully copied: nothing left to do until the next commits */
            if (log >= 0 && done == log)
                atomic_store(&st->wal_frames, 0);
        } else if ((rc & 0xff) != SQLITE_BUSY) {
            log_warn(NULL, "WAL checkpoint: %s", sqlite3_errmsg(st->ckpt->h));
        }
        pthread_mutex_lock(&st->ckpt_mu);
    }
    pthread_mutex_unlock(&st->ckpt_mu);
    return NULL;
}

static void ckpt_start(store *st)
{
    /* Off by default: measured on the 2-core machine (docs/PERFORMANCE.md,
     * "Write path changes"), the writer checkpointing itself every 1,000
     * WAL pages gave 10-15% more ingest than this thread, which competes
     * with the request threads for the cores and with the WAL fsync for
     * the disk. Worth trying where cores and I/O are to spare. */
    const char *on = getenv("WHISTLE_CHECKPOINTER");
    if (!on || *on != '1')
        return;
    werr e;
    if (db_open_conn(st, CONN_CHECKPOINTER, &st->ckpt, &e) != WOK) {
        log_warn(NULL, "no checkpointer (%s): the writer checkpoints itself", e.message);
        return;
    }
    st->ckpt_running = 1;
    if (pthread_create(&st->ckpt_thread, NULL, ckpt_main, st) != 0) {
        st->ckpt_running = 0;
        db_close_conn(st->ckpt);
        st->ckpt = NULL;
        return;
    }
    /* replaces wal_autocheckpoint (SQLite's auto-checkpoint is a wal hook) */
    sqlite3_wal_hook(st->writer->h, wal_hook, st);
}

static void ckpt_stop(store *st)
{
    if (!st->ckpt_running)
        return;
    pthread_mutex_lock(&st->ckpt_mu);
    st->ckpt_stop = 1;
    pthread_cond_signal(&st->ckpt_cv);
    pthread_mutex_unlock(&st->ckpt_mu);
    pthread_join(st->ckpt_thread, NULL);
    st->ckpt_running = 0;
    db_close_conn(st->ckpt);
    st->ckpt = NULL;
}

static void *writer_main(void *arg)
{
    store *st = arg;
    pthread_mutex_lock(&st->mu);
    for (;;) {
        while (!st->head && !st->stopping)
            pthread_cond_wait(&st->job_cv, &st->mu);
        if (!st->head && st->stopping)
            break;
        /* take up to MAX_BATCH queued jobs */
        struct write_job *batch = st->head, *last = st->head;
        int n = 1;
        while (last->next && n < MAX_BATCH) {
            last = last->next;
            n++;
        }
        st->head = last->next;
        if (!st->head)
            st->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&st->mu);

        run_batch(st, batch);

        pthread_mutex_lock(&st->mu);
        /* Wake only this batch's waiters (not every queued writer). A job
         * lives on its waiter's stack: read next before signalling. */
        for (struct write_job *j = batch, *next; j; j = next) {
            next = j->next;
            j->done = 1;
            pthread_cond_signal(&j->cv);
        }
        atomic_fetch_add(&st->write_jobs, (uint64_t)n);
    }
    pthread_mutex_unlock(&st->mu);
    return NULL;
}

static _Thread_local int writes_forbidden;

void store_forbid_writes_on_this_thread(int forbid)
{
    writes_forbidden = forbid;
}

int store_write(store *st, store_write_fn fn, void *ctx)
{
    if (writes_forbidden) {
        log_error(NULL, "store_write on a thread that must not wait for the writer (a route "
                        "marked ROUTE_INLINE that writes?)");
        return W_EINTERNAL;
    }
    struct write_job job = {fn, ctx, WOK, 0, 0, PTHREAD_COND_INITIALIZER, NULL};
    pthread_mutex_lock(&st->mu);
    if (st->stopping) {
        pthread_mutex_unlock(&st->mu);
        return W_EBUSY;
    }
    if (st->tail)
        st->tail->next = &job;
    else
        st->head = &job;
    st->tail = &job;
    pthread_cond_signal(&st->job_cv);
    while (!job.done)
        pthread_cond_wait(&job.cv, &st->mu);
    pthread_mutex_unlock(&st->mu);
    pthread_cond_destroy(&job.cv);
    return job.rc;
}

/* ---- migrations ----------------------------------------------------- */

/* Migrations are the embedded assets named sql/NNN_*.sql, applied in
 * order; NNN is the schema version each one brings the database to. */
static int migration_version(const char *name)
{
    if (strncmp(name, "sql/", 4) != 0)
        return -1;
    const char *p = name + 4;
    int v = 0, nd = 0;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (*p++ - '0');
        nd++;
    }
    return (nd == 3 && *p == '_') ? v : -1;
}

int store_schema_latest(void)
{
    int latest = 0;
    for (const struct asset *a = assets; a->name; a++) {
        int v = migration_version(a->name);
        if (v > latest)
            latest = v;
    }
    return latest;
}

static int read_version(db *d, int *version)
{
    *version = 0;
    db_stmt *s = db_query(d, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = "
                             "'schema_migrations'", "");
    if (!s)
        return W_EINTERNAL;
    int has = db_step(s) == DB_ROW && db_col_int(s, 0) > 0;
    db_done(s);
    if (!has)
        return WOK;
    s = db_query(d, "SELECT coalesce(max(version), 0) FROM schema_migrations", "");
    if (!s)
        return W_EINTERNAL;
    if (db_step(s) == DB_ROW)
        *version = db_col_int(s, 0);
    db_done(s);
    return WOK;
}

static int migrate(store *st, werr *e)
{
    db *d = st->writer;
    int current;
    if (exec_simple(d, "BEGIN IMMEDIATE") != WOK)
        return werr_set(e, W_EINTERNAL, "migration_failed", "cannot lock database for migration");
    if (read_version(d, &current) != WOK) {
        exec_simple(d, "ROLLBACK");
        return werr_set(e, W_EINTERNAL, "migration_failed", "cannot read schema version");
    }
    int latest = store_schema_latest();
    if (current > latest) {
        exec_simple(d, "ROLLBACK");
        return werr_set(e, W_ECONFLICT, "database_too_new",
                        "database %s is at schema version %d but this whistle binary knows only "
                        "up to %d: upgrade whistle (or restore a backup made by this version)",
                        st->path, current, latest);
    }
    for (int v = current + 1; v <= latest; v++) {
        const struct asset *m = NULL;
        for (const struct asset *a = assets; a->name; a++)
            if (migration_version(a->name) == v)
                m = a;
        if (!m) {
            exec_simple(d, "ROLLBACK");
            return werr_set(e, W_EINTERNAL, "migration_missing", "migration %03d is missing", v);
        }
        char *msg = NULL;
        if (sqlite3_exec(d->h, (const char *)m->data, NULL, NULL, &msg) != SQLITE_OK) {
            werr_set(e, W_EINTERNAL, "migration_failed", "migration %s failed: %s", m->name,
                     msg ? msg : "?");
            sqlite3_free(msg);
            exec_simple(d, "ROLLBACK");
            return W_EINTERNAL;
        }
        char when[32];
        clock_format(clock_now(), when);
        if (db_exec(d, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    "itt", v, m->name, when) != WOK) {
            exec_simple(d, "ROLLBACK");
            return werr_set(e, W_EINTERNAL, "migration_failed", "cannot record migration %s",
                            m->name);
        }
        log_info(NULL, "applied migration %s", m->name);
    }
    if (exec_simple(d, "COMMIT") != WOK)
        return werr_set(e, W_EINTERNAL, "migration_failed", "cannot commit migrations");
    st->schema_version = latest;
    return WOK;
}

/* ---- open / close --------------------------------------------------- */

/* SQLite counts every allocation under one process-wide mutex while memory
 * statistics are on; nothing here reads them (sqlite3_memory_used), and
 * with dozens of connection threads that mutex was a convoy: a holder
 * preempted at nice 10 stalled every other query. Off, before SQLite is
 * initialised; if something initialised it first, the call is refused and
 * the only loss is that speed. */
static pthread_once_t sqlite_tuned = PTHREAD_ONCE_INIT;
static void sqlite_tune(void)
{
    if (sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK)
        log_warn(NULL, "SQLite was initialised before the store: memory statistics stay on");
}

int store_open(const char *path, store **out, werr *e)
{
    pthread_once(&sqlite_tuned, sqlite_tune);
    store *st = calloc(1, sizeof *st);
    if (!st || !(st->path = strdup(path))) {
        free(st);
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    }
    pthread_mutex_init(&st->pool_mu, NULL);
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->job_cv, NULL);
    pthread_cond_init(&st->done_cv, NULL);
    pthread_mutex_init(&st->ckpt_mu, NULL);
    pthread_cond_init(&st->ckpt_cv, NULL);
    const char *sp = getenv("WHISTLE_WRITE_SAVEPOINTS");
    st->always_savepoints = sp && *sp == '1';
    int rc = db_open_conn(st, CONN_WRITER, &st->writer, e);
    if (rc == WOK)
        rc = migrate(st, e);
    if (rc == WOK)
        ckpt_start(st);
    if (rc == WOK && pthread_create(&st->writer_thread, NULL, writer_main, st) != 0)
        rc = werr_set(e, W_EINTERNAL, "thread", "cannot start writer thread");
    if (rc != WOK) {
        ckpt_stop(st);
        db_close_conn(st->writer);
        free(st->path);
        free(st);
        return rc;
    }
    *out = st;
    return WOK;
}

void store_close(store *st)
{
    if (!st)
        return;
    pthread_mutex_lock(&st->mu);
    st->stopping = 1;
    pthread_cond_broadcast(&st->job_cv);
    pthread_mutex_unlock(&st->mu);
    pthread_join(st->writer_thread, NULL);
    ckpt_stop(st);
    for (int i = 0; i < st->n_idle; i++)
        db_close_conn(st->idle[i]);
    /* Fold the WAL back into the main file so that a copied .db is whole. */
    sqlite3_wal_checkpoint_v2(st->writer->h, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    db_close_conn(st->writer);
    pthread_mutex_destroy(&st->pool_mu);
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->job_cv);
    pthread_cond_destroy(&st->done_cv);
    pthread_mutex_destroy(&st->ckpt_mu);
    pthread_cond_destroy(&st->ckpt_cv);
    free(st->path);
    free(st);
}

const char *store_path(const store *st)
{
    return st->path;
}

int store_schema_version(store *st)
{
    return st->schema_version;
}

int store_backup(store *st, const char *path, werr *e)
{
    sqlite3 *dst = NULL;
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.partial", path) >= (int)sizeof tmp)
        return werr_set(e, W_EINVALID, "bad_path", "backup path too long");
    remove(tmp);
    if (sqlite3_open(tmp, &dst) != SQLITE_OK) {
        werr_set(e, W_EINTERNAL, "backup_failed", "cannot create %s: %s", tmp, sqlite3_errmsg(dst));
        sqlite3_close(dst);
        return W_EINTERNAL;
    }
    db *src = store_reader(st);
    if (!src) {
        sqlite3_close(dst);
        return werr_set(e, W_EINTERNAL, "backup_failed", "cannot open source database");
    }
    /* Copy in one step: in WAL mode the reader's snapshot is consistent and
     * writers carry on meanwhile. */
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src->h, "main");
    int rc = SQLITE_ERROR;
    if (b) {
        rc = sqlite3_backup_step(b, -1);
        sqlite3_backup_finish(b);
    }
    store_release(st, src);
    if (rc != SQLITE_DONE) {
        werr_set(e, W_EINTERNAL, "backup_failed", "backup failed: %s", sqlite3_errmsg(dst));
        sqlite3_close(dst);
        remove(tmp);
        return W_EINTERNAL;
    }
    /* The copy keeps WAL mode from the source; make it a single file. */
    sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
    if (sqlite3_close(dst) != SQLITE_OK || rename(tmp, path) != 0) {
        remove(tmp);
        return werr_set(e, W_EINTERNAL, "backup_failed", "cannot finish backup %s", path);
    }
    return WOK;
}

int store_check_integrity(store *st, werr *e)
{
    db *d = store_reader(st);
    if (!d)
        return werr_set(e, W_EINTERNAL, "database_unavailable", "cannot open database");
    db_stmt *s = db_query(d, "PRAGMA integrity_check", "");
    int ok = 0;
    char first[300] = "";
    if (s && db_step(s) == DB_ROW) {
        const char *r = db_col_text(s, 0);
        ok = r && strcmp(r, "ok") == 0;
        snprintf(first, sizeof first, "%s", r ? r : "?");
    }
    db_done(s);
    store_release(st, d);
    return ok ? WOK : werr_set(e, W_EINTERNAL, "integrity_failed", "integrity check: %s", first);
}

void store_get_stats(store *st, store_stats *out)
{
    out->write_jobs = atomic_load(&st->write_jobs);
    out->write_batches = atomic_load(&st->write_batches);
    out->write_ns = atomic_load(&st->write_ns);
    out->read_ns = atomic_load(&st->read_ns);
    out->reads = atomic_load(&st->reads);
    out->write_reruns = atomic_load(&st->write_reruns);
    out->checkpoints = atomic_load(&st->checkpoints);
    out->full_scans = atomic_load(&st->full_scans);
}
