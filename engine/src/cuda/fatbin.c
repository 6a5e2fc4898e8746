/* fatbin.c — the kernels module embedded in the binary.
 * `make -C engine cuda` compiles the kernels (engine/kernels, one .cu per op family) into one fatbin of SASS for the chosen
 * architectures and writes build/kernels_fatbin.h (a byte array + the arch list). Without it
 * (a plain `make` on a machine with no nvcc, or kernels older than engine/kernels: cuda.mk
 * defines VOX_KERNELS_STALE) the image is empty and the CUDA backend reports that no kernels
 * were embedded. */
#include "cuda_impl.h"

#include <stdlib.h>
#include <string.h>

#if defined(__has_include) && !defined(VOX_KERNELS_STALE)
#if __has_include("kernels_fatbin.h")
#include "kernels_fatbin.h"
#define VOX_HAVE_KERNELS 1
#endif
#endif

#ifdef VOX_HAVE_KERNELS
const unsigned char *const vox_cuda_fatbin = vox_kernels_fatbin_data;
const size_t vox_cuda_fatbin_size = sizeof vox_kernels_fatbin_data;
const char *vox_cuda_archs(void) { return VOX_KERNELS_ARCHS; }
#else
const unsigned char *const vox_cuda_fatbin = 0;
const size_t vox_cuda_fatbin_size = 0;
const char *vox_cuda_archs(void) { return ""; }
#endif

/* SASS of sm_XY runs on devices of the same major with minor >= Y. */
int vox_cuda_archs_cover(int major, int minor) {
    for (const char *p = vox_cuda_archs(); (p = strstr(p, "sm_")) != NULL; p += 3) {
        int v = atoi(p + 3);
        if (v / 10 == major && v % 10 <= minor) return 1;
    }
    return 0;
}
