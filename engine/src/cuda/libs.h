/* libs.h — where the CUDA libraries are looked for, in order: the engine's loader (cuda/loader.c) and
 * vox-doctor's probe (toolkit/src/commands/doctor/cuda-probe.c, compiled at run time with -I to this
 * folder) both open the first that loads. Bare sonames use the normal search (LD_LIBRARY_PATH,
 * ld.so.cache); the absolute paths cover a CUDA toolkit that is installed but not registered, and WSL2.
 * Initializers only, so each user declares its own constant arrays. */
#ifndef VOX_CUDA_LIBS_H
#define VOX_CUDA_LIBS_H

#define VOX_CUDA_LIBCUDA_NAMES                                                                                         \
    { "libcuda.so.1", "libcuda.so", "/usr/lib/wsl/lib/libcuda.so.1", NULL }
/* [CUDA 13, CUDA 12][candidates] */
#define VOX_CUDA_LIBCUBLASLT_NAMES                                                                                     \
    {                                                                                                                  \
        {"libcublasLt.so.13", "/usr/local/cuda/lib64/libcublasLt.so.13",                                               \
         "/usr/local/cuda/targets/x86_64-linux/lib/libcublasLt.so.13", NULL},                                          \
        {                                                                                                              \
            "libcublasLt.so.12", "/usr/local/cuda/lib64/libcublasLt.so.12",                                            \
                "/usr/local/cuda/targets/x86_64-linux/lib/libcublasLt.so.12", NULL                                     \
        }                                                                                                              \
    }
#define VOX_CUDA_LIBCUBLAS_NAMES                                                                                       \
    {                                                                                                                  \
        {"libcublas.so.13", "/usr/local/cuda/lib64/libcublas.so.13",                                                   \
         "/usr/local/cuda/targets/x86_64-linux/lib/libcublas.so.13", NULL},                                            \
        {                                                                                                              \
            "libcublas.so.12", "/usr/local/cuda/lib64/libcublas.so.12",                                                \
                "/usr/local/cuda/targets/x86_64-linux/lib/libcublas.so.12", NULL                                       \
        }                                                                                                              \
    }
#endif
