/* date: HTTP-date (RFC 9110 5.6.7): IMF-fixdate out, all three formats in.
 * Pure, locale-free. */
#pragma once
#include <stdbool.h>
#include <time.h>

#include "httpmsg/request.h"

#define HTTP_DATE_LEN 29 /* "Sun, 06 Nov 1994 08:49:37 GMT" */

/* Writes t as IMF-fixdate plus a NUL into out[HTTP_DATE_LEN + 1]. */
void http_date_format(time_t t, char *out);
/* Parses IMF-fixdate, RFC 850 or asctime form; false if none matches. */
bool http_date_parse(struct http_str s, time_t *out);
