/* cli user key: `portico user key add USER [FILE|-]`, `user key list USER`,
 * `user key del USER FINGERPRINT`. A key is one OpenSSH authorized_keys
 * line (an id_ed25519.pub file); add reads it from FILE, or stdin for "-"
 * or no FILE, and prints its fingerprint. */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "auth/accounts.h"
#include "auth/sshkeys.h"
#include "core/idna.h"
#include "core/limits.h"

static int key_usage(void)
{
    return cli_usage_error("user");
}

/* Reads the first line that is not empty or a comment. */
static int read_key_line(const char *path, char *line, size_t cap)
{
    FILE *f = stdin;
    if (path != NULL && strcmp(path, "-") != 0)
        f = fopen(path, "r");
    if (f == NULL)
        return cli_fail("user key add", "cannot open %s: %s", path, strerror(errno));
    int rc = 1;
    while (fgets(line, (int)cap, f) != NULL) {
        size_t n = strlen(line);
        if (n == cap - 1 && line[n - 1] != '\n') {
            rc = cli_fail("user key add", "line too long");
            break;
        }
        const char *p = line + strspn(line, " \t\r\n");
        if (*p != '\0' && *p != '#') {
            rc = 0;
            break;
        }
    }
    if (rc == 1 && line[0] != '\0' && ferror(f) == 0)
        cli_fail("user key add", "no key found");
    if (f != stdin)
        fclose(f);
    return rc;
}

static int key_add(struct authdb *db, const char *address, const char *path)
{
    char line[AUTH_MAX_KEY_LINE + 2];
    struct sshkey k;
    char err[512];
    line[0] = '\0';
    if (read_key_line(path, line, sizeof line) != 0)
        return 1;
    if (authdb_key_add(db, address, line, &k, err, sizeof err) < 0)
        return cli_fail("user key add", "%s", err);
    printf("added %s %s %s\n", k.type, k.fingerprint, k.comment);
    return cli_flush("user key add");
}

static void print_key(void *arg, const struct sshkey *k)
{
    printf("%s %s %s\n", k->fingerprint, k->type, k->comment);
}

static int key_list(struct authdb *db, const char *address)
{
    char err[512];
    if (authdb_key_list(db, address, print_key, NULL, err, sizeof err) < 0)
        return cli_fail("user key list", "%s", err);
    return cli_flush("user key list");
}

static int key_del(struct authdb *db, const char *address, const char *fp)
{
    char err[512];
    if (authdb_key_del(db, address, fp, err, sizeof err) < 0)
        return cli_fail("user key del", "%s", err);
    printf("deleted %s\n", fp);
    return cli_flush("user key del");
}

int cli_user_key(const struct config *cfg, int argc, char **argv)
{
    if (argc < 2)
        return key_usage();
    const char *verb = argv[0], *address = argv[1];
    char ascii[AUTH_ADDRESS_MAX];
    /* u@bücher.example is stored as u@xn--bcher-kva.example (as in user add). */
    if (idna_address_to_ascii(address, ascii, sizeof ascii) == 0)
        address = ascii;
    bool add = strcmp(verb, "add") == 0 && argc <= 3;
    bool list = strcmp(verb, "list") == 0 && argc == 2;
    bool del = strcmp(verb, "del") == 0 && argc == 3;
    if (!add && !list && !del)
        return key_usage();
    struct authdb *db = cli_authdb_open(cfg, "user key");
    if (db == NULL)
        return 1;
    int rc;
    if (add)
        rc = key_add(db, address, argc == 3 ? argv[2] : NULL);
    else if (list)
        rc = key_list(db, address);
    else
        rc = key_del(db, address, argv[2]);
    authdb_close(db);
    return rc;
}
