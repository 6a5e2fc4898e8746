/* npy.h — write NumPy .npy v1.0 files (little-endian float32 / int32, C order) for --dump. */
#ifndef VOX_NPY_H
#define VOX_NPY_H
#include <stddef.h>
#include "vox.h"
int vox_npy_write_f32(const char *path, const float *data, int ndim, const size_t *shape, vox_error_t *err);
#endif
