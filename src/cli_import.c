/*
 * cli_import.c — `whistle import KIND FILE [--dry-run]` and
 * `whistle export KIND [--format csv|xlsx] [--out FILE]`.
 *
 * THE KIND TABLE below lists what can be imported and exported. Registry
 * kinds (people, households, buildings, organisations, enterprises,
 * facilities, staff) use the generic import/export of import.h and have
 * NULL handlers. A module with its own CLI adds ONE line, e.g. the GRID
 * module:
 *
 *     {"grids", grid_cli_import, grid_cli_export, "网格 grid tree (CSV or GeoJSON)"},
 *
 * Its handlers receive argv after the kind (the file and the flags).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "audit.h"
#include "cli.h"
#include "grid.h"
#include "import.h"
#include "vault.h"

static const struct cli_kind {
    const char *name;
    int (*import)(int argc, char **argv);
    int (*export)(int argc, char **argv);
    const char *what;
} cli_kinds[] = {
    {"people", NULL, NULL, "实有人口 people (ID numbers and phones sealed)"},
    {"households", NULL, NULL, "户 households by address"},
    {"buildings", NULL, NULL, "楼栋房屋 buildings and houses"},
    {"organisations", NULL, NULL, "单位组织 schools, hospitals, offices"},
    {"enterprises", NULL, NULL, "企业商铺 enterprises and shops"},
    {"facilities", NULL, NULL, "公共设施 manhole covers, street lights, charging sheds …"},
    {"staff", NULL, NULL, "花名册 staff and their duties per grid"},
    {"grids", grid_cli_import, grid_cli_export, "网格 grid tree (CSV or GeoJSON)"},
};
#define NKINDS (sizeof cli_kinds / sizeof cli_kinds[0])

static const struct cli_kind *find_kind(const char *name)
{
    for (size_t i = 0; name && i < NKINDS; i++)
        if (!strcmp(cli_kinds[i].name, name))
            return &cli_kinds[i];
    return NULL;
}

static void kinds_help(FILE *f)
{
    fprintf(f, "kinds:\n");
    for (size_t i = 0; i < NKINDS; i++)
        fprintf(f, "  %-14s %s\n", cli_kinds[i].name, cli_kinds[i].what);
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f)
        return NULL;
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        cap *= 2;
        char *nb = realloc(buf, cap + 1);
        if (!nb) {
            free(buf);
            buf = NULL;
        }
        buf = nb;
    }
    int err = ferror(f);
    if (f != stdin)
        fclose(f);
    if (!buf || err) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* A regular, non-empty file mapped read-only (*len bytes; munmap it), or
 * NULL (then read it with read_all). */
static char *map_file(const char *path, size_t *len)
{
    if (!strcmp(path, "-"))
        return NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat sb;
    char *p = NULL;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0) {
        p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED)
            p = NULL;
        else
            *len = (size_t)sb.st_size;
    }
    close(fd);
    return p;
}

static int kind_usage(const char *cmd, int argc)
{
    if (argc < 1) {
        fprintf(stderr, "whistle %s: name a KIND\n", cmd);
        kinds_help(stderr);
        return EXIT_USAGE;
    }
    return 0;
}

