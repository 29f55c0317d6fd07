/* hostkey: the SSH host keys (Ed25519 and ECDSA P-256) in data_dir/ssh/,
 * generated on first start, and the libssh bind that carries them and the
 * algorithm lists into every session. */
#pragma once
#include <libssh/libssh.h>
#include <stddef.h>

/* Loads (or first generates) the keys; 0, or -1 with err. */
int sftp_hostkeys_init(const char *data_dir, char *err, size_t errlen);
void sftp_hostkeys_free(void);
/* Prints one line per key: "ssh host key ed25519 SHA256:... [(new)]". */
void sftp_hostkeys_print(void);
/* ssh_bind_accept_fd on the shared bind (serialised). 0 or -1. */
int sftp_bind_accept(ssh_session ss, int fd);
