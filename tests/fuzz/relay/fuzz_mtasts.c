/* libFuzzer harness for relay/mtasts_policy.c: the input is read both as
 * a `_mta-sts` TXT record and as a policy file; an accepted policy has a
 * mode, max_age within RFC 8461 3.2's bound and terminated patterns, and
 * every pattern matches itself (when not a wildcard). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay/mtasts_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char id[MTASTS_ID_MAX];
    if (mtasts_txt_id((const char *)data, size, id) == 0 &&
        (strlen(id) == 0 || strlen(id) >= MTASTS_ID_MAX))
        abort();
    struct mtasts_policy p;
    const char *why;
    if (mtasts_policy_parse((const char *)data, size, &p, &why) < 0)
        return 0;
    if (p.max_age < 0 || p.max_age > MTASTS_MAX_AGE || p.nmx > MTASTS_MAX_MX)
        abort();
    for (size_t i = 0; i < p.nmx; i++) {
        if (memchr(p.mx[i], '\0', sizeof p.mx[i]) == NULL)
            abort();
        if (p.mx[i][0] != '*' && p.mx[i][0] && !mtasts_mx_matches(&p, p.mx[i]))
            abort();
    }
    return 0;
}
