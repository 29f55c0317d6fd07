/* cli alias: `portico alias add|del|list`, addresses that forward to an
 * account or another address. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#include "auth/accounts.h"

static int alias_add(struct authdb *db, char **args)
{
    char err[512];
    if (authdb_alias_add(db, args[0], args[1], err, sizeof err) < 0)
        return cli_fail("alias add", "%s", err);
    printf("added alias %s -> %s\n", args[0], args[1]);
    return cli_flush("alias add");
}

static int alias_del(struct authdb *db, char **args)
{
    char err[512];
    if (authdb_alias_del(db, args[0], err, sizeof err) < 0)
        return cli_fail("alias del", "%s", err);
    printf("deleted alias %s\n", args[0]);
    return cli_flush("alias del");
}

static void print_alias(void *arg, const char *alias, const char *target)
{
    fprintf(arg, "%s -> %s\n", alias, target);
}

static int alias_list(struct authdb *db, char **args)
{
    if (authdb_alias_list(db, print_alias, stdout) < 0)
        return cli_fail("alias list", "cannot read the aliases");
    return cli_flush("alias list");
}

static const struct cli_verb alias_verbs[] = {
    {"add", "alias add", 2, alias_add},
    {"del", "alias del", 1, alias_del},
    {"list", "alias list", 0, alias_list},
};

static int alias_usage(void)
{
    return cli_usage_error("alias");
}

int cli_alias(const struct config *cfg, int argc, char **argv)
{
    return cli_run_verb(cfg, alias_verbs, sizeof alias_verbs / sizeof *alias_verbs, argc,
                        argv, alias_usage);
}
