/* fuzz_session_http: a whole HTTP session fed from the fuzzer's bytes
 * (see fuzz_session.h); seeds in tests/fuzz/corpus/session_http. */
#include "fuzz_session.h"

#include "core/loop.h"

extern const struct service_impl http_service;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_session_run(SVC_HTTP, &http_service, data, size);
    return 0;
}
