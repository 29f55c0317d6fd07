/* thread: RFC 5256 section 3 threading (ORDEREDSUBJECT and REFERENCES)
 * over arrays of keys, and the section 4 rendering. Every traversal is
 * iterative (parent pointers or a heap stack): a mailbox of crafted
 * References chains cannot exhaust a pool thread's stack. */
#include "imap/thread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/sort.h"

/* ---- the tree ---- */

static int tree_add(struct thread_tree *t, size_t *cap, int32_t item)
{
    if (t->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        struct thread_node *nn = realloc(t->nodes, nc * sizeof *nn);
        if (!nn)
            return -1;
        t->nodes = nn;
        *cap = nc;
    }
    t->nodes[t->n] = (struct thread_node){item, -1, -1, -1, -1};
    return (int)t->n++;
}

static void unlink_node(struct thread_tree *t, int x)
{
    struct thread_node *nx = &t->nodes[x];
    if (nx->parent < 0)
        return;
    if (nx->prev >= 0)
        t->nodes[nx->prev].next = nx->next;
    else
        t->nodes[nx->parent].child = nx->next;
    if (nx->next >= 0)
        t->nodes[nx->next].prev = nx->prev;
    nx->parent = nx->prev = nx->next = -1;
}

/* Makes x the first child of p (order is settled by the final sort). */
static void link_child(struct thread_tree *t, int p, int x)
{
    struct thread_node *nx = &t->nodes[x];
    nx->parent = p;
    nx->prev = -1;
    nx->next = t->nodes[p].child;
    if (nx->next >= 0)
        t->nodes[nx->next].prev = x;
    t->nodes[p].child = x;
}

/* Whether a is b or a descendant of b (walks a's ancestors; a b
 * without children, the common case, needs no walk). */
static bool descends_from(const struct thread_tree *t, int a, int b)
{
    if (t->nodes[b].child < 0)
        return a == b;
    for (int x = a; x >= 0; x = t->nodes[x].parent)
        if (x == b)
            return true;
    return false;
}

void thread_tree_free(struct thread_tree *t)
{
    if (!t)
        return;
    free(t->nodes);
    t->nodes = NULL;
    t->n = 0;
}

/* ---- sent-date ordering of siblings (RFC 5256 2.2) ---- */

struct sib_ctx {
    const struct thread_tree *t;
    const struct thread_item *items;
};

/* The message a node sorts by: itself, or a dummy's first child. */
static const struct thread_item *sort_msg(const struct sib_ctx *c, int x)
{
    while (x >= 0 && c->t->nodes[x].item < 0)
        x = c->t->nodes[x].child;
    if (x < 0)
        return NULL;
    return &c->items[c->t->nodes[x].item];
}

static int cmp_items_date(const struct thread_item *a, const struct thread_item *b)
{
    if (!a || !b)
        return (a == NULL) - (b == NULL);
    if (a->date != b->date)
        return (a->date > b->date) - (a->date < b->date);
    return (a->seq > b->seq) - (a->seq < b->seq);
}

static int cmp_sib(const void *pa, const void *pb, void *arg)
{
    const struct sib_ctx *c = arg;
    return cmp_items_date(sort_msg(c, *(const int *)pa), sort_msg(c, *(const int *)pb));
}

/* Sorts p's children by sent date; buf has room for every node. */
static void sort_children(struct thread_tree *t, const struct thread_item *items, int p,
                          int *buf)
{
    size_t k = 0;
    for (int x = t->nodes[p].child; x >= 0; x = t->nodes[x].next)
        buf[k++] = x;
    if (k < 2)
        return;
    struct sib_ctx c = {t, items};
    qsort_r(buf, k, sizeof *buf, cmp_sib, &c);
    t->nodes[p].child = buf[0];
    for (size_t i = 0; i < k; i++) {
        t->nodes[buf[i]].prev = i ? buf[i - 1] : -1;
        t->nodes[buf[i]].next = i + 1 < k ? buf[i + 1] : -1;
    }
}

