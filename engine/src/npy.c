/* npy.c — NumPy .npy v1.0 writer for --dump: magic, u16 header length, a Python-dict header
 * padded with spaces to a 64-byte boundary and ended by '\n', then the raw little-endian
 * float32 data in C order. (The engine targets little-endian hosts: x86-64 and arm64.) */
#define _POSIX_C_SOURCE 200809L
#include "npy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int vox_npy_write_f32(const char *path, const float *data, int ndim, const size_t *shape, vox_error_t *err) {
    char hdr[512];
    int n = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        n += snprintf(hdr + n, sizeof hdr - (size_t)n, "%zu,%s", shape[i], i + 1 < ndim ? " " : "");
        count *= shape[i];
    }
    if (ndim > 1) n--;   /* "(3, 4,)" -> "(3, 4)"; a 1-d shape keeps its comma: "(3,)" */
    n += snprintf(hdr + n, sizeof hdr - (size_t)n, "), }");
    int total = (10 + n + 1 + 63) / 64 * 64;   /* magic(6) + version(2) + len(2) + dict + '\n' */
    while (10 + n + 1 < total) hdr[n++] = ' ';
    hdr[n++] = '\n';
    unsigned char pre[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(n & 0xff), (unsigned char)(n >> 8) };
    FILE *f = fopen(path, "wb");
    if (!f) return vox_fail(err, VOX_EUSAGE, "cannot write %s: %s. Check that the --dump folder exists and is writable", path, strerror(errno));
    int ok = fwrite(pre, 1, sizeof pre, f) == sizeof pre && fwrite(hdr, 1, (size_t)n, f) == (size_t)n &&
             (count == 0 || fwrite(data, sizeof *data, count, f) == count);
    if (fclose(f) != 0) ok = 0;
    if (!ok) return vox_fail(err, VOX_EUSAGE, "cannot write %s: %s. Check free disk space in the --dump folder", path, strerror(errno));
    return 0;
}
