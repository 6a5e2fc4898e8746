/* vox.h — shared basics of the engine: error convention, small helpers.
 *
 * Return convention everywhere: 0 on success, a negative vox_err code on failure, with the
 * message (what failed + how to fix it) written into the caller's vox_error_t. Library code
 * never calls exit(); main.c maps the code to the process exit status (vox_exit_code()).
 */
#ifndef VOX_H
#define VOX_H

#include <stddef.h>
#include <stdint.h>

#define VOX_VERSION "0.1.0"

typedef enum {
    VOX_OK = 0,
    VOX_EUSAGE = -1,   /* bad command line                    -> exit 2 */
    VOX_EMODEL = -2,   /* model files missing / invalid        -> exit 3 */
    VOX_EAUDIO = -3,   /* audio input missing / invalid        -> exit 4 */
    VOX_EDEVICE = -4,  /* backend / device / library problem   -> exit 5 */
    VOX_ENOMEM = -5,   /* out of host or device memory         -> exit 6 */
    VOX_EINTERNAL = -6 /* a bug: should never happen           -> exit 1 */
} vox_err;

typedef struct {
    int code;       /* the vox_err of the first failure (0 when none) */
    char msg[1024]; /* "<problem>. <fix>" — one line, no trailing newline */
} vox_error_t;

/* Record a failure (printf-style) and return `code`, so callers can write
 *   return vox_fail(err, VOX_EMODEL, "params.json: missing key 'dim'. Re-download the model");
 * The first failure wins: later calls do not overwrite an existing message. err may be NULL. */
int vox_fail(vox_error_t *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Process exit status for a vox_err (0, 2..6, 1 for internal). */
int vox_exit_code(int code);

/* Monotonic wall clock in milliseconds. */
double vox_now_ms(void);

/* Peak resident memory of this process in MB (VmHWM from /proc, getrusage elsewhere). */
double vox_peak_rss_mb(void);

/* bf16 <-> f32 (bf16 is the top half of an IEEE f32; round-to-nearest-even on the way down). */
static inline float vox_bf16_to_f32(uint16_t h) {
    union {
        uint32_t u;
        float f;
    } v;
    v.u = (uint32_t)h << 16;
    return v.f;
}
static inline uint16_t vox_f32_to_bf16(float f) {
    union {
        uint32_t u;
        float f;
    } v;
    v.f = f;
    if ((v.u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((v.u >> 16) | 0x40); /* quiet NaN */
    v.u += 0x7fffu + ((v.u >> 16) & 1u);
    return (uint16_t)(v.u >> 16);
}
float vox_f16_to_f32(uint16_t h);

#endif
