/* config_check: validators for the key table's string values (host names,
 * domain lists, addresses). Each checks the stored field, may rewrite it
 * in place (to A-labels), and returns why it is invalid or NULL. */
#pragma once
#include <stddef.h>

const char *config_check_hostname(char *field, size_t size);
const char *config_check_domains(char *field, size_t size);
const char *config_check_ipv4(char *field, size_t size);
