/*
 * main.c — the `whistle` command: a table of subcommands. Each one parses
 * its flags (cli.h), opens the store, calls domain modules and exits 0, 1
 * (it failed) or 2 (bad usage).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "auth.h"
#include "cli.h"
#include "clock.h"
#include "crypto.h"
#include "http.h"
#include "jobs.h"
#include "log.h"
#include "order.h"
#include "user.h"
#include "vault.h"
#include "webhook.h"

#define DB_FLAG                                                                                    \
    {                                                                                              \
        "db", "WHISTLE_DB", "database file", 0, "whistle.db"                                       \
    }

static int cmd_version(int argc, char **argv)
{
    struct cli_flag flags[] = {{NULL, NULL, NULL, 0, NULL}};
    const char *pos[1];
    int npos;
    cli_parse("version", "", flags, argc, argv, pos, 0, &npos);
    printf("whistle %s (schema %d)\n", WHISTLE_VERSION, store_schema_latest());
    return 0;
}

static int cmd_init(int argc, char **argv)
{
    struct cli_flag flags[] = {DB_FLAG, {NULL, NULL, NULL, 0, NULL}};
    const char *pos[1];
    int npos;
    cli_parse("init", "[--db FILE]", flags, argc, argv, pos, 0, &npos);
    store *st = cli_open_store(cli_get(flags, "db"));
    werr de = {0};
    if (orders_ensure_defaults(st, &de) != WOK) /* 事项清单 and the working-day calendar */
        fprintf(stderr, "whistle init: default catalogue/calendar: %s\n", de.message);
    printf("database %s ready at schema version %d\n", store_path(st), store_schema_version(st));
    store_close(st);
    return 0;
}

