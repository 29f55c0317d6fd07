/* fuzz_session_ftp: a whole FTP session fed from the fuzzer's bytes
 * (see fuzz_session.h); seeds in tests/fuzz/corpus/session_ftp. */
#include "fuzz_session.h"

#include "core/loop.h"

extern const struct service_impl ftp_service;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_session_run(SVC_FTP, &ftp_service, data, size);
    return 0;
}
