/* relay: delivers the outbound queue (data_dir/queue/, queue/queue.h). The
 * scheduler, its destinations and every outbound SMTP connection live on
 * loop 0 (timers and sockets, never blocking); file work (reading and
 * rewriting records, bounces, local delivery) runs on the work pool. */
#pragma once

struct runtime;

/* Starts the scheduler on rt's first loop (after runtime_start). 0 or -1. */
int relay_start(struct runtime *rt);
/* After the loops have stopped: frees what the scheduler holds. */
void relay_shutdown(void);
