/* service: the Prometheus scrape endpoint ([metrics] listen, off unless
 * set). One plain-HTTP request per connection: `GET /metrics` (or HEAD)
 * answers the text exposition format 0.0.4, anything else 404/405/431. The
 * text is rendered on the work pool (it counts the queue directory, which
 * no loop may scan) and written back on the connection's loop; a result
 * whose connection has gone is dropped. */
#include "metrics/service.h"

#include "core/conn.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/workpool.h"
#include "queue/queue.h"

#include <event2/buffer.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define METRICS_HEAD_MAX 8192          /* request head bytes read at most */
#define METRICS_TIMEOUT_SEC 10         /* for the request to arrive */
#define METRICS_QUEUE_SCAN_MAX 1000000 /* directory entries counted at most */

struct scrape {
    struct conn *c;
    bool head_only;
    uint64_t start_us;
    struct evbuffer *body;
};

static void reply_status(struct conn *c, const char *status, const char *extra)
{
    conn_printf(c,
                "HTTP/1.1 %s\r\nContent-Type: text/plain; charset=utf-8\r\n%s"
                "Content-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
                status, extra, strlen(status) + 1, status);
    metrics_add(c->svc, MET_ERRORS, 1);
    conn_close(c);
}

static void count_one(const char *id, void *arg)
{
    (*(long *)arg)++;
}

/* Entries in data_dir/queue (queue/queue.h: one .msg each), bounded; -1
 * if unreadable. */
static long count_queue(void)
{
    int fd = openat(runtime->datadir_fd, "queue", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    long n = 0;
    int rc = queue_list_ids(fd, METRICS_QUEUE_SCAN_MAX, count_one, &n);
    close(fd);
    return rc < 0 ? -1 : n;
}

static void render_work(void *arg)
{
    struct scrape *sc = arg;
    struct metrics_gauges g = {0};
    int threads = 0, idle = 0, queued = 0;
    workpool_stats(runtime->pool, &threads, &idle, &queued);
    g.pool_threads = threads;
    g.pool_idle = idle;
    g.pool_queued = queued;
    g.queue_messages = count_queue();
    sc->body = evbuffer_new();
    if (sc->body)
        metrics_render(sc->body, &g);
}

static void render_done(void *arg)
{
    struct scrape *sc = arg;
    struct conn *c = sc->c;
    if (!c->closing && !sc->body) {
        reply_status(c, "500 Internal Server Error", "");
    } else if (!c->closing) {
        size_t len = evbuffer_get_length(sc->body);
        conn_printf(c,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; "
                    "charset=utf-8\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                    len);
        if (!sc->head_only)
            evbuffer_add_buffer(conn_output(c), sc->body);
        conn_command_done(c, sc->start_us);
        conn_close(c);
    }
    if (sc->body)
        evbuffer_free(sc->body);
    conn_unref(c);
    free(sc);
}

static void scrape_start(struct conn *c, bool head_only)
{
    struct scrape *sc = calloc(1, sizeof *sc);
    if (!sc) {
        reply_status(c, "503 Service Unavailable", "");
        return;
    }
    *sc = (struct scrape){c, head_only, metrics_now_us(), NULL};
    conn_ref(c);
    if (workpool_submit(runtime->pool, c->loop->base, render_work, render_done, sc) < 0) {
        conn_unref(c);
        free(sc);
        reply_status(c, "503 Service Unavailable", "");
    }
}

/* "GET /metrics HTTP/1.1": the method and the path without its query. */
static void handle_request_line(struct conn *c, char *line)
{
    char *target = strchr(line, ' ');
    char *version = target ? strchr(target + 1, ' ') : NULL;
    if (!target || !version || strncmp(version + 1, "HTTP/1.", 7) != 0) {
        reply_status(c, "400 Bad Request", "");
        return;
    }
    *target++ = '\0';
    *version = '\0';
    target[strcspn(target, "?")] = '\0';
    bool get = strcmp(line, "GET") == 0, head = strcmp(line, "HEAD") == 0;
    log_debug(c->id, "metrics request method=%.8s", line);
    if (!get && !head)
        reply_status(c, "405 Method Not Allowed", "Allow: GET, HEAD\r\n");
    else if (strcmp(target, "/metrics") != 0)
        reply_status(c, "404 Not Found", "");
    else
        scrape_start(c, head);
}

static void on_input(struct conn *c)
{
    struct evbuffer *in = conn_input(c);
    struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
    if (end.pos < 0)
        end = evbuffer_search(in, "\n\n", 2, NULL);
    bool too_big = evbuffer_get_length(in) > METRICS_HEAD_MAX;
    if (end.pos >= 0)
        too_big = (size_t)end.pos > METRICS_HEAD_MAX;
    if (too_big) {
        conn_pause(c);
        reply_status(c, "431 Request Header Fields Too Large", "");
        return;
    }
    if (end.pos < 0)
        return;
    conn_pause(c); /* one request per connection */
    char line[256];
    size_t n = 0;
    char *text = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);
    if (!text || n >= sizeof line) {
        free(text);
        reply_status(c, "400 Bad Request", "");
        return;
    }
    memcpy(line, text, n + 1);
    free(text);
    evbuffer_drain(in, evbuffer_get_length(in));
    handle_request_line(c, line);
}

static void on_shutdown(struct conn *c)
{
    conn_close(c);
}

static const struct conn_ops metrics_ops = {
    .on_input = on_input,
    .on_shutdown = on_shutdown,
};

static void start(struct conn *c)
{
    c->ops = &metrics_ops;
    conn_set_idle_timeout(c, METRICS_TIMEOUT_SEC);
    if (c->over_limit)
        conn_close(c);
}

const struct service_impl metrics_service = {"metrics", start};
