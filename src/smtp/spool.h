/* spool: the unnamed files (O_TMPFILE in data_dir/queue/) that hold message
 * bodies while they arrive. A finished transaction's file is emptied and
 * kept for the next one instead of being closed: an inode created and freed
 * per message is costly (ext4 without a journal will not reuse an inode
 * number freed in the last seconds and scans past each one, so at thousands
 * of messages a second that scan led the kernel profile). Thread-safe. */
#pragma once

/* An empty spool file at offset 0, or -1 with errno. */
int smtp_spool_get(int datadirfd);
/* Gives a spool file back (emptied and kept, or closed). -1 is a no-op. */
void smtp_spool_put(int fd);