static int cmd_serve(int argc, char **argv)
{
    const char *usage = "[--db FILE] [--listen HOST:PORT] [options]";
    struct cli_flag flags[] = {
        DB_FLAG,
        {"listen", "WHISTLE_LISTEN", "address to serve on", 0, "127.0.0.1:8080"},
        {"max-connections", "WHISTLE_MAX_CONNECTIONS", "concurrent connections", 0, "512"},
        {"timeout", "WHISTLE_TIMEOUT", "seconds a connection may stay idle", 0, "30"},
        {"max-body", "WHISTLE_MAX_BODY", "largest JSON body in bytes", 0, "1048576"},
        {"max-upload", "WHISTLE_MAX_UPLOAD", "largest upload (photos, imports) in bytes", 0,
         "67108864"},
        {"max-header", "WHISTLE_MAX_HEADER", "largest request line + headers in bytes", 0, "32768"},
        {"log-level", "WHISTLE_LOG_LEVEL", "debug, info, warn or error", 0, "info"},
        {"connection-nice", "WHISTLE_CONNECTION_NICE",
         "nice levels the threads that serve connections run below the rest of the process, so "
         "that the single writer runs first (0 to 19; 0: the same)",
         0, "10"},
        {"http-threads", "WHISTLE_HTTP_THREADS",
         "threads that read requests and send answers for all connections (epoll), and run the "
         "cheap reads themselves (1 to 64; 0: a thread per connection instead)",
         0, "4"},
        {"workers", "WHISTLE_WORKERS",
         "threads that run the requests that may wait (writes, long reads) for the HTTP threads "
         "(1 to 1024)",
         0, "64"},
        {"read-mmap-mb", "WHISTLE_READ_MMAP_MB",
         "MB of the database file the readers map into memory instead of copying each page "
         "they read (faster reads; mapped pages count as resident memory; SQLite caps it at "
         "2048 here; 0: no map)",
         0, "0"},
        {"secure-cookies", "WHISTLE_SECURE_COOKIES", "mark cookies Secure (serving behind TLS)", 1,
         NULL},
        {"no-jobs", NULL, "do not run background jobs (overdue checks, webhooks)", 1, NULL},
        {"test-clock", NULL, "allow tests to shift the clock (never in production)", 1, NULL},
        {"key-file", "WHISTLE_KEY_FILE",
         "key that seals ID numbers and phones, kept outside the database (default: <db>.key)", 0,
         NULL},
        {NULL, NULL, NULL, 0, NULL},
    };
    const char *pos[1];
    int npos;
    cli_parse("serve", usage, flags, argc, argv, pos, 0, &npos);
    vault_set_key_file(cli_get(flags, "key-file"));
    server_config cfg;
    server_config_defaults(&cfg);
    cfg.listen = cli_get(flags, "listen");
    cfg.max_connections = (unsigned)cli_int("serve", flags, "max-connections", 1, 100000);
    cfg.timeout_s = (unsigned)cli_int("serve", flags, "timeout", 1, 3600);
    cfg.max_body = (size_t)cli_int("serve", flags, "max-body", 1024, 1LL << 30);
    cfg.max_upload = (size_t)cli_int("serve", flags, "max-upload", 1024, 1LL << 32);
    cfg.max_header = (size_t)cli_int("serve", flags, "max-header", 4096, 1 << 20);
    cfg.secure_cookies = cli_get(flags, "secure-cookies") != NULL;
    cfg.test_clock = cli_get(flags, "test-clock") != NULL;
    cfg.connection_nice = (int)cli_int("serve", flags, "connection-nice", 0, 19);
    cfg.http_threads = (int)cli_int("serve", flags, "http-threads", 0, 64);
    cfg.workers = (int)cli_int("serve", flags, "workers", 1, 1024);
    int64_t read_mmap_mb = cli_int("serve", flags, "read-mmap-mb", 0, 1 << 20);
    const char *lvl = cli_get(flags, "log-level");
    static const char *const levels[] = {"debug", "info", "warn", "error"};
    int level = -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(lvl, levels[i]) == 0)
            level = i;
    if (level < 0)
        cli_usage_error("serve", usage, "--log-level %s: expected debug, info, warn or error", lvl);
    log_set_level(level);

    /* Signals are taken by this thread only (sigwait), never by workers. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (read_mmap_mb > 0 && store_configure_read_mmap(read_mmap_mb << 20) != WOK) {
        fprintf(stderr, "whistle serve: cannot configure the readers' memory map\n");
        return 1;
    }
    store *st = cli_open_store(cli_get(flags, "db"));
    struct server *srv = NULL;
    werr e = {0};
    if (orders_ensure_defaults(st, &e) != WOK) /* first serve of a database made without init */
        log_warn(NULL, "default catalogue/calendar: %s", e.message);
    if (read_mmap_mb > 0)
        log_info(NULL, "readers map up to %lld MB of the database file (asked %lld MB)",
                 (long long)(store_read_mmap(st) >> 20), (long long)read_mmap_mb);
    if (vault_ensure(st, &e) != WOK) { /* the registry's sealing key, loaded once */
        fprintf(stderr, "whistle serve: %s\n", e.message);
        store_close(st);
        return 1;
    }
    if (server_start(st, &cfg, &srv, &e) != WOK) {
        fprintf(stderr, "whistle serve: %s\n", e.message);
        store_close(st);
        return 1;
    }
    jobs_runner *jr = cli_get(flags, "no-jobs") ? NULL : jobs_start(st);
    /* webhook delivery: its own thread, so a slow receiver never delays the jobs */
    webhook_worker *ww = cli_get(flags, "no-jobs") ? NULL : webhook_worker_start(st);
    log_info(NULL, "whistle %s serving http://%s (database %s, schema %d)", WHISTLE_VERSION,
             cfg.listen, store_path(st), store_schema_version(st));
    int sig = 0;
    do {
        sigwait(&set, &sig);
    } while (sig == SIGHUP);
    log_info(NULL, "signal %d: finishing requests in flight, then stopping", sig);
    server_stop(srv);
    jobs_stop(jr);
    webhook_worker_stop(ww);
    store_close(st);
    log_info(NULL, "stopped");
    return 0;
}

static int cmd_backup(int argc, char **argv)
{
    struct cli_flag flags[] = {DB_FLAG, {NULL, NULL, NULL, 0, NULL}};
    const char *pos[1];
    int npos;
    cli_parse("backup", "[--db FILE] BACKUP_FILE", flags, argc, argv, pos, 1, &npos);
    if (npos != 1)
        cli_usage_error("backup", "[--db FILE] BACKUP_FILE", "name the backup file");
    store *st = cli_open_store(cli_get(flags, "db"));
    werr e = {0};
    int rc = store_backup(st, pos[0], &e);
    store_close(st);
    if (rc != WOK) {
        fprintf(stderr, "whistle backup: %s\n", e.message);
        return 1;
    }
    printf("backup written to %s\n", pos[0]);
    return 0;
}

