/* parse_value: the typed values on top of the reader (RFC 9051 9): flags
 * and flag lists, date-time (APPEND) and date (SEARCH), mailbox names and
 * LIST patterns (UTF-8 or, for rev1 clients, modified UTF-7). Pure. */
#include <string.h>
#include <strings.h>

#include "core/mutf7.h"
#include "core/utf8.h"
#include "imap/parse.h"

static const struct {
    const char *name;
    unsigned bit;
} system_flags[] = {
    {"\\Seen", IMAP_FLAG_SEEN},       {"\\Answered", IMAP_FLAG_ANSWERED},
    {"\\Flagged", IMAP_FLAG_FLAGGED}, {"\\Deleted", IMAP_FLAG_DELETED},
    {"\\Draft", IMAP_FLAG_DRAFT},
};

static int add_keyword(struct imap_parser *p, struct imap_flags *f, const char *kw)
{
    for (size_t i = 0; i < f->nkeywords; i++)
        if (strcasecmp(f->keywords[i], kw) == 0)
            return 0; /* RFC 9051 2.3.2: flags are case-insensitive */
    if (f->nkeywords >= IMAP_MAX_FLAG_KEYWORDS)
        return imap_error(p, "Too many keywords");
    f->keywords[f->nkeywords++] = kw;
    return 0;
}

int imap_flag(struct imap_parser *p, struct imap_flags *f)
{
    bool system = imap_accept(p, '\\');
    const char *name;
    if (imap_atom(p, &name) < 0)
        return -1;
    if (!system) {
        if (strlen(name) > IMAP_MAX_ATOM)
            return imap_error(p, "Keyword too long");
        return add_keyword(p, f, name);
    }
    for (size_t i = 0; i < sizeof system_flags / sizeof system_flags[0]; i++) {
        if (strcasecmp(system_flags[i].name + 1, name) == 0) {
            f->system |= system_flags[i].bit;
            return 0;
        }
    }
    if (strcasecmp(name, "Recent") == 0)
        return imap_error(p, "\\Recent cannot be set by a client");
    return imap_error(p, "Unknown system flag \\%s", name);
}

int imap_flag_list(struct imap_parser *p, struct imap_flags *f)
{
    memset(f, 0, sizeof *f);
    if (imap_list_open(p) < 0)
        return -1;
    bool first = true;
    int r;
    while ((r = imap_list_next(p, &first)) > 0)
        if (imap_flag(p, f) < 0)
            return -1;
    return r;
}

