/* ext: SSH_FXP_INIT/VERSION and the OpenSSH extensions (PROTOCOL 4.x):
 * the VERSION reply lists each extension we serve. */
#pragma once
#include <stdint.h>
#include <sys/statvfs.h>

struct sftp;
/* statvfs@openssh.com / fstatvfs@openssh.com reply (PROTOCOL 4.4). */
void sftp_reply_statvfs(struct sftp *s, uint32_t id, const struct statvfs *v);