int cmd_import(int argc, char **argv)
{
    const char *usage = "KIND FILE [--dry-run] [--db FILE] [--key-file FILE] [--json]";
    if (argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) {
        printf("usage: whistle import %s\n\nImports a CSV file (UTF-8, GBK/GB18030) with a "
               "header row; every bad row is reported with its line, and nothing is written "
               "unless every row is good.\n\n", usage);
        kinds_help(stdout);
        return 0;
    }
    if (kind_usage("import", argc))
        return EXIT_USAGE;
    const struct cli_kind *k = find_kind(argv[0]);
    if (!k)
        cli_usage_error("import", usage, "unknown kind '%s'", argv[0]);
    if (k->import)
        return k->import(argc - 1, argv + 1);
    struct cli_flag flags[] = {
        {"db", "WHISTLE_DB", "database file", 0, "whistle.db"},
        {"key-file", "WHISTLE_KEY_FILE", "key that seals ID numbers and phones (default: "
                                         "<db>.key)", 0, NULL},
        {"dry-run", NULL, "check every row and report, write nothing", 1, NULL},
        {"json", NULL, "print the full report as JSON", 1, NULL},
        {NULL, NULL, NULL, 0, NULL},
    };
    const char *pos[1];
    int npos;
    cli_parse("import", usage, flags, argc - 1, argv + 1, pos, 1, &npos);
    if (npos != 1)
        cli_usage_error("import", usage, "name the FILE to import (- for standard input)");
    size_t len = 0;
    char *map = map_file(pos[0], &len);
    char *data = map ? NULL : read_all(pos[0], &len);
    if (!map && !data) {
        fprintf(stderr, "whistle import: cannot read %s: %s\n", pos[0], strerror(errno));
        return 1;
    }
    vault_set_key_file(cli_get(flags, "key-file"));
    store *st = cli_open_store(cli_get(flags, "db"));
    audit_actor a;
    audit_actor_system(&a, "cli");
    werr e = {0};
    json_t *report = NULL;
    int dry = cli_get(flags, "dry-run") != NULL;
    int rc = map ? import_registry_mapped(st, &a, NULL, k->name, map, len, dry, pos[0], &report, &e)
                 : import_registry(st, &a, NULL, k->name, data, len, dry, pos[0], &report, &e);
    if (map)
        munmap(map, len);
    free(data);
    store_close(st);
    if (rc != WOK) {
        fprintf(stderr, "whistle import: %s\n", e.message);
        return 1;
    }
    if (cli_get(flags, "json")) {
        char *s = json_dumps(report, JSON_INDENT(2));
        printf("%s\n", s ? s : "{}");
        free(s);
    } else {
        size_t i;
        json_t *x;
        json_array_foreach(json_object_get(report, "errors"), i, x)
            fprintf(stderr, "line %lld: %s\n",
                    (long long)json_integer_value(json_object_get(x, "line")),
                    json_string_value(json_object_get(x, "message")));
        long long errs = (long long)json_integer_value(json_object_get(report, "error_count"));
        printf("%s: %lld rows (%s), %lld new, %lld changed, %lld unchanged, %lld bad: %s\n",
               k->name, (long long)json_integer_value(json_object_get(report, "rows")),
               json_string_value(json_object_get(report, "encoding")),
               (long long)json_integer_value(json_object_get(report, "created")),
               (long long)json_integer_value(json_object_get(report, "updated")),
               (long long)json_integer_value(json_object_get(report, "unchanged")), errs,
               json_is_true(json_object_get(report, "committed"))
                   ? "committed"
                   : (dry ? (errs ? "dry run, nothing written" : "dry run: all rows good")
                          : "nothing written"));
    }
    int ok = json_is_true(json_object_get(report, "committed")) ||
             (dry && json_integer_value(json_object_get(report, "error_count")) == 0);
    json_decref(report);
    return ok ? 0 : 1;
}

int cmd_export(int argc, char **argv)
{
    const char *usage = "KIND [--format csv|xlsx] [--out FILE] [--masked] [--db FILE]";
    if (argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) {
        printf("usage: whistle export %s\n\nWrites the same columns the import reads, so that "
               "an export re-imports unchanged.\n\n", usage);
        kinds_help(stdout);
        return 0;
    }
    if (kind_usage("export", argc))
        return EXIT_USAGE;
    const struct cli_kind *k = find_kind(argv[0]);
    if (!k)
        cli_usage_error("export", usage, "unknown kind '%s'", argv[0]);
    if (k->export)
        return k->export(argc - 1, argv + 1);
    struct cli_flag flags[] = {
        {"db", "WHISTLE_DB", "database file", 0, "whistle.db"},
        {"key-file", "WHISTLE_KEY_FILE", "key that seals ID numbers and phones (default: "
                                         "<db>.key)", 0, NULL},
        {"format", NULL, "csv or xlsx", 0, "csv"},
        {"out", NULL, "output file (csv: default standard output; xlsx: required)", 0, NULL},
        {"masked", NULL, "mask ID numbers and phones (default: full values, audited)", 1, NULL},
        {NULL, NULL, NULL, 0, NULL},
    };
    const char *pos[1];
    int npos;
    cli_parse("export", usage, flags, argc - 1, argv + 1, pos, 0, &npos);
    const char *format = cli_get(flags, "format"), *out = cli_get(flags, "out");
    if (strcmp(format, "csv") && strcmp(format, "xlsx"))
        cli_usage_error("export", usage, "--format %s: expected csv or xlsx", format);
    if (!strcmp(format, "xlsx") && !out)
        cli_usage_error("export", usage, "--format xlsx needs --out FILE");
    vault_set_key_file(cli_get(flags, "key-file"));
    store *st = cli_open_store(cli_get(flags, "db"));
    audit_actor a;
    audit_actor_system(&a, "cli");
    werr e = {0};
    int64_t rows = 0;
    int unmask = cli_get(flags, "masked") == NULL;
    int rc;
    if (!strcmp(format, "xlsx")) {
        rc = import_export_xlsx(st, &a, NULL, k->name, unmask, out, &rows, &e);
    } else {
        wbuf b = WBUF_INIT;
        rc = import_export_csv(st, &a, NULL, k->name, unmask, &b, &rows, &e);
        if (rc == WOK) {
            FILE *f = out ? fopen(out, "wb") : stdout;
            if (!f || fwrite(b.s, 1, b.len, f) != b.len || (out && fclose(f) != 0))
                rc = werr_set(&e, W_EINTERNAL, "write_failed", "cannot write %s: %s",
                              out ? out : "standard output", strerror(errno));
        }
        wbuf_free(&b);
    }
    store_close(st);
    if (rc != WOK) {
        fprintf(stderr, "whistle export: %s\n", e.message);
        return 1;
    }
    if (out)
        printf("%s: %lld rows written to %s\n", k->name, (long long)rows, out);
    return 0;
}
