/* bus: the in-process change bus of the mail store (DESIGN.md "Process and
 * threads"). A delivery, flag change or expunge publishes an event for an
 * account; every subscriber of that account gets it on its own loop thread
 * (event_base_once is thread-safe in this build). Subscribe and unsubscribe
 * on the subscriber's loop thread; publish from any thread. */
#pragma once
#include <stdint.h>

struct event_base;

enum bus_kind { BUS_DELIVERED, BUS_FLAGS, BUS_EXPUNGED };

struct bus_event {
    enum bus_kind kind;
    char account[321]; /* local@domain */
    char folder[256];  /* "INBOX", "Sent", ... */
    uint32_t uid;      /* the message, or 0 for "several / rescan" */
};

typedef void (*bus_fn)(void *arg, const struct bus_event *ev);

/* Returns a subscription id (> 0), or 0 on failure. cb runs on base's
 * thread, never after bus_unsubscribe returned for that id. */
uint64_t bus_subscribe(const char *account, struct event_base *base, bus_fn cb,
                       void *arg);
void bus_unsubscribe(uint64_t id); /* 0 is a no-op */
void bus_publish(const struct bus_event *ev);
