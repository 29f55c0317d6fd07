/* user_data: what `user del` does with an account's tree
 * (data_dir/users/<domain>/<local>/): removes it, or moves it aside. */
#pragma once
#include <stddef.h>

/* Removes the tree, or with keep moves it to
 * data_dir/deleted/<domain>/<local>.<UTC time> (a path no new account
 * uses). A missing tree is fine. 0, or -1 with why set; *moved_to gets the
 * new path when kept. */
int user_data_remove(const char *data_dir, const char *domain, const char *local,
                     int keep, char *moved_to, size_t movedlen, char *why, size_t whylen);
