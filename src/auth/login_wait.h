/* login_wait: the login check for a session that runs on a thread of its own
 * (SFTP: one thread per SSH session), not on a loop. Same throttle, same
 * work pool for hashing, same log line as auth/login.h; the caller's thread
 * waits for the pool and sleeps the failure delay. Never call these from a
 * loop thread. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "auth/accounts.h"
#include "auth/login.h"

/* Checks a password: LOGIN_OK with the account in out, or why not. */
enum login_result login_password_wait(uint64_t sid, const char *ip, const char *user,
                                      const char *password, struct account *out);

/* For credentials checked by the caller (an SSH public key): before the
 * check, LOGIN_LOCKED if the address or account is locked out, else
 * LOGIN_OK; after it, login_record logs the result and, on a failure,
 * counts it and (with delay) sleeps the throttle's delay before the caller
 * answers the client. method: "password", "publickey". */
enum login_result login_throttle_wait(const char *ip, const char *user);
void login_record(uint64_t sid, const char *ip, const char *user, const char *method,
                  enum login_result r, bool delay);
