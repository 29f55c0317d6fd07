/* preflight: every check `serve` runs before it creates or binds anything,
 * shared with `check-config` so that a file check-config passes starts. */
#pragma once
#include <stdbool.h>

#include "core/config.h"

/* Runs every check; errors go into e (one line each, file:line [section]
 * key), warnings are printed on stderr at once. Returns the error count. */
int preflight(const struct config *cfg, struct config_errors *e);
/* Only the data directory check (for the account subcommands, which create
 * the data directory): 0, or -1 with the error added to e. */
int preflight_data_dir(const struct config *cfg, struct config_errors *e);
