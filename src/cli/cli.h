/* cli: the `portico` subcommands. Each takes the loaded config and the
 * arguments after its own name, and returns the process exit status.
 * The names are a contract (DESIGN.md "Configuration"): keep them stable. */
#pragma once
#include "core/config.h"

int cli_serve(const struct config *cfg, int argc, char **argv);
int cli_check_config(const struct config *cfg, int argc, char **argv);
int cli_user(const struct config *cfg, int argc, char **argv);   /* add|passwd|del|list */
int cli_domain(const struct config *cfg, int argc, char **argv); /* add|del|list */
int cli_alias(const struct config *cfg, int argc, char **argv);  /* add|del|list */
