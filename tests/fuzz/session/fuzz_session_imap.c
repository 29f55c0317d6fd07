/* fuzz_session_imap: a whole IMAP session fed from the fuzzer's bytes
 * (see fuzz_session.h); seeds in tests/fuzz/corpus/session_imap. */
#include "fuzz_session.h"

#include "core/loop.h"

extern const struct service_impl imap_service;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_session_run(SVC_IMAP, &imap_service, data, size);
    return 0;
}
