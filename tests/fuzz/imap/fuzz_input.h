/* fuzz_input: turns a fuzz input into what core/session hands an IMAP
 * handler: the args text (up to the first NUL) and the literals (the
 * NUL-separated chunks after it). Each "{}" in the text becomes "{n}" for
 * the next chunk's length, so that the fuzzer reaches the literal paths;
 * a chunk that starts with 0x01 stands for a spooled literal. */
#pragma once
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/session.h"

#define FUZZ_MAX_LITS 8

struct fuzz_cmd {
    char *text;
    struct session_literal lits[FUZZ_MAX_LITS];
    char *copies[FUZZ_MAX_LITS];
    size_t nlits;
};

static void fuzz_cmd_free(struct fuzz_cmd *c)
{
    free(c->text);
    for (size_t i = 0; i < c->nlits; i++)
        free(c->copies[i]);
}

static int fuzz_cmd_make(struct fuzz_cmd *c, const uint8_t *data, size_t size)
{
    memset(c, 0, sizeof *c);
    const uint8_t *end = memchr(data, 0, size);
    size_t tlen = size;
    if (end != NULL)
        tlen = (size_t)(end - data);
    size_t pos = tlen + 1;
    while (end != NULL && pos <= size && c->nlits < FUZZ_MAX_LITS) {
        const uint8_t *next = memchr(data + pos, 0, size - pos);
        size_t len = size - pos;
        if (next != NULL)
            len = (size_t)(next - (data + pos));
        char *copy = malloc(len + 1);
        memcpy(copy, data + pos, len);
        copy[len] = '\0';
        struct session_literal *l = &c->lits[c->nlits];
        c->copies[c->nlits++] = copy;
        *l = (struct session_literal){.len = len, .data = copy, .fd = -1};
        if (len > 0 && copy[0] == 1) {
            l->data = NULL;
            l->fd = 0; /* never read by the parser */
        }
        if (next == NULL)
            break;
        pos += len + 1;
    }
    c->text = malloc(tlen * 12 + 1);
    size_t o = 0, lit = 0;
    for (size_t i = 0; i < tlen; i++) {
        if (data[i] == '{' && i + 1 < tlen && data[i + 1] == '}' && lit < c->nlits) {
            o += (size_t)snprintf(c->text + o, 24, "{%llu}",
                                  (unsigned long long)c->lits[lit++].len);
            i++;
            continue;
        }
        c->text[o++] = (char)data[i];
    }
    c->text[o] = '\0';
    return 0;
}
