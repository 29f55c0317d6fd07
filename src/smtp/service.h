/* service: the SMTP receiver's two services, MX ([smtp] listen) and
 * submission ([submission] listen with STARTTLS, listen_tls implicit TLS),
 * for services.c. */
#pragma once
#include "core/loop.h"

extern const struct service_impl smtp_service;
extern const struct service_impl submission_service;
