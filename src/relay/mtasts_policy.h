/* mtasts_policy: the text formats of MTA-STS (RFC 8461), pure: the
 * `_mta-sts` TXT record (3.1), the policy file (3.2) and the MX host
 * patterns (4.1). Fed by relay/mtasts.c, unit-tested and fuzzed. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MTASTS_ID_MAX 33        /* 3.1: 1 to 32 alphanumeric characters */
#define MTASTS_MAX_MX 32        /* patterns kept per policy */
#define MTASTS_MAX_AGE 31557600 /* 3.2: about a year */
#define MTASTS_POLICY_MAX 65536 /* 3.3: a policy body larger than this is refused */

enum mtasts_mode { MTASTS_NONE, MTASTS_TESTING, MTASTS_ENFORCE };

struct mtasts_policy {
    enum mtasts_mode mode;
    int64_t max_age;
    size_t nmx;
    char mx[MTASTS_MAX_MX][256];
};

/* The id of a TXT record text ("v=STSv1; id=20160831085700Z;") into id
 * (MTASTS_ID_MAX bytes). 0, or -1 when it is no valid STSv1 record. */
int mtasts_txt_id(const char *txt, size_t len, char *id);
/* Parses a policy body (LF or CRLF lines). 0, or -1 with why. */
int mtasts_policy_parse(const char *text, size_t len, struct mtasts_policy *p,
                        const char **why);
/* True when host (a MX name, any case, trailing dot allowed) matches one
 * of the policy's mx patterns (4.1: exact, or "*." matching one label). */
bool mtasts_mx_matches(const struct mtasts_policy *p, const char *host);
const char *mtasts_mode_name(enum mtasts_mode m);
