/* fuzz_util.c — see fuzz_util.h. */
#define _POSIX_C_SOURCE 200809L
#include "fuzz_util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t fz_next(rng_t *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

size_t fz_below(rng_t *r, size_t n) { return n ? (size_t)(fz_next(r) % n) : 0; }

void fz_die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: error: ", fz_prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

void fz_reserve(buf_t *b, size_t n) {
    if (n <= b->cap) return;
    size_t cap = n + n / 2 + 64;
    unsigned char *p = realloc(b->p, cap);
    if (!p) fz_die("out of memory");
    b->p = p;
    b->cap = cap;
}

void fz_put(buf_t *b, const void *src, size_t n) {
    if (!n) return;
    fz_reserve(b, b->n + n);
    memcpy(b->p + b->n, src, n);
    b->n += n;
}

void fz_splice(buf_t *b, size_t at, size_t del, const void *src, size_t n) {
    if (at > b->n) at = b->n;
    if (del > b->n - at) del = b->n - at;
    fz_reserve(b, b->n - del + n);
    memmove(b->p + at + n, b->p + at + del, b->n - at - del);
    if (n) memcpy(b->p + at, src, n);
    b->n = b->n - del + n;
}

int fz_read_file(const char *path, buf_t *b) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    unsigned char tmp[65536];
    size_t k;
    b->n = 0;
    while ((k = fread(tmp, 1, sizeof tmp, f)) > 0) fz_put(b, tmp, k);
    int bad = ferror(f);
    fclose(f);
    if (bad) errno = EIO;
    return bad ? -1 : 0;
}

void fz_write_file(const char *path, const buf_t *b) {
    FILE *f = fopen(path, "wb");
    if (!f || (b->n && fwrite(b->p, 1, b->n, f) != b->n) || fclose(f) != 0)
        fz_die("cannot write %s: %s", path, strerror(errno));
}
