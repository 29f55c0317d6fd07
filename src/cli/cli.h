/* cli: the `portico` subcommands. Each takes the loaded config and the
 * arguments after its own name, and returns the process exit status.
 * The names are a contract (DESIGN.md "Configuration"): keep them stable. */
#pragma once
#include <stdbool.h>
#include <stdio.h>

#include "core/config.h"

int cli_serve(const struct config *cfg, int argc, char **argv);
int cli_check_config(const struct config *cfg, int argc, char **argv);
int cli_user(const struct config *cfg, int argc, char **argv); /* add|passwd|del|list */
int cli_user_key(const struct config *cfg, int argc,
                 char **argv); /* user key add|list|del */
int cli_domain(const struct config *cfg, int argc, char **argv); /* add|del|list */
int cli_alias(const struct config *cfg, int argc, char **argv);  /* add|del|list */
int cli_queue(const struct config *cfg, int argc, char **argv);  /* list|show|flush|... */
int cli_dkim(const struct config *cfg, int argc, char **argv);   /* keygen DOMAIN */
int cli_dns(const struct config *cfg, int argc, char **argv);    /* DOMAIN */
int cli_cache(const struct config *cfg, int argc, char **argv);  /* purge URL|--all */
/* Hidden: TYPE NAME lines on stdin, one answer line each (cli/dns_query.c). */
int cli_dns_query(const struct config *cfg, int argc, char **argv);

/* These need no configuration (help.c, reference.c). */
int cli_help(int argc, char **argv);
int cli_config_reference(int argc, char **argv);
/* The usage text of a subcommand ("user"), or NULL. */
const char *cli_usage_text(const char *cmd);
/* Prints cmd's usage on stderr; returns 2, the exit status of wrong usage. */
int cli_usage_error(const char *cmd);
/* The command overview: on stdout returns 0, on stderr 2. */
int cli_overview(FILE *f);
/* True when the arguments ask for --help / -h. */
bool cli_wants_help(int argc, char **argv);

/* Helpers shared by the user, domain and alias subcommands (in user.c). */
struct authdb;
/* Prints "portico: CMD: reason" on stderr; returns 1, the exit status. */
int cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Opens the account store in cfg->data_dir, creating the directory (0700)
 * if missing; on failure reports it as cli_fail does and returns NULL. */
struct authdb *cli_authdb_open(const struct config *cfg, const char *cmd);
/* Adds [portico] domains to the account store (those not there yet). */
int cli_add_config_domains(struct authdb *db, const struct config *cfg, char *err,
                           size_t errlen);
/* Flushes stdout: 0, or 1 after reporting a write error. */
int cli_flush(const char *cmd);

/* A subcommand verb that takes a fixed number of plain arguments and the
 * account store: `portico domain add DOMAIN`, `portico alias list`. */
struct cli_verb {
    const char *name;
    const char *cmd; /* for messages: "alias add" */
    int nargs;       /* after the verb */
    int (*run)(struct authdb *db, char **args);
};

/* Finds argv[0] in verbs, checks the argument count (no options), opens the
 * store and runs it; usage() on a bad call. Returns the exit status. */
int cli_run_verb(const struct config *cfg, const struct cli_verb *verbs, size_t nverbs,
                 int argc, char **argv, int (*usage)(void));
