/* fuzz_queue_record: the envelope-record reader never crashes, and what it
 * accepts formats back to a record that parses to the same thing. */
#include "queue/queue.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct queue_env env, again;
    const char *why;
    if (queue_env_parse((const char *)data, size, &env, &why) < 0)
        return 0;
    size_t len;
    char *text = queue_env_format(&env, &len);
    if (text) {
        if (queue_env_parse(text, len, &again, &why) < 0 || again.nrcpt != env.nrcpt ||
            strcmp(again.from, env.from) != 0)
            abort();
        queue_env_clear(&again);
    }
    free(text);
    queue_env_clear(&env);
    return 0;
}
