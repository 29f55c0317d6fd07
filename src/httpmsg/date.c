/* date: formats and parses HTTP-date without strftime/strptime, which
 * follow the locale; RFC 9110 5.6.7 says a recipient MUST accept the two
 * obsolete forms too. */
#include "httpmsg/date.h"

#include <string.h>

static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static void put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
}

void http_date_format(time_t t, char *out)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    memcpy(out, days[tm.tm_wday], 3);
    memcpy(out + 3, ", ", 2);
    put2(out + 5, tm.tm_mday);
    out[7] = ' ';
    memcpy(out + 8, months[tm.tm_mon], 3);
    out[11] = ' ';
    int y = tm.tm_year + 1900;
    put2(out + 12, y / 100);
    put2(out + 14, y % 100);
    out[16] = ' ';
    put2(out + 17, tm.tm_hour);
    out[19] = ':';
    put2(out + 20, tm.tm_min);
    out[22] = ':';
    put2(out + 23, tm.tm_sec);
    memcpy(out + 25, " GMT", 5); /* with the NUL */
}

/* n digits at p (spaces allowed in front for asctime's day). */
static int digits(const char *p, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] == ' ' && *v == 0 && i < n - 1)
            continue;
        if (p[i] < '0' || p[i] > '9')
            return -1;
        *v = *v * 10 + (p[i] - '0');
    }
    return 0;
}

static int month_of(const char *p)
{
    for (int m = 0; m < 12; m++)
        if (memcmp(p, months[m], 3) == 0)
            return m;
    return -1;
}

/* "HH:MM:SS" */
static int clock_of(const char *p, struct tm *tm)
{
    if (p[2] != ':' || p[5] != ':')
        return -1;
    if (digits(p, 2, &tm->tm_hour) < 0 || digits(p + 3, 2, &tm->tm_min) < 0 ||
        digits(p + 6, 2, &tm->tm_sec) < 0)
        return -1;
    return tm->tm_hour < 24 && tm->tm_min < 60 && tm->tm_sec < 61 ? 0 : -1;
}

/* Sun, 06 Nov 1994 08:49:37 GMT */
static int imf_fixdate(const char *p, size_t n, struct tm *tm)
{
    if (n != 29 || p[3] != ',' || p[4] != ' ' || p[7] != ' ' || p[11] != ' ' ||
        p[16] != ' ' || memcmp(p + 25, " GMT", 4) != 0)
        return -1;
    tm->tm_mon = month_of(p + 8);
    if (tm->tm_mon < 0 || digits(p + 5, 2, &tm->tm_mday) < 0 ||
        digits(p + 12, 4, &tm->tm_year) < 0)
        return -1;
    tm->tm_year -= 1900;
    return clock_of(p + 17, tm);
}

/* Sunday, 06-Nov-94 08:49:37 GMT */
static int rfc850(const char *p, size_t n, struct tm *tm)
{
    const char *c = memchr(p, ',', n);
    if (!c)
        return -1;
    size_t k = (size_t)(c - p) + 2; /* after ", " */
    if (n - k != 22 || c[1] != ' ' || p[k + 2] != '-' || p[k + 6] != '-' ||
        p[k + 9] != ' ' || memcmp(p + k + 18, " GMT", 4) != 0)
        return -1;
    tm->tm_mon = month_of(p + k + 3);
    if (tm->tm_mon < 0 || digits(p + k, 2, &tm->tm_mday) < 0 ||
        digits(p + k + 7, 2, &tm->tm_year) < 0)
        return -1;
    if (tm->tm_year < 70) /* RFC 9110 5.6.7: a two-digit year 50 years on */
        tm->tm_year += 100;
    return clock_of(p + k + 10, tm);
}

/* Sun Nov  6 08:49:37 1994 */
static int asctime_form(const char *p, size_t n, struct tm *tm)
{
    if (n != 24 || p[3] != ' ' || p[7] != ' ' || p[10] != ' ' || p[19] != ' ')
        return -1;
    tm->tm_mon = month_of(p + 4);
    if (tm->tm_mon < 0 || digits(p + 8, 2, &tm->tm_mday) < 0 ||
        digits(p + 20, 4, &tm->tm_year) < 0)
        return -1;
    tm->tm_year -= 1900;
    return clock_of(p + 11, tm);
}

bool http_date_parse(struct http_str s, time_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (imf_fixdate(s.p, s.n, &tm) < 0 && rfc850(s.p, s.n, &tm) < 0 &&
        asctime_form(s.p, s.n, &tm) < 0)
        return false;
    if (tm.tm_mday < 1 || tm.tm_mday > 31)
        return false;
    *out = timegm(&tm);
    return *out != (time_t)-1;
}
