/* rename_pipe: renames inside one directory done by a helper thread while
 * the caller goes on (a STORE of many messages updates the index rows
 * while their files are renamed: the two take about the same time on one
 * core each, docs/PERFORMANCE.md "imapbatch"). The caller adds renames in
 * the order they must happen; the helper does them in that order and stops
 * at the first failure. Nothing is durable until the caller fsyncs the
 * directories after rename_pipe_finish. */
#pragma once

struct rename_pipe;

/* A pipe renaming within dirfd (borrowed until finish); NULL on failure
 * (the caller renames by itself then). */
struct rename_pipe *rename_pipe_start(int dirfd);
/* Queues from -> to (paths relative to dirfd, copied). -1 if a rename has
 * already failed or memory ran out: the caller stops adding. */
int rename_pipe_add(struct rename_pipe *p, const char *from, const char *to);
/* Waits for every queued rename and frees the pipe. 0 when all were done;
 * -1 when one failed (errno of the first failure, ENOENT when the file was
 * gone) or could not be queued: the renames after it were not done. */
int rename_pipe_finish(struct rename_pipe *p);
