/* cli domain: `portico domain add|del|list`, the local domains that
 * accounts and aliases live in. */
#include "cli/cli.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "auth/accounts.h"
#include "core/idna.h"

/* Domains are stored lower-case, international ones as A-labels; what we
 * print shows the U-label. */
static void print_lower(const char *what, const char *domain)
{
    char shown[256];
    idna_to_unicode(domain, shown, sizeof shown);
    fputs(what, stdout);
    for (const char *p = shown; *p != '\0'; p++)
        putchar(tolower((unsigned char)*p));
    putchar('\n');
}

/* "bücher.example" is stored as "xn--bcher-kva.example"; a name that is no
 * valid host name stays as written, for the store to refuse. */
static const char *stored_name(const char *domain, char *buf, size_t len)
{
    if (idna_to_ascii(domain, buf, len) == 0)
        return buf;
    return domain;
}

static int domain_add(struct authdb *db, char **args)
{
    char err[512], buf[256];
    const char *domain = stored_name(args[0], buf, sizeof buf);
    if (authdb_domain_add(db, domain, err, sizeof err) < 0)
        return cli_fail("domain add", "%s", err);
    print_lower("added domain ", domain);
    return cli_flush("domain add");
}

static int domain_del(struct authdb *db, char **args)
{
    char err[512], buf[256];
    const char *domain = stored_name(args[0], buf, sizeof buf);
    if (authdb_domain_del(db, domain, err, sizeof err) < 0)
        return cli_fail("domain del", "%s", err);
    print_lower("deleted domain ", domain);
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
