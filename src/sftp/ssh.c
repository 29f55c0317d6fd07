/* ssh: one SSH connection on its own thread (RFC 4253/4254 through
 * libssh): key exchange, login (auth.c), then one "session" channel whose
 * only accepted request is the "sftp" subsystem (RFC 4254 6.5). A shell or
 * exec request (scp -O, ssh host) is answered with a clear message on the
 * channel's stderr and exit status 1; X11, agent forwarding, port
 * forwarding and other channel types are refused and logged. */
#include "sftp/link.h"

#include <libssh/server.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "auth/accounts.h"
#include "core/log.h"
#include "core/loop.h"
#include "sftp/auth.h"
#include "sftp/channel.h"
#include "sftp/hostkey.h"
#include "store/sandbox.h"

#define DISCONNECT_WAIT_SEC 2
#define DISCONNECT_WAIT_MESSAGES 8

static const char refused_text[] =
    "portico: this server offers only SFTP (sftp, scp in its default SFTP mode, rclone,"
    " ...); shell and exec requests are refused.\r\n";

static const char *open_kind(int subtype)
{
    switch (subtype) {
    case SSH_CHANNEL_DIRECT_TCPIP:
        return "direct-tcpip";
    case SSH_CHANNEL_FORWARDED_TCPIP:
        return "forwarded-tcpip";
    case SSH_CHANNEL_X11:
        return "x11";
    case SSH_CHANNEL_AUTH_AGENT:
        return "auth-agent";
    case SSH_CHANNEL_SESSION:
        return "session";
    default:
        return "unknown";
    }
}

/* Accepts the request only to say why nothing will run, then closes. */
static void refuse_with_message(struct sftp_link *l, ssh_channel ch, ssh_message msg,
                                const char *what)
{
    log_info(l->sid, "sftp refused request=%s", what);
    ssh_message_channel_request_reply_success(msg);
    ssh_channel_write_stderr(ch, refused_text, (uint32_t)strlen(refused_text));
    ssh_channel_request_send_exit_status(ch, 1);
    ssh_channel_send_eof(ch);
    ssh_channel_close(ch);
}

/* 1 the sftp subsystem is on, 0 go on, -1 the session ends. */
static int channel_request(struct sftp_link *l, ssh_channel ch, ssh_message msg)
{
    switch (ssh_message_subtype(msg)) {
    case SSH_CHANNEL_REQUEST_SUBSYSTEM: {
        const char *name = ssh_message_channel_request_subsystem(msg);
        if (name != NULL && strcmp(name, "sftp") == 0) {
            ssh_message_channel_request_reply_success(msg);
            return 1;
        }
        log_info(l->sid, "sftp refused request=subsystem name=%.40s", name ? name : "");
        ssh_message_reply_default(msg);
        return 0;
    }
    case SSH_CHANNEL_REQUEST_SHELL:
        refuse_with_message(l, ch, msg, "shell");
        return -1;
    case SSH_CHANNEL_REQUEST_EXEC:
        refuse_with_message(l, ch, msg, "exec");
        return -1;
    case SSH_CHANNEL_REQUEST_X11:
        log_info(l->sid, "sftp refused request=x11");
        ssh_message_reply_default(msg);
        return 0;
    default: /* pty-req, env, agent forwarding...: nothing to do with them */
        ssh_message_reply_default(msg);
        return 0;
    }
}

/* 1 the sftp subsystem is on, 0 go on, -1 the session ends. */
static int setup_message(struct sftp_link *l, ssh_message msg, ssh_channel *ch)
{
    int type = ssh_message_type(msg);
    sftp_link_touch(l);
    if (type == SSH_REQUEST_CHANNEL_OPEN) {
        int sub = ssh_message_subtype(msg);
        if (sub == SSH_CHANNEL_SESSION && *ch == NULL) {
            *ch = ssh_message_channel_request_open_reply_accept(msg);
            return *ch != NULL ? 0 : -1;
        }
        log_info(l->sid, "sftp refused channel=%s", open_kind(sub));
        ssh_message_reply_default(msg);
        return 0;
    }
    if (type == SSH_REQUEST_CHANNEL && *ch != NULL &&
        ssh_message_channel_request_channel(msg) == *ch)
        return channel_request(l, *ch, msg);
    if (type == SSH_REQUEST_GLOBAL)
        log_info(l->sid, "sftp refused global_request=%d", ssh_message_subtype(msg));
    ssh_message_reply_default(msg);
    return 0;
}

