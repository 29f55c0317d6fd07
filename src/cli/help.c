/* help: the usage text of every subcommand, `portico help [COMMAND]`,
 * `portico COMMAND --help` (stdout, exit 0) and wrong usage (stderr,
 * exit 2). One row per subcommand. */
#include "cli/cli.h"
#include "relay/dkim.h"

#include <stdio.h>
#include <string.h>

struct usage {
    const char *cmd;
    const char *text;
};

static const struct usage usages[] = {
    {"serve",
     "usage: portico [-c FILE] serve\n"
     "Runs the server in the foreground until SIGTERM or SIGINT; SIGHUP reloads\n"
     "the TLS certificate. Without -c the embedded default runs (data in ./var).\n"},
    {"check-config",
     "usage: portico [-c FILE] check-config\n"
     "Runs every check serve runs before it binds and prints every error\n"
     "(FILE:LINE: [section] key: why), or \"FILE: ok\".\n"},
    {"user",
     "usage: portico [-c FILE] user add ADDRESS [--password-stdin | --hash HASH]\n"
     "       portico [-c FILE] user passwd ADDRESS [--password-stdin]\n"
     "       portico [-c FILE] user del ADDRESS [--keep-data]\n"
     "       portico [-c FILE] user list\n"
     "       portico [-c FILE] user key add ADDRESS [FILE|-]\n"
     "       portico [-c FILE] user key list ADDRESS\n"
     "       portico [-c FILE] user key del ADDRESS FINGERPRINT\n"},
    {"domain", "usage: portico [-c FILE] domain add DOMAIN\n"
               "       portico [-c FILE] domain del DOMAIN\n"
               "       portico [-c FILE] domain list\n"},
    {"alias", "usage: portico [-c FILE] alias add ALIAS TARGET\n"
              "       portico [-c FILE] alias del ALIAS\n"
              "       portico [-c FILE] alias list\n"},
    {"queue", "usage: portico [-c FILE] queue list\n"
              "       portico [-c FILE] queue show ID\n"
              "       portico [-c FILE] queue flush [ID]\n"
              "       portico [-c FILE] queue hold ID\n"
              "       portico [-c FILE] queue release ID\n"
              "       portico [-c FILE] queue delete ID [--silent]\n"
              "list and show read the queue files; flush, hold, release and delete are\n"
              "requests the running server applies within a second (delete bounces to\n"
              "the sender unless --silent).\n"},
    {"dkim", "usage: portico [-c FILE] dkim keygen DOMAIN\n"
             "Makes DOMAIN's DKIM keys (RSA-2048, selector " DKIM_SELECTOR_RSA
             ", and Ed25519,\nselector " DKIM_SELECTOR_ED25519
             ") in data_dir/dkim/ if missing and prints their TXT records.\n"},
    {"dns",
     "usage: portico [-c FILE] dns DOMAIN\n"
     "Prints the DNS records DOMAIN needs: MX, SPF, DKIM, DMARC, MTA-STS, TLS-RPT\n"
     "and the RFC 6186 SRV records.\n"},
    {"cache",
     "usage: portico [-c FILE] cache purge URL\n"
     "       portico [-c FILE] cache purge --all\n"
     "Removes the proxy's cached responses to GET and HEAD of URL (every variant),\n"
     "or all of them, from data_dir/cache/; a running server drops its memory\n"
     "copies within a second.\n"},
    {"help", "usage: portico help [COMMAND]\n"},
};

static const char overview[] =
    "usage: portico [-c FILE] COMMAND [ARGS]\n"
    "commands:\n"
    "  serve                      run the server\n"
    "  check-config               validate the configuration\n"
    "  user add|passwd|del|list   manage accounts\n"
    "  user key add|list|del      manage an account's SSH keys\n"
    "  domain add|del|list        manage local domains\n"
    "  alias add|del|list         manage aliases\n"
    "  queue list|show|flush|hold|release|delete  the outbound queue\n"
    "  dkim keygen DOMAIN         make a domain's DKIM keys\n"
    "  dns DOMAIN                 print the DNS records a domain needs\n"
    "  cache purge URL|--all      remove responses from the proxy's cache\n"
    "  help [COMMAND]             this text, or one command's usage\n"
    "  --version                  print the version\n"
    "`portico COMMAND --help` shows a command's usage; portico(8) and\n"
    "portico.conf(5) have the rest.\n";

const char *cli_usage_text(const char *cmd)
{
    for (size_t i = 0; i < sizeof usages / sizeof *usages; i++)
        if (strcmp(usages[i].cmd, cmd) == 0)
            return usages[i].text;
    return NULL;
}

int cli_usage_error(const char *cmd)
{
    const char *text = cli_usage_text(cmd);
    if (!text)
        text = overview;
    fputs(text, stderr);
    return 2;
}

int cli_overview(FILE *f)
{
    fputs(overview, f);
    if (f == stdout)
        return 0;
    return 2;
}

int cli_help(int argc, char **argv)
{
    if (argc == 0)
        return cli_overview(stdout);
    const char *text = cli_usage_text(argv[0]);
    if (argc > 1 || !text) {
        fprintf(stderr, "portico: help: unknown command '%s'\n", argv[0]);
        return cli_overview(stderr);
    }
    fputs(text, stdout);
    return 0;
}

bool cli_wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}