/* Nodes in pre-order (parents before their descendants), root first. */
static size_t preorder(const struct thread_tree *t, int *out)
{
    size_t k = 0;
    int x = 0;
    while (x >= 0) {
        out[k++] = x;
        if (t->nodes[x].child >= 0) {
            x = t->nodes[x].child;
            continue;
        }
        while (x >= 0 && t->nodes[x].next < 0)
            x = t->nodes[x].parent;
        if (x >= 0)
            x = t->nodes[x].next;
    }
    return k;
}

/* RFC 5256 REFERENCES step 6 (and ORDEREDSUBJECT's final order): every set
 * of siblings by sent date, the deepest first, the root's last. */
static int sort_all(struct thread_tree *t, const struct thread_item *items)
{
    int *order = malloc((t->n + 1) * sizeof *order);
    int *buf = malloc((t->n + 1) * sizeof *buf);
    if (!order || !buf) {
        free(order);
        free(buf);
        return -1;
    }
    size_t k = preorder(t, order);
    for (size_t i = k; i-- > 0;)
        sort_children(t, items, order[i], buf);
    free(order);
    free(buf);
    return 0;
}

/* ---- ORDEREDSUBJECT ---- */

struct os_ctx {
    const struct thread_item *items;
};

static int cmp_os(const void *pa, const void *pb, void *arg)
{
    const struct thread_item *items = ((const struct os_ctx *)arg)->items;
    const struct thread_item *a = &items[*(const int *)pa], *b = &items[*(const int *)pb];
    int c = sort_strcmp(a->subject, b->subject);
    if (c != 0)
        return c;
    return cmp_items_date(a, b);
}

/* RFC 5256 3 ORDEREDSUBJECT: sorted by base subject then sent date, split
 * into threads of one base subject whose first message is the parent of
 * the others, the threads ordered by their first message's sent date. */
int thread_orderedsubject(const struct thread_item *items, size_t n,
                          struct thread_tree *out)
{
    memset(out, 0, sizeof *out);
    size_t cap = 0;
    int *idx = malloc((n + 1) * sizeof *idx);
    if (!idx || tree_add(out, &cap, -1) < 0)
        goto fail;
    for (size_t i = 0; i < n; i++)
        idx[i] = (int)i;
    struct os_ctx c = {items};
    qsort_r(idx, n, sizeof *idx, cmp_os, &c);
    int head = -1;
    for (size_t i = 0; i < n; i++) {
        int x = tree_add(out, &cap, idx[i]);
        if (x < 0)
            goto fail;
        bool same = head >= 0 && sort_strcmp(items[out->nodes[head].item].subject,
                                             items[idx[i]].subject) == 0;
        if (same) {
            link_child(out, head, x);
        } else {
            link_child(out, 0, x);
            head = x;
        }
    }
    free(idx);
    return sort_all(out, items);
fail:
    free(idx);
    thread_tree_free(out);
    return -1;
}

/* ---- REFERENCES: message-id table ---- */

struct idref {
    const char *p;
    size_t len;
};

struct idtab {
    struct idref *keys;
    int *vals;
    size_t mask;
    bool fold; /* subjects: ASCII case-insensitive (i;unicode-casemap) */
};

static unsigned char fold_c(unsigned char c, bool fold)
{
    if (fold && c >= 'A' && c <= 'Z')
        return (unsigned char)(c + 'a' - 'A');
    return c;
}

static uint64_t id_hash(struct idref k, bool fold)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < k.len; i++)
        h = (h ^ fold_c((unsigned char)k.p[i], fold)) * 1099511628211ull;
    return h;
}

static bool id_eq(struct idref a, struct idref b, bool fold)
{
    if (a.len != b.len)
        return false;
    for (size_t i = 0; i < a.len; i++)
        if (fold_c((unsigned char)a.p[i], fold) != fold_c((unsigned char)b.p[i], fold))
            return false;
    return true;
}

static int idtab_init(struct idtab *h, size_t entries, bool fold)
{
    size_t sz = 64;
    while (sz < entries * 2)
        sz *= 2;
    h->keys = calloc(sz, sizeof *h->keys);
    h->vals = malloc(sz * sizeof *h->vals);
    h->mask = sz - 1;
    h->fold = fold;
    if (!h->keys || !h->vals)
        return -1;
    return 0;
}

static void idtab_free(struct idtab *h)
{
    free(h->keys);
    free(h->vals);
}