static int cmd_check(int argc, char **argv)
{
    struct cli_flag flags[] = {
        DB_FLAG,
        {"from", NULL, "aggregates: first month YYYY-MM (default: the first)", 0, NULL},
        {"to", NULL, "aggregates: last month YYYY-MM (default: now)", 0, NULL},
        {"now", NULL,
         "aggregates: judge overdue as of this RFC 3339 time "
         "(default: now; the overdue job's time)",
         0, NULL},
        {NULL, NULL, NULL, 0, NULL}};
    const char *pos[1];
    int npos;
    cli_parse("check", "[--db FILE] [--from YYYY-MM] [--to YYYY-MM] [--now TIME]", flags, argc,
              argv, pos, 0, &npos);
    store *st = cli_open_store(cli_get(flags, "db"));
    werr e = {0};
    int rc = store_check_integrity(st, &e);
    if (rc != WOK) {
        store_close(st);
        fprintf(stderr, "whistle check: %s\n", e.message);
        return 1;
    }
    printf("integrity ok\n");
    /* the indicators' aggregates equal a recomputation from the timeline */
    int arc = eval_check(st, cli_get(flags, "from"), cli_get(flags, "to"), cli_get(flags, "now"));
    store_close(st);
    return arc;
}

/* ---- user ------------------------------------------------------------ */

static int cmd_user(int argc, char **argv)
{
    const char *usage = "add|passwd|list|lock|unlock [options] [LOGIN]";
    struct cli_flag flags[] = {
        DB_FLAG,
        {"name", NULL, "display name (add)", 0, NULL},
        {"role", NULL, "role (add): admin, dispatcher, department_handler, grid_worker, ...", 0,
         NULL},
        {"scope-grid", NULL, "grid code the account is scoped to (add)", 0, NULL},
        {"scope-dept", NULL, "department id the account is scoped to (add)", 0, NULL},
        {"phone", NULL, "phone number (add)", 0, NULL},
        {"password-env", NULL,
         "read the password from this environment variable (add, passwd) instead of stdin", 0,
         NULL},
        {NULL, NULL, NULL, 0, NULL},
    };
    const char *pos[3];
    int npos;
    cli_parse("user", usage, flags, argc, argv, pos, 2, &npos);
    if (npos < 1)
        cli_usage_error("user", usage, "name an action: add, passwd, list, lock or unlock");
    const char *action = pos[0];
    const char *login = npos > 1 ? pos[1] : NULL;
    int needs_login = strcmp(action, "list") != 0;
    if (strcmp(action, "add") && strcmp(action, "passwd") && strcmp(action, "list") &&
        strcmp(action, "lock") && strcmp(action, "unlock"))
        cli_usage_error("user", usage, "unknown action '%s'", action);
    if (needs_login && !login)
        cli_usage_error("user", usage, "name the LOGIN");

    char pwbuf[200] = "";
    const char *password = NULL;
    if (strcmp(action, "add") == 0 || strcmp(action, "passwd") == 0) {
        const char *env = cli_get(flags, "password-env");
        if (env) {
            password = getenv(env);
            if (!password)
                cli_usage_error("user", usage, "--password-env %s: variable not set", env);
        } else if (!(strcmp(action, "add") == 0 && cli_get(flags, "role") &&
                     strcmp(cli_get(flags, "role"), "device") == 0)) {
            fprintf(stderr, "password: ");
            if (!fgets(pwbuf, sizeof pwbuf, stdin))
                cli_usage_error("user", usage, "no password given on standard input");
            pwbuf[strcspn(pwbuf, "\r\n")] = '\0';
            password = pwbuf;
        }
    }
    store *st = cli_open_store(cli_get(flags, "db"));
    audit_actor a;
    audit_actor_system(&a, "cli");
    werr e = {0};
    int rc = WOK;
    int64_t id = 0;
    if (strcmp(action, "add") == 0) {
        user_input in = {0};
        in.login = login;
        in.name = cli_get(flags, "name") ? cli_get(flags, "name") : login;
        in.role = cli_get(flags, "role");
        in.phone = cli_get(flags, "phone");
        in.scope_grid = cli_get(flags, "scope-grid");
        if (in.scope_grid)
            in.scope_kind = "grid";
        if (cli_get(flags, "scope-dept")) {
            in.scope_dept = cli_int("user", flags, "scope-dept", 1, INT32_MAX);
            in.scope_kind = "department";
        }
        if (!in.role)
            cli_usage_error("user", usage, "add needs --role");
        in.password = password;
        rc = user_create(st, &a, &in, &id, &e);
        if (rc == WOK)
            printf("user %s created (id %lld)\n", login, (long long)id);
    } else if (strcmp(action, "list") == 0) {
        db *d = store_reader(st);
        json_t *out = NULL;
        rc = d ? user_list(d, NULL, 0, 500, &out, &e) : W_EINTERNAL;
        store_release(st, d);
        if (rc == WOK) {
            size_t i;
            json_t *u;
            printf("%-6s %-20s %-20s %-18s %-10s %s\n", "id", "login", "name", "role", "scope",
                   "state");
            json_array_foreach(json_object_get(out, "items"), i, u)
            {
                printf("%-6lld %-20s %-20s %-18s %-10s %s\n",
                       (long long)json_integer_value(json_object_get(u, "id")),
                       json_string_value(json_object_get(u, "login")),
                       json_string_value(json_object_get(u, "name")),
                       json_string_value(json_object_get(u, "role")),
                       json_string_value(json_object_get(u, "scope_kind")),
                       json_is_true(json_object_get(u, "disabled"))
                           ? "disabled"
                           : (json_is_true(json_object_get(u, "locked")) ? "locked" : "active"));
            }
            json_decref(out);
        }
    } else {
        rc = user_id_by_login(st, login, &id, &e);
        if (rc == WOK && strcmp(action, "passwd") == 0)
            rc = user_set_password(st, &a, id, password, &e);
        else if (rc == WOK)
            rc = user_set_locked(st, &a, id, strcmp(action, "lock") == 0, &e);
        if (rc == WOK)
            printf("user %s: %s done\n", login, action);
    }
    store_close(st);
    if (rc != WOK) {
        fprintf(stderr, "whistle user %s: %s\n", action, e.message[0] ? e.message : "failed");
        return rc == W_EINVALID ? EXIT_USAGE : 1;
    }
    return 0;
}

