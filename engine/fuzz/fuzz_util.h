/* fuzz_util.h — what the two mutation fuzzers share (fuzz_inputs.c: the loaders, also as the
 * libFuzzer target; fuzz_serve.c: serve mode): a growable byte buffer with splicing, a splitmix64
 * generator (so a mutant depends only on its seed), whole-file reading and writing, and fatal
 * errors. Linked into each fuzzer's binary (engine/Makefile, the fuzz targets). */
#ifndef VOX_FUZZ_UTIL_H
#define VOX_FUZZ_UTIL_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    unsigned char *p;
    size_t n, cap;
} buf_t;
typedef struct {
    uint64_t s;
} rng_t;

/* Each fuzzer defines it: the prefix of fz_die's line ("fuzz", "fuzz_serve"). */
extern const char *fz_prog;

uint64_t fz_next(rng_t *r);          /* splitmix64 */
size_t fz_below(rng_t *r, size_t n); /* uniform-ish in [0, n); 0 when n is 0 */
void fz_die(const char *fmt, ...);   /* "<fz_prog>: error: ..." on stderr, exit 2 */
void fz_reserve(buf_t *b, size_t n); /* capacity for n bytes (dies when out of memory) */
void fz_put(buf_t *b, const void *src, size_t n);
/* Replace [at, at+del) with n bytes of src (at and del clamped to the buffer). */
void fz_splice(buf_t *b, size_t at, size_t del, const void *src, size_t n);
int fz_read_file(const char *path, buf_t *b);         /* b = the file's bytes; 0, or -1 with errno */
void fz_write_file(const char *path, const buf_t *b); /* dies naming path and the reason */
#endif