/* The slot of k: holding k, or empty. */
static size_t idtab_slot(const struct idtab *h, struct idref k)
{
    size_t i = id_hash(k, h->fold) & h->mask;
    while (h->keys[i].p && !id_eq(h->keys[i], k, h->fold))
        i = (i + 1) & h->mask;
    return i;
}

static int idtab_get(const struct idtab *h, struct idref k)
{
    size_t i = idtab_slot(h, k);
    if (!h->keys[i].p)
        return -1;
    return h->vals[i];
}

static void idtab_put(struct idtab *h, struct idref k, int v)
{
    size_t i = idtab_slot(h, k);
    h->keys[i] = k;
    h->vals[i] = v;
}

/* The next message id in *s ("<a@b>" or a bare word), brackets removed. */
static bool next_id(const char **s, struct idref *out)
{
    const char *p = *s;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == ',')
        p++;
    if (!*p)
        return false;
    const char *start = p;
    while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' && *p != ',')
        p++;
    *s = p;
    out->p = start;
    out->len = (size_t)(p - start);
    if (out->len && start[0] == '<') {
        out->p++;
        out->len--;
    }
    if (out->len && out->p[out->len - 1] == '>')
        out->len--;
    if (out->len == 0)
        return next_id(s, out);
    return true;
}

static size_t count_ids(const char *s)
{
    size_t k = 0;
    struct idref r;
    while (next_id(&s, &r))
        k++;
    return k;
}

/* In-Reply-To may carry comments and phrases: start at its first "<". */
static const char *first_bracketed(const char *s)
{
    const char *lt = strchr(s, '<');
    if (lt)
        return lt;
    return s;
}

/* ---- REFERENCES steps 1 to 3 ---- */

struct refs_build {
    struct thread_tree *t;
    size_t cap;
    struct idtab ids;
};

/* The container for id, created as a dummy when new. */
static int container(struct refs_build *b, struct idref id)
{
    int x = idtab_get(&b->ids, id);
    if (x >= 0)
        return x;
    x = tree_add(b->t, &b->cap, -1);
    if (x >= 0)
        idtab_put(&b->ids, id, x);
    return x;
}

/* Step 1.A: links the message's references as a chain of parents. The
 * last container of the chain goes to *last (-1 when none). */
static int link_references(struct refs_build *b, const struct thread_item *it, int *last)
{
    const char *s = it->references;
    struct idref r;
    bool irt = count_ids(s) == 0;
    if (irt)
        s = first_bracketed(it->in_reply_to); /* no valid References */
    *last = -1;
    while (next_id(&s, &r)) {
        int x = container(b, r);
        if (x < 0)
            return -1;
        struct thread_tree *t = b->t;
        /* An existing parent is kept; a link that makes a loop is not made. */
        if (*last >= 0 && t->nodes[x].parent < 0 && !descends_from(t, *last, x))
            link_child(t, *last, x);
        *last = x;
        if (irt)
            break; /* In-Reply-To: its first message id only */
    }
    return 0;
}

/* Step 1.B: the message's own container under its last reference. */
static int place_message(struct refs_build *b, const struct thread_item *items, int i)
{
    int last;
    if (link_references(b, &items[i], &last) < 0)
        return -1;
    struct idref self = {0};
    const char *m = items[i].message_id;
    int x = -1;
    if (next_id(&m, &self)) {
        x = idtab_get(&b->ids, self);
        if (x >= 0 && b->t->nodes[x].item >= 0)
            x = -1; /* a duplicate Message-ID gets a unique container */
    }
    if (x < 0) {
        x = tree_add(b->t, &b->cap, -1);
        if (x < 0)
            return -1;
        if (self.p && idtab_get(&b->ids, self) < 0)
            idtab_put(&b->ids, self, x);
    }
    struct thread_tree *t = b->t;
    t->nodes[x].item = i;
    unlink_node(t, x);
    if (last >= 0 && last != x && !descends_from(t, last, x))
        link_child(t, last, x);
    return 0;
}

/* Step 3: dummies without children go; with children they are replaced
 * by them, except under the root when there is more than one. */
