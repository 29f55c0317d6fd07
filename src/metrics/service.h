/* service: the Prometheus endpoint ([metrics] listen), for services.c. */
#pragma once
#include "core/loop.h"

extern const struct service_impl metrics_service;
