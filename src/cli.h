/*
 * cli — the `whistle` command line: a table of subcommands (main.c) and a
 * small flag parser shared by all of them. Every subcommand has --help; a
 * bad flag or value exits 2 with a usage line naming it.
 */
#ifndef WHISTLE_CLI_H
#define WHISTLE_CLI_H

#include "store.h"

#define EXIT_USAGE 2

struct cli_flag {
    const char *name;   /* "db" for --db */
    const char *env;    /* environment variable that sets the default, or NULL */
    const char *help;
    int is_bool;        /* takes no value */
    const char *value;  /* filled: the value (or "1" for a bool), else the default */
};

/* Parses argv (after the subcommand name) against flags; positional
 * arguments are returned in pos[] (at most max_pos). Returns 0, or exits 2
 * on a bad flag, or exits 0 after printing help for --help. */
int cli_parse(const char *cmd, const char *usage, struct cli_flag *flags, int argc, char **argv,
              const char **pos, int max_pos, int *npos);
const char *cli_get(struct cli_flag *flags, const char *name);
/* Integer flag value within [min, max], or exits 2 naming the flag. */
long long cli_int(const char *cmd, struct cli_flag *flags, const char *name, long long min,
                  long long max);
/* Prints "whistle CMD: message" and a usage hint, exits 2. */
_Noreturn void cli_usage_error(const char *cmd, const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Opens the database named by --db (creating and migrating it), or exits 1. */
store *cli_open_store(const char *path);

/* Subcommands implemented outside main.c. */
int cmd_demo(int argc, char **argv);
int cmd_demo_logins(int argc, char **argv);
int cmd_import(int argc, char **argv); /* cli_import.c */
int cmd_export(int argc, char **argv); /* cli_import.c */
int cmd_report(int argc, char **argv); /* cli_eval.c: whistle report monthly */
/* cli_eval.c: the aggregate part of `whistle check` — recomputes every
 * indicator from the timeline for months [from, to] (NULL: all / now) as
 * of `at` (RFC 3339, NULL: now) and compares; prints differences; returns
 * 0 when equal, 1 otherwise. */
int eval_check(store *st, const char *from, const char *to, const char *at);

#endif
