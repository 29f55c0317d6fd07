/* cli domain: `portico domain add|del|list`, the local domains that
 * accounts and aliases live in. */
#include "cli/cli.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "auth/accounts.h"

/* Domains are stored lower-case; say so in what we print. */
static void print_lower(const char *what, const char *domain)
{
    fputs(what, stdout);
    for (const char *p = domain; *p != '\0'; p++)
        putchar(tolower((unsigned char)*p));
    putchar('\n');
}

static int domain_add(struct authdb *db, char **args)
{
    char err[512];
    if (authdb_domain_add(db, args[0], err, sizeof err) < 0)
        return cli_fail("domain add", "%s", err);
    print_lower("added domain ", args[0]);
    return cli_flush("domain add");
}

static int domain_del(struct authdb *db, char **args)
{
    char err[512];
    if (authdb_domain_del(db, args[0], err, sizeof err) < 0)
        return cli_fail("domain del", "%s", err);
    print_lower("deleted domain ", args[0]);
    return cli_flush("domain del");
}

static void print_line(void *arg, const char *s)
{
    fprintf(arg, "%s\n", s);
}

static int domain_list(struct authdb *db, char **args)
{
    if (authdb_domain_list(db, print_line, stdout) < 0)
        return cli_fail("domain list", "cannot read the domains");
    return cli_flush("domain list");
}

static const struct cli_verb domain_verbs[] = {
    {"add", "domain add", 1, domain_add},
    {"del", "domain del", 1, domain_del},
    {"list", "domain list", 0, domain_list},
};

static int domain_usage(void)
{
    return cli_usage_error("domain");
}

int cli_domain(const struct config *cfg, int argc, char **argv)
{
    return cli_run_verb(cfg, domain_verbs, sizeof domain_verbs / sizeof *domain_verbs,
                        argc, argv, domain_usage);
}
