/*
 * store — the one narrow interface to the database. Every SQL statement of
 * whistle goes through it; a PostgreSQL backend will implement the same
 * functions later, so keep SQL to the subset both accept (use `?`
 * placeholders; the PostgreSQL backend renumbers them).
 *
 * Reads:  db *d = store_reader(st); ... store_release(st, d);
 *         Readers come from a pool of WAL read connections.
 * Writes: rc = store_write(st, fn, ctx);
 *         fn(db, ctx) runs on the single writer connection inside a
 *         transaction shared with other writers' jobs (group commit, one
 *         fsync per batch with synchronous=FULL). store_write returns only
 *         after the batch is durable. If fn returns non-zero, only its own
 *         changes are rolled back and its code is returned; other jobs of
 *         the batch are unaffected.
 *
 *         RULE: a write fn may run more than once; it must only write
 *         through d and set its outputs in ctx. Batches run without a
 *         savepoint per job (they cost 20–40% of the writer's time); when
 *         a job fails AFTER changing rows, the whole transaction is rolled
 *         back and the batch re-run without it (with a savepoint per job),
 *         so the jobs that had succeeded run again on the same state. So:
 *         overwrite outputs (never `c->n++` on a ctx field, never append to
 *         a ctx list without resetting it first), free or replace any
 *         allocation a previous run left in ctx, do not touch anything
 *         outside the database (files, queues, in-memory caches that are
 *         not re-derived), and never modify the inputs in ctx (copy them
 *         into locals or a separate output field). Failing before the
 *         first write (validation, state checks) is the cheap path.
 *
 * Statements: s = db_query(d, sql, types, ...) prepares (cached per
 * connection) and binds; then db_step(s) until it returns DB_DONE; then
 * db_done(s). types has one letter per `?`:
 *   i int, I int64_t, d double, t const char * (NULL binds NULL),
 *   b const void *, int length (blob), n NULL.
 */
#ifndef WHISTLE_STORE_H
#define WHISTLE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct store store;
typedef struct db db;
typedef struct db_stmt db_stmt;

enum { DB_DONE = 0, DB_ROW = 1, DB_ERROR = -1 };

typedef struct store_stats {
    uint64_t write_jobs, write_batches, write_ns, read_ns, reads;
    uint64_t write_reruns; /* batches re-run because a job failed after writing */
    uint64_t checkpoints;  /* PASSIVE checkpoints by the checkpointer thread */
    uint64_t full_scans;   /* statement runs that read >= STORE_FULL_SCAN_ROWS rows of a
                              table without an index (each also logged, once per statement) */
} store_stats;

#define STORE_FULL_SCAN_ROWS 100000

/* Opens (creating if needed) and migrates the database at path.
 * On failure returns W_E* with e filled. */
int store_open(const char *path, store **out, werr *e);
void store_close(store *st);
const char *store_path(const store *st);
/* The schema version the database is at, and the newest this binary knows. */
int store_schema_version(store *st);
int store_schema_latest(void);

/* The writer connection's page cache, in KiB (a bulk import raises it for
 * its own transaction: import.c). */
#define STORE_WRITER_CACHE_KB 32768

db *store_reader(store *st);
/* Readers map up to `bytes` of the database file into memory (SQLite's
 * mmap_size) instead of copying every page they read into their own small
 * cache with pread: a commit empties each reader's cache (WAL mode), so
 * under writes nearly every page a read touches is a system call and a
 * copy. The mapped pages are the OS page cache, shared, but they count in
 * the process's resident set. 0 (the default): no map. Process-wide and
 * before any store is opened (SQLite's default for new connections; the
 * writer and checkpointer keep none): W_EINTERNAL after. */
int store_configure_read_mmap(int64_t bytes);
/* The map size SQLite granted a reader (it caps it at its compile-time
 * limit: 2 GB in Debian 12's build). */
int64_t store_read_mmap(store *st);
/* A reader inside one read transaction (a snapshot): every query until
 * store_release sees the same state, and the WAL read lock is taken once
 * rather than by each statement (each take goes through a mutex shared by
 * every connection of the process). For handlers that only read: a
 * store_write before store_release would be hidden from the snapshot.
 * NULL when no reader can be had. */
db *store_snapshot(store *st);
void store_release(store *st, db *d);

typedef int (*store_write_fn)(db *d, void *ctx);
int store_write(store *st, store_write_fn fn, void *ctx);
/* Marks the calling thread as one that must never wait for the writer (an
 * HTTP event thread serving many connections: http.c). store_write from
 * such a thread refuses with W_EINTERNAL and logs why, so that a route
 * wrongly marked ROUTE_INLINE fails its tests instead of stalling every
 * connection of the thread behind a group commit. */
void store_forbid_writes_on_this_thread(int forbid);

/* SQLite online backup of the live database into path (safe while serving). */
int store_backup(store *st, const char *path, werr *e);
/* Runs PRAGMA integrity_check; WOK when "ok". */
int store_check_integrity(store *st, werr *e);
void store_get_stats(store *st, store_stats *out);

db_stmt *db_query(db *d, const char *sql, const char *types, ...);
int db_step(db_stmt *s);
void db_done(db_stmt *s);
/* Runs a statement that returns no rows; returns WOK, W_ECONFLICT on a
 * constraint violation, or W_EINTERNAL. */
int db_exec(db *d, const char *sql, const char *types, ...);

int db_col_int(db_stmt *s, int col);
int64_t db_col_int64(db_stmt *s, int col);
double db_col_double(db_stmt *s, int col);
/* Valid until the next db_step/db_done on s; NULL for SQL NULL. */
const char *db_col_text(db_stmt *s, int col);
const void *db_col_blob(db_stmt *s, int col, int *len);
int db_col_is_null(db_stmt *s, int col);
int db_col_count(db_stmt *s);
const char *db_col_name(db_stmt *s, int col);

int64_t db_last_id(db *d);
int db_changes(db *d);
/* 1 when the last failure on d was a constraint (unique, foreign key…). */
int db_last_was_constraint(db *d);
const char *db_errmsg(db *d);

#endif
