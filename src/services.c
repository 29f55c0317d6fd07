/* services: fills the runtime's service table with each implemented
 * protocol; a service without an entry opens no listener. */
#include "services.h"

#include "core/loop.h"

void services_register(struct runtime *rt)
{
    (void)rt;
}
