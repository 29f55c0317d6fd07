/* fuzz_session_pop3: a whole POP3 session fed from the fuzzer's bytes
 * (see fuzz_session.h); seeds in tests/fuzz/corpus/session_pop3. */
#include "fuzz_session.h"

#include "core/loop.h"

extern const struct service_impl pop3_service;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_session_run(SVC_POP3, &pop3_service, data, size);
    return 0;
}
