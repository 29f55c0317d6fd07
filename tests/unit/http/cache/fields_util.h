/* Helpers of the cache unit tests: header arrays from "Name: value\n"
 * text, and HTTP dates relative to a fixed clock. */
#pragma once
#include <stdio.h>
#include <string.h>

#include "httpmsg/date.h"
#include "httpmsg/request.h"

#define T0 ((time_t)1700000000)
#define MAXH 32

struct hdrs {
    char text[4096];
    struct http_header h[MAXH];
    size_t n;
};

/* Splits text ("A: b\nC: d\n") into fields pointing into x->text. */
static inline struct hdrs *hdrs_set(struct hdrs *x, const char *text)
{
    snprintf(x->text, sizeof x->text, "%s", text);
    x->n = 0;
    char *p = x->text;
    while (*p && x->n < MAXH) {
        char *nl = strchr(p, '\n');
        if (!nl)
            nl = p + strlen(p);
        char *colon = memchr(p, ':', (size_t)(nl - p));
        if (colon) {
            char *v = colon + 1;
            while (*v == ' ')
                v++;
            x->h[x->n].name = (struct http_str){p, (size_t)(colon - p)};
            x->h[x->n].value = (struct http_str){v, (size_t)(nl - v)};
            x->n++;
        }
        p = *nl ? nl + 1 : nl;
    }
    return x;
}

/* "Date: <T0 + off>" style value into buf. */
static inline const char *date_at(long off, char *buf)
{
    http_date_format(T0 + off, buf);
    return buf;
}

static inline struct http_str S(const char *s) {
    return (struct http_str){s, strlen(s)};
}
