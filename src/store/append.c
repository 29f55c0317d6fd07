/* append: mailbox_append, IMAP APPEND's store side (RFC 9051 6.3.12). It is
 * a delivery (store/deliver.c: tmp/, fsync, rename, fsync of the directory,
 * group commit, index row, BUS_DELIVERED) with the client's flags in the
 * file name (cur/<base>:2,<letters>), the internal date as the file's mtime
 * and in the row, and the keywords in the row. */
#include "store/mailbox_internal.h"

#include "store/flags.h"
#include "store/index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The commit could not record the row (an index error, or a sync on
 * another thread saw the file first): find it by its name. */
static int find_appended(struct mailbox *mb, const char *base, const char *kw,
                         uint32_t *uid, uint32_t *uidvalidity)
{
    struct index_folder f;
    struct index_row r;
    pthread_mutex_lock(&mb->mu);
    struct mail_index *idx = mb_index(mb);
    int rc = idx ? index_sync(idx, mb->name, mb->folderfd, &f) : -1;
    if (rc == 0 && index_find_base(idx, mb->name, base, &r) != 1)
        rc = -1;
    if (rc == 0 && kw[0])
        rc = index_set_keywords(idx, mb->name, r.uid, kw);
    mb_unlock(mb);
    if (rc == 0) {
        *uid = r.uid;
        *uidvalidity = f.uidvalidity;
    }
    return rc;
}

enum store_result mailbox_append(struct mailbox *mb, int srcfd, unsigned flags,
                                 const char *keywords, int64_t internaldate,
                                 const struct store_quota *quota, uint32_t *uid,
                                 uint32_t *uidvalidity)
{
    char kw[MAIL_MAX_KEYWORDS_LEN + 1], info[MAIL_MAX_INFO];
    unsigned extra = 0;
    struct store_delivery *d = NULL;
    const char *base = NULL;
    *uid = *uidvalidity = 0;
    if (mail_keywords_normalise(keywords, kw, sizeof kw, &extra) < 0 ||
        mail_flags_to_info(flags | extra, "", info, sizeof info) < 0)
        return STORE_ERROR;
    struct delivery_meta meta = {info, kw, internaldate};
    enum store_result r = store_delivery_stage_meta(mb->datadirfd, &mb->acct, mb->name,
                                                    NULL, srcfd, quota, &meta, &d);
    if (r != STORE_OK)
        return r;
    if (store_delivery_commit(d) < 0) {
        store_delivery_free(d);
        return STORE_ERROR;
    }
    store_delivery_result(d, uid, uidvalidity, &base);
    int rc = *uid ? 0 : find_appended(mb, base, kw, uid, uidvalidity);
    store_delivery_free(d);
    /* The message is safe even if rc < 0; only its UID is unknown. */
    return rc == 0 ? STORE_OK : STORE_ERROR;
}
