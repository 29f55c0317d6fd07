/* listing: the HTML page of a directory, read and built on the work pool
 * (a directory scan is unbounded work). In the file area the page carries
 * the upload form (multipart/form-data, RFC 7578) posting to itself. */
#include "http/http.h"

#include "core/conn.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/workpool.h"

#include <dirent.h>
#include <errno.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Entries beyond this are left off the page (named in the page). */
#define HTTP_MAX_LISTING 10000

struct entry {
    char *name;
    bool dir;
    off_t size;
    time_t mtime;
};

struct listing_job {
    struct http_conn *h;
    struct conn *c;
    int dirfd;
    bool files_area;
    bool failed;
    struct evbuffer *page;
    char vpath[STORE_MAX_PATH + 1];
};

static void html_escape(struct evbuffer *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': evbuffer_add(b, "&amp;", 5); break;
        case '<': evbuffer_add(b, "&lt;", 4); break;
        case '>': evbuffer_add(b, "&gt;", 4); break;
        case '"': evbuffer_add(b, "&quot;", 6); break;
        case '\'': evbuffer_add(b, "&#39;", 5); break;
        default: evbuffer_add(b, s, 1); break;
        }
    }
}

static void href_escape(struct evbuffer *b, const char *s)
{
    char enc[3 * 256 + 1];
    long n = http_path_encode(s, strlen(s), enc, sizeof enc - 1);
    if (n > 0) {
        enc[n] = '\0';
        html_escape(b, enc);
    }
}

static int entry_cmp(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->dir != y->dir)
        return x->dir ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Hidden: dot entries, which include uploads in progress
 * (STORE_UPLOAD_PREFIX). */
static bool hidden(const char *name)
{
    return name[0] == '.';
}

static size_t read_entries(struct listing_job *j, struct entry **out)
{
    DIR *d = fdopendir(dup(j->dirfd));
    size_t n = 0, cap = 0;
    struct entry *v = NULL;
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d)) != NULL && n < HTTP_MAX_LISTING;) {
        struct stat st;
        if (hidden(e->d_name) || fstatat(j->dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            struct entry *g = realloc(v, cap * sizeof *v);
            if (!g)
                break;
            v = g;
        }
        v[n] = (struct entry){strdup(e->d_name), S_ISDIR(st.st_mode), st.st_size,
                              st.st_mtim.tv_sec};
        if (v[n].name)
            n++;
    }
    closedir(d);
    if (n > 1)
        qsort(v, n, sizeof *v, entry_cmp);
    *out = v;
    return n;
}

static void page_head(struct listing_job *j)
{
    struct evbuffer *b = j->page;
    const char *base = j->files_area ? "/files" : "";
    evbuffer_add_printf(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                           "<title>Index of %s", base);
    html_escape(b, j->vpath);
    evbuffer_add_printf(b, "</title></head>\n<body>\n<h1>Index of %s", base);
    html_escape(b, j->vpath);
    evbuffer_add_printf(b, "</h1>\n");
    if (j->files_area)
        evbuffer_add_printf(b, "<form method=\"post\" enctype=\"multipart/form-data\">"
                               "<input type=\"file\" name=\"file\" id=\"file\" multiple> "
                               "<button type=\"submit\" id=\"upload\">Upload</button>"
                               "</form>\n");
    evbuffer_add_printf(b, "<table>\n<tr><th>Name</th><th>Size</th><th>Modified</th></tr>\n");
    if (strcmp(j->vpath, "/") != 0)
        evbuffer_add_printf(b, "<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n");
}

static void page_entry(struct evbuffer *b, const struct entry *e)
{
    char date[HTTP_DATE_LEN + 1];
    http_date_format(e->mtime, date);
    evbuffer_add_printf(b, "<tr><td><a href=\"");
    href_escape(b, e->name);
    evbuffer_add_printf(b, "%s\">", e->dir ? "/" : "");
    html_escape(b, e->name);
    if (e->dir)
        evbuffer_add_printf(b, "/</a></td><td>-</td><td>%s</td></tr>\n", date);
    else
        evbuffer_add_printf(b, "</a></td><td>%lld</td><td>%s</td></tr>\n",
                            (long long)e->size, date);
}

static void listing_work(void *arg)
{
    struct listing_job *j = arg;
    struct entry *v = NULL;
    size_t n = read_entries(j, &v);
    page_head(j);
    for (size_t i = 0; i < n; i++) {
        page_entry(j->page, &v[i]);
        free(v[i].name);
    }
    free(v);
    if (n == HTTP_MAX_LISTING)
        evbuffer_add_printf(j->page, "<tr><td colspan=3>(only the first %d entries)</td></tr>\n",
                            HTTP_MAX_LISTING);
    evbuffer_add_printf(j->page, "</table>\n</body></html>\n");
}

static void listing_done(void *arg)
{
    struct listing_job *j = arg;
    if (!j->c->closing) {
        j->h->state = HS_HEAD;
        http_respond_buffer(j->h, 200, "text/html; charset=utf-8", j->page);
    }
    evbuffer_free(j->page);
    close(j->dirfd);
    conn_unref(j->c);
    free(j);
}

void http_listing_send(struct http_conn *h, int dirfd, const char *vpath, bool files_area)
{
    struct listing_job *j = calloc(1, sizeof *j);
    if (j)
        j->page = evbuffer_new();
    if (!j || !j->page) {
        free(j);
        close(dirfd);
        http_error(h, 500, "Out of memory.");
        return;
    }
    j->h = h;
    j->c = h->c;
    j->dirfd = dirfd;
    j->files_area = files_area;
    snprintf(j->vpath, sizeof j->vpath, "%s%s", vpath,
             vpath[strlen(vpath) - 1] == '/' ? "" : "/");
    conn_ref(h->c);
    http_suspend(h);
    if (!runtime || workpool_submit(runtime->pool, h->c->loop->base, listing_work,
                                    listing_done, j) < 0) {
        listing_work(j);
        listing_done(j);
    }
}
