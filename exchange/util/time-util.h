/* time-util.h: clocks and RFC 3339 time stamps */
#pragma once

#include <stdint.h>
#include <time.h>

#define USEC_PER_SEC 1000000ULL
#define USEC_PER_MSEC 1000ULL
#define NSEC_PER_USEC 1000ULL

/* now_usec(): CLOCK_REALTIME / CLOCK_MONOTONIC in microseconds. */
static inline uint64_t now_usec(clockid_t clock)
{
        struct timespec ts;

        clock_gettime(clock, &ts);
        return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / NSEC_PER_USEC;
}

#define RFC3339_MAX 32
/* format_rfc3339(): "2026-11-22T08:01:02.123456Z" (UTC, microseconds). Return: out. */
char *format_rfc3339(uint64_t realtime_usec, char out[RFC3339_MAX]);
/* parse_rfc3339(): the reverse (accepts "Z" and fractional seconds up to 6 digits). Return: 0 or -EINVAL. */
int parse_rfc3339(const char *s, uint64_t *ret_usec);
