/* pop3 parse: the numeric arguments of the TRANSACTION commands. Strict:
 * decimal digits only, no sign, no leading or trailing space. */
#include "pop3/pop3.h"

#include <errno.h>
#include <stdlib.h>

static int parse_number(const char *arg, const char **end, uint64_t max, uint64_t *out)
{
    if (*arg < '0' || *arg > '9')
        return -1;
    uint64_t v = 0;
    const char *p = arg;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > max || p - arg >= 20)
            return -1;
    }
    *end = p;
    *out = v;
    return 0;
}

int pop3_parse_msgno(const char *arg, uint32_t *n)
{
    const char *end;
    uint64_t v;
    if (parse_number(arg, &end, UINT32_MAX, &v) < 0 || *end || v == 0)
        return -1;
    *n = (uint32_t)v;
    return 0;
}

int pop3_parse_top(const char *arg, uint32_t *n, uint64_t *lines)
{
    const char *end;
    uint64_t v;
    if (parse_number(arg, &end, UINT32_MAX, &v) < 0 || v == 0 || *end != ' ')
        return -1;
    *n = (uint32_t)v;
    if (parse_number(end + 1, &end, UINT64_MAX / 10, lines) < 0 || *end)
        return -1;
    return 0;
}
