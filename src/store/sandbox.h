/* sandbox: the only way a client-supplied path reaches the file system.
 * A user's root is a directory fd; every path is first normalised lexically
 * into a virtual absolute path ("/a/b", never above "/"), then resolved with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) so that neither "..",
 * absolute paths nor symlinks pointing out can escape (DESIGN.md "Storage"). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Uploads in progress (FTP STOR, HTTP PUT and form uploads) are written
 * under a hidden name with this prefix beside their final name, then renamed
 * into place once durable. The name is reserved: no client path may name
 * such a file (sandbox_join refuses it with EACCES) and listings hide it. */
#define STORE_UPLOAD_PREFIX ".portico-up-"
bool store_is_upload_temp(const char *name);

/* Joins a virtual cwd ("/" or "/a/b") and a client path (relative or
 * virtual-absolute) into out, resolving "." and ".." lexically; ".." at the
 * root stays at the root. Rejects embedded NUL (len tells the real length),
 * results longer than outlen or STORE_MAX_PATH, and components over NAME_MAX.
 * A component with STORE_UPLOAD_PREFIX is refused (EACCES).
 * Returns 0 or -1 (errno EINVAL / ENAMETOOLONG / EACCES). */
int sandbox_join(const char *cwd, const char *path, size_t len, char *out, size_t outlen);

/* Opens the virtual path beneath rootfd (flags/mode as openat(2); O_NOFOLLOW
 * is not needed). "/" opens the root itself. Returns fd or -1 with errno
 * (EXDEV when a symlink or ".." would leave the root). */
int sandbox_open(int rootfd, const char *vpath, int flags, mode_t mode);

/* The same, stricter: no symlink at all on the way (ELOOP), so the path
 * names exactly the directories it spells (http/filecache.c watches them).
 * No O_CREAT. */
int sandbox_open_nolinks(int rootfd, const char *vpath, int flags);

/* Opens the parent directory of vpath beneath rootfd and copies the last
 * component into leaf. Fails for "/" (EINVAL). Returns dir fd or -1. */
int sandbox_open_parent(int rootfd, const char *vpath, char *leaf, size_t leaflen);

int sandbox_stat(int rootfd, const char *vpath,
                 struct stat *st); /* follows symlinks beneath */
int sandbox_mkdir(int rootfd, const char *vpath, mode_t mode);
int sandbox_rmdir(int rootfd, const char *vpath);
int sandbox_unlink(int rootfd, const char *vpath);
int sandbox_rename(int rootfd, const char *from, const char *to);
/* fsync of the directory holding vpath, so that a create, remove or rename
 * of vpath survives a crash once this returns 0. Blocking. */
int sandbox_sync_parent(int rootfd, const char *vpath);

/* Checks that a single path component is a safe file name: not empty, not
 * "." or "..", no '/', no NUL, at most NAME_MAX bytes. */
int sandbox_valid_name(const char *name);

/* Opens (creating with mode 0700 as needed) data_dir/users/<domain>/<local>
 * and its files/ and mail/ subdirectories; returns the fd of the user's
 * directory. domain and local must pass sandbox_valid_name. */
int store_user_dir_open(int datadirfd, const char *domain, const char *local);
/* Opens the user's mail/ directory (creating the tree as above if needed). */
int store_mail_dir_open(int datadirfd, const char *domain, const char *local);
/* Opens the user's file area (FTP root, HTTP /files/) as a directory fd. */
int store_files_root_open(int datadirfd, const char *domain, const char *local);
