/* cli domain: `portico domain add|del|list`, the local domains that
 * accounts and aliases live in. */
#include "cli/cli.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "auth/accounts.h"

struct domain_verb {
    const char *name;
    const char *cmd; /* for messages: "domain add" */
    int nargs;       /* after the verb */
    int (*run)(struct authdb *db, char **args);
};

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

static const struct domain_verb domain_verbs[] = {
    {"add", "domain add", 1, domain_add},
    {"del", "domain del", 1, domain_del},
    {"list", "domain list", 0, domain_list},
};

static int domain_usage(void)
{
    fprintf(stderr, "usage: portico domain add DOMAIN\n"
                    "       portico domain del DOMAIN\n"
                    "       portico domain list\n");
    return 2;
}

int cli_domain(const struct config *cfg, int argc, char **argv)
{
    const struct domain_verb *v = NULL;
    for (size_t i = 0; argc > 0 && i < sizeof domain_verbs / sizeof *domain_verbs; i++)
        if (strcmp(argv[0], domain_verbs[i].name) == 0)
            v = &domain_verbs[i];
    if (v == NULL || argc - 1 != v->nargs || (v->nargs > 0 && argv[1][0] == '-'))
        return domain_usage();
    struct authdb *db = cli_authdb_open(cfg, v->cmd);
    if (db == NULL)
        return 1;
    int rc = v->run(db, argv + 1);
    authdb_close(db);
    return rc;
}
