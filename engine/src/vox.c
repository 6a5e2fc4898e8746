/* vox.c — the error convention (first failure wins), exit codes, clock, f16 decoding. */
#define _POSIX_C_SOURCE 200809L
#include "vox.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

int vox_fail(vox_error_t *err, int code, const char *fmt, ...) {
    if (!err || err->code != 0) return code; /* first failure wins */
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    /* The contract is one line on stderr: fold any newline a caller let through. */
    for (char *c = err->msg; *c; c++)
        if (*c == '\n' || *c == '\r') *c = ' ';
    return code;
}

int vox_exit_code(int code) {
    switch (code) {
    case VOX_OK: return 0;
    case VOX_EUSAGE: return 2;
    case VOX_EMODEL: return 3;
    case VOX_EAUDIO: return 4;
    case VOX_EDEVICE: return 5;
    case VOX_ENOMEM: return 6;
    default: return 1;
    }
}

double vox_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* IEEE half: 1 sign, 5 exponent (bias 15), 10 mantissa bits. Subnormals, inf and NaN kept. */
float vox_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign; /* ±0 */
        } else {         /* subnormal: renormalise */
            int e = -1;
            do {
                man <<= 1;
                e++;
            } while (!(man & 0x400u));
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ffu) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13); /* inf / NaN */
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    union {
        uint32_t u;
        float f;
    } v;
    v.u = bits;
    return v.f;
}

/* VmHWM belongs to this program's address space; getrusage's ru_maxrss also keeps the parent's peak
 * across fork+exec (a 500 MB Node parent would be reported), so it is only the fallback. */
double vox_peak_rss_mb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1) break;
    if (f) fclose(f);
    if (kb >= 0) return (double)kb / 1024.0;
    struct rusage ru; /* no /proc (not Linux) */
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}
