/* fuzz_session_smtp: a whole SMTP session fed from the fuzzer's bytes
 * (see fuzz_session.h); seeds in tests/fuzz/corpus/session_smtp. */
#include "fuzz_session.h"

#include "core/loop.h"

extern const struct service_impl smtp_service;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_session_run(SVC_SMTP, &smtp_service, data, size);
    return 0;
}