static int prune(struct thread_tree *t)
{
    int *order = malloc((t->n + 1) * sizeof *order);
    if (!order)
        return -1;
    size_t k = preorder(t, order);
    for (size_t i = k; i-- > 1;) {
        int x = order[i];
        struct thread_node *nx = &t->nodes[x];
        if (nx->item >= 0)
            continue;
        int p = nx->parent;
        if (nx->child >= 0 && p == 0 && t->nodes[nx->child].next >= 0)
            continue;
        unlink_node(t, x);
        while (t->nodes[x].child >= 0) {
            int c = t->nodes[x].child;
            unlink_node(t, c);
            link_child(t, p, c);
        }
    }
    free(order);
    return 0;
}

/* ---- REFERENCES step 5: threads with the same base subject ---- */

static const struct thread_item *thread_msg(const struct thread_tree *t,
                                            const struct thread_item *items, int x)
{
    if (t->nodes[x].item < 0)
        x = t->nodes[x].child;
    if (x < 0 || t->nodes[x].item < 0)
        return NULL;
    return &items[t->nodes[x].item];
}

static bool thread_subject(const struct thread_tree *t, const struct thread_item *items,
                           int x, struct idref *out)
{
    const struct thread_item *m = thread_msg(t, items, x);
    if (!m || !m->subject[0])
        return false;
    out->p = m->subject;
    out->len = strlen(m->subject);
    return true;
}

static bool is_dummy(const struct thread_tree *t, int x)
{
    return t->nodes[x].item < 0;
}

static bool is_reply(const struct thread_tree *t, const struct thread_item *items, int x)
{
    return !is_dummy(t, x) && items[t->nodes[x].item].is_reply;
}

/* Step 5.B: one message per base subject. */
static void fill_subjects(struct thread_tree *t, const struct thread_item *items,
                          struct idtab *subj)
{
    for (int x = t->nodes[0].child; x >= 0; x = t->nodes[x].next) {
        struct idref s;
        if (!thread_subject(t, items, x, &s))
            continue;
        int cur = idtab_get(subj, s);
        if (cur < 0) {
            idtab_put(subj, s, x);
            continue;
        }
        bool replace =
            !is_dummy(t, cur) &&
            (is_dummy(t, x) || (is_reply(t, items, cur) && !is_reply(t, items, x)));
        if (replace)
            idtab_put(subj, s, x);
    }
}

/* Step 5.C.v: merges root child x into the table's thread tx. */
static int merge_into(struct thread_tree *t, size_t *cap, const struct thread_item *items,
                      struct idtab *subj, struct idref s, int x, int tx)
{
    if (is_dummy(t, tx) && is_dummy(t, x)) {
        while (t->nodes[x].child >= 0) {
            int c = t->nodes[x].child;
            unlink_node(t, c);
            link_child(t, tx, c);
        }
        unlink_node(t, x);
        return 0;
    }
    if (is_dummy(t, tx) || (is_reply(t, items, x) && !is_reply(t, items, tx))) {
        unlink_node(t, x);
        link_child(t, tx, x);
        return 0;
    }
    int d = tree_add(t, cap, -1);
    if (d < 0)
        return -1;
    unlink_node(t, x);
    unlink_node(t, tx);
    link_child(t, 0, d);
    link_child(t, d, tx);
    link_child(t, d, x);
    idtab_put(subj, s, d);
    return 0;
}

static int merge_subjects(struct thread_tree *t, size_t *cap,
                          const struct thread_item *items)
{
    size_t roots = 0;
    for (int x = t->nodes[0].child; x >= 0; x = t->nodes[x].next)
        roots++;
    struct idtab subj;
    int *list = malloc((roots + 1) * sizeof *list);
    if (!list || idtab_init(&subj, roots, true) < 0) {
        free(list);
        idtab_free(&subj);
        return -1;
    }
    fill_subjects(t, items, &subj);
    size_t k = 0;
    for (int x = t->nodes[0].child; x >= 0; x = t->nodes[x].next)
        list[k++] = x;
    int rc = 0;
    for (size_t i = 0; i < k && rc == 0; i++) {
        struct idref s;
        int x = list[i];
        if (!thread_subject(t, items, x, &s))
            continue;
        int tx = idtab_get(&subj, s);
        if (tx >= 0 && tx != x)
            rc = merge_into(t, cap, items, &subj, s, x, tx);
    }
    free(list);
    idtab_free(&subj);
    return rc;
}

