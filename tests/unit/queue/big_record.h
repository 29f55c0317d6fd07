/* big_record: a new entry whose envelope record is too large for the
 * .msg's attribute (QUEUE_ATTR_MAX), for the queue tests. */
#pragma once
#include <stdio.h>

#include "queue/queue.h"

#define BIG_RCPTS 100

/* Fills n with BIG_RCPTS long recipient addresses (kept in static
 * storage) from sender from. */
static inline void big_record(struct queue_new *n, const char *from)
{
    static char addrs[BIG_RCPTS][64];
    static const char *many[BIG_RCPTS];
    for (int i = 0; i < BIG_RCPTS; i++) {
        snprintf(addrs[i], sizeof addrs[i], "recipient-number-%03d@a-long-domain.example",
                 i);
        many[i] = addrs[i];
    }
    *n = (struct queue_new){.from = from, .rcpts = many, .nrcpt = BIG_RCPTS};
}
