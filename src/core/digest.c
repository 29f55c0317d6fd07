/* digest: the explicitly fetched digests of core/digest.h, fetched once
 * (pthread_once) and kept for the life of the process. */
#include "core/digest.h"

#include <pthread.h>

static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256;

static void fetch_sha256(void)
{
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

const EVP_MD *digest_sha256(void)
{
    pthread_once(&sha256_once, fetch_sha256);
    if (sha256 == NULL)
        return EVP_sha256();
    return sha256;
}
