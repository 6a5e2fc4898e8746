/* npy.c — NumPy .npy v1.0 writer for --dump: magic, u16 header length, a Python-dict header
 * padded with spaces to a 64-byte boundary and ended by '\n', then the raw little-endian
 * float32 data in C order. (The engine targets little-endian hosts: x86-64 and arm64.) Every file goes
 * through a temporary name and a rename, so a failed write (full disk) never leaves a partial file. */
#define _POSIX_C_SOURCE 200809L
#include "npy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int vox_file_write_atomic(const char *path, int (*write)(FILE *f, const void *ctx), const void *ctx, vox_error_t *err) {
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.partial-%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return vox_fail(err, VOX_EUSAGE, "the dump path %s is too long. Choose a shorter --dump folder", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return vox_fail(err, VOX_EUSAGE, "cannot write %s: %s. Choose a writable --dump folder", path, strerror(errno));
    int rc = write(f, ctx);
    int e = ferror(f) ? errno : 0;
    if (fclose(f) != 0 && !e) e = errno ? errno : EIO;
    if (!rc && e)
        rc = vox_fail(err, VOX_EUSAGE, "cannot write %s: %s. Free space in the --dump folder or choose another one",
                      path, strerror(e));
    if (!rc && rename(tmp, path) != 0)
        rc = vox_fail(err, VOX_EUSAGE, "cannot write %s: %s. Choose a writable --dump folder", path, strerror(errno));
    if (rc) unlink(tmp);
    return rc;
}

typedef struct {
    const float *data;
    size_t count;
    const unsigned char *pre;
    const char *hdr;
    size_t n;
} npy_body;

static int write_npy(FILE *f, const void *ctx) {
    const npy_body *b = ctx;
    fwrite(b->pre, 1, 10, f);
    fwrite(b->hdr, 1, b->n, f);
    if (b->count) fwrite(b->data, sizeof *b->data, b->count, f);
    return 0;
}

int vox_npy_write_f32(const char *path, const float *data, int ndim, const size_t *shape, vox_error_t *err) {
    char hdr[512];
    int n = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        n += snprintf(hdr + n, sizeof hdr - (size_t)n, "%zu,%s", shape[i], i + 1 < ndim ? " " : "");
        count *= shape[i];
    }
    if (ndim > 1) n--; /* "(3, 4,)" -> "(3, 4)"; a 1-d shape keeps its comma: "(3,)" */
    n += snprintf(hdr + n, sizeof hdr - (size_t)n, "), }");
    int total = (10 + n + 1 + 63) / 64 * 64; /* magic(6) + version(2) + len(2) + dict + '\n' */
    while (10 + n + 1 < total) hdr[n++] = ' ';
    hdr[n++] = '\n';
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(n & 0xff), (unsigned char)(n >> 8)};
    npy_body b = {data, count, pre, hdr, (size_t)n};
    return vox_file_write_atomic(path, write_npy, &b, err);
}
