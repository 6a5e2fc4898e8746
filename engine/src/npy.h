/* npy.h — write NumPy .npy v1.0 files (little-endian float32 / int32, C order) for --dump. */
#ifndef VOX_NPY_H
#define VOX_NPY_H
#include <stddef.h>
#include <stdio.h>
#include "vox.h"
/* Writes path through a temporary name in the same folder (path.partial-PID), renamed over path when
 * complete; on any failure the temporary file is removed and path is untouched. write() returns 0 or
 * a negative vox_err; write errors of the stream are caught at close. Failures are VOX_EUSAGE (the
 * --dump folder) with the reason (e.g. "No space left on device"). */
int vox_file_write_atomic(const char *path, int (*write)(FILE *f, const void *ctx), const void *ctx, vox_error_t *err);
/* A .npy file of float32, written with vox_file_write_atomic. */
int vox_npy_write_f32(const char *path, const float *data, int ndim, const size_t *shape, vox_error_t *err);
#endif