int64_t imap_days_from_civil(int year, unsigned mon, unsigned day)
{
    /* H. Hinnant's days_from_civil: exact for the proleptic Gregorian
     * calendar. */
    int64_t y = year;
    if (mon <= 2)
        y--;
    int64_t era = y / 400;
    if (y < 0 && y % 400 != 0)
        era--;
    int64_t yoe = y - era * 400;
    int64_t mp = (int64_t)mon + 9;
    if (mon > 2)
        mp = (int64_t)mon - 3;
    int64_t doy = (153 * mp + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static unsigned days_in_month(int year, unsigned mon)
{
    static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (mon == 2 && leap)
        return 29;
    return days[mon - 1];
}

/* Exactly n digits into *out. */
static int digits(struct imap_parser *p, unsigned n, unsigned *out)
{
    unsigned v = 0;
    *out = 0; /* gcc -O2 cannot see that imap_error() returns -1 */
    for (unsigned i = 0; i < n; i++) {
        int c = imap_peek(p);
        if (c < '0' || c > '9')
            return imap_error(p, "Invalid date or time");
        v = v * 10 + (unsigned)(c - '0');
        p->pos++;
    }
    *out = v;
    return 0;
}

/* RFC 9051 9 date-month, case-insensitive (RFC 9051 9 note: all
 * alphabetic characters are case-insensitive). */
static int month(struct imap_parser *p, unsigned *mon)
{
    static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    if (p->len - p->pos < 3)
        return imap_error(p, "Invalid month");
    for (unsigned m = 0; m < 12; m++) {
        if (strncasecmp(p->s + p->pos, names + 3 * m, 3) == 0) {
            p->pos += 3;
            *mon = m + 1;
            return 0;
        }
    }
    return imap_error(p, "Invalid month");
}

/* day "-" month "-" year, with day of 1 or 2 digits (or " d" when fixed). */
static int date_text(struct imap_parser *p, bool fixed, int *year, unsigned *mon,
                     unsigned *day)
{
    unsigned d = 0, d2 = 0, y = 0;
    if (fixed && imap_accept(p, ' ')) {
        if (digits(p, 1, &d) < 0)
            return -1;
    } else if (fixed) {
        if (digits(p, 2, &d) < 0)
            return -1;
    } else {
        if (digits(p, 1, &d) < 0)
            return -1;
        if (imap_peek(p) >= '0' && imap_peek(p) <= '9' && digits(p, 1, &d2) == 0)
            d = d * 10 + d2;
    }
    if (imap_expect(p, '-') < 0 || month(p, mon) < 0 || imap_expect(p, '-') < 0 ||
        digits(p, 4, &y) < 0)
        return -1;
    if (d == 0 || d > days_in_month((int)y, *mon))
        return imap_error(p, "Invalid day of month");
    *year = (int)y;
    *day = d;
    return 0;
}

int imap_date(struct imap_parser *p, int64_t *days)
{
    bool q = imap_accept(p, '"');
    int year;
    unsigned mon, day;
    if (date_text(p, false, &year, &mon, &day) < 0)
        return -1;
    if (q && imap_expect(p, '"') < 0)
        return -1;
    *days = imap_days_from_civil(year, mon, day);
    return 0;
}

/* time SP zone: "hh:mm:ss +hhmm" (RFC 9051 9 time, zone). */
static int time_zone(struct imap_parser *p, int64_t *secs, int *zone_min)
{
    unsigned h = 0, m = 0, s = 0, zh = 0, zm = 0;
    if (digits(p, 2, &h) < 0 || imap_expect(p, ':') < 0 || digits(p, 2, &m) < 0 ||
        imap_expect(p, ':') < 0 || digits(p, 2, &s) < 0 || imap_expect(p, ' ') < 0)
        return -1;
    int sign = 1;
    if (imap_accept(p, '-'))
        sign = -1;
    else if (imap_expect(p, '+') < 0)
        return -1;
    if (digits(p, 2, &zh) < 0 || digits(p, 2, &zm) < 0)
        return -1;
    if (h > 23 || m > 59 || s > 60 || zm > 59)
        return imap_error(p, "Invalid time or zone");
    *secs = (int64_t)h * 3600 + m * 60 + s;
    *zone_min = sign * (int)(zh * 60 + zm);
    return 0;
}

int imap_date_time(struct imap_parser *p, int64_t *utc, int *zone_min)
{
    int year;
    unsigned mon, day;
    int64_t secs = 0;
    if (imap_expect(p, '"') < 0 || date_text(p, true, &year, &mon, &day) < 0 ||
        imap_expect(p, ' ') < 0 || time_zone(p, &secs, zone_min) < 0 ||
        imap_expect(p, '"') < 0)
        return -1;
    *utc = imap_days_from_civil(year, mon, day) * 86400 + secs - (int64_t)*zone_min * 60;
    return 0;
}

/* A decoded name: UTF-8 without controls (RFC 9051 5.1: names are
 * UTF-8; controls make no sense in a name), at most MAIL_MAX_FOLDER. */
static int check_name(struct imap_parser *p, const char *s, size_t n)
{
    if (n > MAIL_MAX_FOLDER)
        return imap_error(p, "Mailbox name too long");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return imap_error(p, "Control character in mailbox name");
    if (!utf8_valid((const unsigned char *)s, n))
        return imap_error(p, "Mailbox name is not valid UTF-8");
    return 0;
}

/* With IMAP_PARSE_MUTF7 the name is modified UTF-7 (RFC 3501 5.1.3). */
static int decode_name(struct imap_parser *p, const char *s, size_t n, const char **out)
{
    if (!(p->flags & IMAP_PARSE_MUTF7)) {
        *out = s;
        return check_name(p, s, n);
    }
    char *dst = imap_scratch_reserve(p, MAIL_MAX_FOLDER + 1);
    if (dst == NULL)
        return imap_error(p, "Out of memory");
    size_t len;
    int r = mutf7_decode(s, n, dst, MAIL_MAX_FOLDER + 1, &len);
    if (r == MUTF7_NO_ROOM)
        return imap_error(p, "Mailbox name too long");
    if (r != MUTF7_OK)
        return imap_error(p, "Mailbox name is not valid modified UTF-7");
    imap_scratch_commit(p, len + 1);
    *out = dst;
    return check_name(p, dst, len);
}

int imap_mailbox(struct imap_parser *p, const char **out)
{
    const char *s;
    size_t n;
    if (imap_astring_text(p, &s, &n) < 0 || decode_name(p, s, n, out) < 0)
        return -1;
    if (strcasecmp(*out, "INBOX") == 0)
        *out = "INBOX"; /* RFC 9051 5.1: INBOX is case-insensitive */
    return 0;
}

int imap_list_mailbox(struct imap_parser *p, const char **out)
{
    int c = imap_peek(p);
    const char *s;
    size_t n;
    if (c == '"' || c == '{') {
        if (imap_string_text(p, &s, &n) < 0)
            return -1;
    } else {
        /* RFC 9051 9 list-char: ATOM-CHAR / list-wildcards / resp-specials */
        if (imap_chars(p, "%*]", "", &s) < 0)
            return -1;
        n = strlen(s);
    }
    return decode_name(p, s, n, out);
}