/* RFC 5256 3 REFERENCES. */
int thread_references(const struct thread_item *items, size_t n, struct thread_tree *out)
{
    memset(out, 0, sizeof *out);
    struct refs_build b = {out, 0, {0}};
    size_t ids = n;
    for (size_t i = 0; i < n; i++)
        ids += count_ids(items[i].references) + count_ids(items[i].in_reply_to);
    if (idtab_init(&b.ids, ids, false) < 0 || tree_add(out, &b.cap, -1) < 0)
        goto fail;
    for (size_t i = 0; i < n; i++)
        if (place_message(&b, items, (int)i) < 0)
            goto fail;
    /* Step 2: every container without a parent goes under the root. */
    for (size_t x = 1; x < out->n; x++)
        if (out->nodes[x].parent < 0)
            link_child(out, 0, (int)x);
    if (prune(out) < 0 || sort_all(out, items) < 0) /* steps 3 and 4 */
        goto fail;
    if (merge_subjects(out, &b.cap, items) < 0 || sort_all(out, items) < 0) /* 5, 6 */
        goto fail;
    idtab_free(&b.ids);
    return 0;
fail:
    idtab_free(&b.ids);
    thread_tree_free(out);
    return -1;
}

/* ---- RFC 5256 4: the response data ---- */

/* A node stands in parentheses when its parent is the root or has more
 * than one child; an only child follows its parent after a space. */
static bool wrapped(const struct thread_tree *t, int x)
{
    int p = t->nodes[x].parent;
    return p == 0 || t->nodes[p].child != x || t->nodes[x].next >= 0;
}

static void enter(FILE *f, const struct thread_tree *t, const struct thread_item *items,
                  int x)
{
    int p = t->nodes[x].parent;
    bool first = t->nodes[p].child == x;
    if (wrapped(t, x)) {
        if (first && p != 0 && !is_dummy(t, p))
            fputc(' ', f);
        fputc('(', f);
    } else if (!is_dummy(t, p)) {
        fputc(' ', f);
    }
    if (!is_dummy(t, x))
        fprintf(f, "%u", items[t->nodes[x].item].id);
}

char *thread_render(const struct thread_tree *t, const struct thread_item *items)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    int x = -1;
    if (t->n)
        x = t->nodes[0].child;
    while (x > 0) {
        enter(f, t, items, x);
        if (t->nodes[x].child >= 0) {
            x = t->nodes[x].child;
            continue;
        }
        /* Leave x and every ancestor whose last child it closes. */
        while (x > 0) {
            if (wrapped(t, x))
                fputc(')', f);
            if (t->nodes[x].next >= 0) {
                x = t->nodes[x].next;
                break;
            }
            x = t->nodes[x].parent;
        }
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* ---- RFC 5256 2.1: reply or forward ---- */

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* "[blob]" followed by white space, as subj-blob. */
static const char *skip_blob(const char *s)
{
    if (*s != '[')
        return NULL;
    const char *e = strchr(s, ']');
    if (!e || memchr(s + 1, '[', (size_t)(e - s - 1)))
        return NULL;
    return skip_ws(e + 1);
}

/* subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":" */
static bool refwd_at(const char *s)
{
    if (strncasecmp(s, "re", 2) == 0)
        s += 2;
    else if (strncasecmp(s, "fwd", 3) == 0)
        s += 3;
    else if (strncasecmp(s, "fw", 2) == 0)
        s += 2;
    else
        return false;
    s = skip_ws(s);
    const char *b = skip_blob(s);
    if (b)
        s = b;
    return *s == ':';
}

bool thread_subject_is_reply(const char *subject)
{
    const char *s = skip_ws(subject);
    size_t len = strlen(s);
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len >= 5 && strncasecmp(s + len - 5, "(fwd)", 5) == 0)
        return true;
    if (strncasecmp(s, "[fwd:", 5) == 0)
        return true;
    for (int guard = 0; guard < 16; guard++) {
        if (refwd_at(s))
            return true;
        const char *b = skip_blob(s);
        if (!b)
            return false;
        s = b;
    }
    return false;
}
