#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static void print_flags(FILE *f, struct cli_flag *flags)
{
    for (struct cli_flag *fl = flags; fl && fl->name; fl++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s", fl->name, fl->is_bool ? "" : " VALUE");
        fprintf(f, "  %-24s %s", left, fl->help);
        if (fl->env)
            fprintf(f, " [env %s]", fl->env);
        if (fl->value && !fl->is_bool)
            fprintf(f, " (default: %s)", fl->value);
        fputc('\n', f);
    }
    fprintf(f, "  %-24s %s\n", "--help", "show this help");
}

_Noreturn void cli_usage_error(const char *cmd, const char *usage, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "whistle %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: whistle %s %s\n(see whistle %s --help)\n", cmd, usage, cmd);
    exit(EXIT_USAGE);
}

int cli_parse(const char *cmd, const char *usage, struct cli_flag *flags, int argc, char **argv,
              const char **pos, int max_pos, int *npos)
{
    *npos = 0;
    for (struct cli_flag *fl = flags; fl && fl->name; fl++)
        if (fl->env && getenv(fl->env) && *getenv(fl->env))
            fl->value = getenv(fl->env);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("usage: whistle %s %s\n\noptions:\n", cmd, usage);
            print_flags(stdout, flags);
            exit(0);
        }
        if (strncmp(a, "--", 2) == 0) {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
            struct cli_flag *hit = NULL;
            for (struct cli_flag *fl = flags; fl && fl->name; fl++)
                if (strlen(fl->name) == nlen && strncmp(fl->name, name, nlen) == 0)
                    hit = fl;
            if (!hit)
                cli_usage_error(cmd, usage, "unknown option %s", a);
            if (hit->is_bool) {
                if (eq)
                    cli_usage_error(cmd, usage, "option --%s takes no value", hit->name);
                hit->value = "1";
            } else if (eq) {
                hit->value = eq + 1;
            } else {
                if (i + 1 >= argc)
                    cli_usage_error(cmd, usage, "option --%s needs a value", hit->name);
                hit->value = argv[++i];
            }
            continue;
        }
        if (*npos >= max_pos)
            cli_usage_error(cmd, usage, "unexpected argument '%s'", a);
        pos[(*npos)++] = a;
    }
    return 0;
}

const char *cli_get(struct cli_flag *flags, const char *name)
{
    for (struct cli_flag *fl = flags; fl && fl->name; fl++)
        if (strcmp(fl->name, name) == 0)
            return fl->value;
    return NULL;
}

long long cli_int(const char *cmd, struct cli_flag *flags, const char *name, long long min,
                  long long max)
{
    const char *v = cli_get(flags, name);
    char *end;
    long long x = v ? strtoll(v, &end, 10) : 0;
    if (!v || !*v || *end || x < min || x > max)
        cli_usage_error(cmd, "...", "--%s %s: expected an integer from %lld to %lld", name,
                        v ? v : "(none)", min, max);
    return x;
}

store *cli_open_store(const char *path)
{
    store *st = NULL;
    werr e = {0};
    if (store_open(path, &st, &e) != WOK) {
        fprintf(stderr, "whistle: %s\n", e.message);
        exit(1);
    }
    return st;
}