/* ---- token ----------------------------------------------------------- */

static int cmd_token(int argc, char **argv)
{
    const char *usage = "issue LOGIN [--label TEXT] [--days N] | revoke TOKEN_ID";
    struct cli_flag flags[] = {
        DB_FLAG,
        {"label", NULL, "what the token is for (issue)", 0, "cli"},
        {"days", NULL, "expire after this many days (issue); 0: never", 0, "0"},
        {NULL, NULL, NULL, 0, NULL},
    };
    const char *pos[2];
    int npos;
    cli_parse("token", usage, flags, argc, argv, pos, 2, &npos);
    if (npos != 2 || (strcmp(pos[0], "issue") && strcmp(pos[0], "revoke")))
        cli_usage_error("token", usage, "expected 'issue LOGIN' or 'revoke TOKEN_ID'");
    long long days = cli_int("token", flags, "days", 0, 3650);
    store *st = cli_open_store(cli_get(flags, "db"));
    audit_actor a;
    audit_actor_system(&a, "cli");
    werr e = {0};
    int rc;
    if (strcmp(pos[0], "issue") == 0) {
        int64_t uid = 0, tid = 0;
        char token[64];
        rc = user_id_by_login(st, pos[1], &uid, &e);
        if (rc == WOK)
            rc = auth_token_issue(st, &a, uid, cli_get(flags, "label"),
                                  days ? clock_now() + days * 86400 : 0, token, &tid, &e);
        if (rc == WOK)
            printf("token %lld for %s (shown once): %s\n", (long long)tid, pos[1], token);
    } else {
        char *end;
        long long id = strtoll(pos[1], &end, 10);
        if (*end || id < 1)
            cli_usage_error("token", usage, "TOKEN_ID must be a number");
        rc = auth_token_revoke(st, &a, id, &e);
        if (rc == WOK)
            printf("token %lld revoked\n", id);
    }
    store_close(st);
    if (rc != WOK) {
        fprintf(stderr, "whistle token: %s\n", e.message);
        return 1;
    }
    return 0;
}

/* ---- the command table ----------------------------------------------- */

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"init", cmd_init, "create or migrate the database"},
    {"serve", cmd_serve, "serve the web UI and the API"},
    {"demo", cmd_demo, "fill an empty database with the demo county"},
    {"demo-logins", cmd_demo_logins, "print the demo accounts"},
    {"import", cmd_import, "import people, households, buildings … from CSV"},
    {"export", cmd_export, "export people, households, buildings … as CSV or XLSX"},
    {"user", cmd_user, "add, passwd, list, lock, unlock accounts"},
    {"token", cmd_token, "issue or revoke API tokens"},
    {"backup", cmd_backup, "online backup of the database to a file"},
    {"check", cmd_check, "check the database's integrity"},
    {"report", cmd_report, "the monthly report (月专报) as HTML, CSV or XLSX"},
    {"version", cmd_version, "print the version"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: whistle COMMAND [options]   (whistle COMMAND --help for each)\n\n"
               "whistle — grid-based grassroots governance (网格化基层治理平台)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
    if (crypto_init() != 0) {
        fprintf(stderr, "whistle: cannot initialise libsodium\n");
        return 1;
    }
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(0, NULL);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 2, argv + 2);
    fprintf(stderr, "whistle: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