/* Waits for a session channel and its sftp subsystem request. */
static ssh_channel channel_setup(struct sftp_link *l, ssh_session ss)
{
    ssh_channel ch = NULL;
    for (;;) {
        ssh_message msg = ssh_message_get(ss);
        if (msg == NULL)
            return NULL;
        int rc = setup_message(l, msg, &ch);
        ssh_message_free(msg);
        if (rc > 0)
            return ch;
        if (rc < 0)
            return NULL;
    }
}

/* After the subsystem started: every other request is refused (default
 * reply) as libssh reads it, and nothing queues up. */
static int refuse_later(ssh_session ss, ssh_message msg, void *arg)
{
    struct sftp_link *l = arg;
    log_info(l->sid, "sftp refused late_request=%d/%d", ssh_message_type(msg),
             ssh_message_subtype(msg));
    return 1;
}

/* RFC 4254 5.3: after our CHANNEL_CLOSE the client disconnects; closing
 * first would reset its DISCONNECT ("Connection reset by peer"). */
static void await_disconnect(ssh_session ss)
{
    long sec = DISCONNECT_WAIT_SEC;
    ssh_options_set(ss, SSH_OPTIONS_TIMEOUT, &sec);
    for (int i = 0; i < DISCONNECT_WAIT_MESSAGES; i++) {
        ssh_message msg = ssh_message_get(ss);
        if (msg == NULL)
            return;
        ssh_message_reply_default(msg);
        ssh_message_free(msg);
    }
}

static void serve_account(struct sftp_link *l, ssh_session ss, const struct account *acct)
{
    ssh_channel ch = channel_setup(l, ss);
    if (ch == NULL) { /* after a refusal, let the client read it and leave */
        await_disconnect(ss);
        return;
    }
    ssh_set_message_callback(ss, refuse_later, l);
    int rootfd = store_files_root_open(runtime->datadir_fd, acct->domain, acct->local);
    if (rootfd < 0) {
        log_error(l->sid, "sftp files_root_failed user=%s", acct->address);
    } else {
        pthread_mutex_lock(&l->lock);
        snprintf(l->user, sizeof l->user, "%s", acct->address);
        pthread_mutex_unlock(&l->lock);
        log_info(l->sid, "sftp start user=%s", acct->address);
        sftp_channel_serve(l, ch, rootfd, acct);
    }
    /* RFC 4254 6.10: scp (SFTP mode) takes its status from this. */
    ssh_channel_request_send_exit_status(ch, rootfd < 0 ? 1 : 0);
    ssh_channel_send_eof(ch);
    ssh_channel_close(ch);
    ssh_channel_free(ch);
    await_disconnect(ss);
}

void sftp_ssh_run(struct sftp_link *l)
{
    ssh_session ss = ssh_new();
    if (ss == NULL || sftp_bind_accept(ss, l->fd) < 0) {
        log_warn(l->sid, "sftp accept_failed peer=%s", l->peer_ip);
        pthread_mutex_lock(&l->lock);
        close(l->fd);
        l->fd = -1;
        pthread_mutex_unlock(&l->lock);
        if (ss != NULL)
            ssh_free(ss);
        return;
    }
    struct account acct;
    if (ssh_handle_key_exchange(ss) != SSH_OK)
        log_info(l->sid, "sftp kex_failed peer=%s error=\"%s\"", l->peer_ip,
                 ssh_get_error(ss));
    else if (sftp_auth(l, ss, &acct) == 0) {
        atomic_store(&l->authed, true);
        sftp_link_touch(l);
        serve_account(l, ss, &acct);
    }
    log_info(l->sid, "sftp disconnect peer=%s", l->peer_ip);
    pthread_mutex_lock(&l->lock);
    l->fd = -1; /* libssh closes it now: the watchdog must not touch it */
    pthread_mutex_unlock(&l->lock);
    ssh_disconnect(ss);
    ssh_free(ss);
}
