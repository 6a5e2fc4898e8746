/* cuda_api.h — the slice of the CUDA driver API, cuBLAS and cuBLASLt that the CUDA backend uses,
 * declared here (no CUDA headers are needed to build) and resolved at run time by loader.c.
 *
 * Numeric values are the documented ones of cuda.h / library_types.h / cublas_api.h /
 * cublasLt.h (CUDA 12 and 13 agree on all of them). Symbol names are the exported ones,
 * including their _v2 suffixes, so the same binary runs on driver 12.x and 13.x. */
#ifndef VOX_CUDA_API_H
#define VOX_CUDA_API_H
#include <stddef.h>
#include <stdint.h>

/* ---- driver API ---- */
typedef int CUresult; /* CUDA_SUCCESS = 0 */
typedef int CUdevice;
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;
typedef struct CUgraph_st *CUgraph;
typedef struct CUgraphExec_st *CUgraphExec;
typedef struct CUevent_st *CUevent;
typedef unsigned long long CUdeviceptr;

enum {
    CUDA_SUCCESS = 0,
    CUDA_ERROR_OUT_OF_MEMORY = 2,
    CUDA_ERROR_STUB_LIBRARY = 34,
    CUDA_ERROR_NO_DEVICE = 100,
    CUDA_ERROR_NO_BINARY_FOR_GPU = 209,
};
enum {
    CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16,
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
};
enum { CU_STREAM_NON_BLOCKING = 1 };
enum { CU_EVENT_DISABLE_TIMING = 2 };
/* CUstreamCaptureMode: GLOBAL 0, THREAD_LOCAL 1, RELAXED 2. CUstreamCaptureStatus: NONE 0, ACTIVE 1. */
enum { CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1 };
enum { CU_STREAM_CAPTURE_STATUS_NONE = 0 };

/* cuLaunchKernelEx's configuration with one launch attribute (cuda.h layout: id, padding to 8
 * bytes, a 64-byte value union). CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION = 6. */
enum { CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION = 6 };
typedef struct {
    int id;
    char pad[4];
    union {
        char pad[64];
        int programmaticStreamSerializationAllowed;
    } value;
} CUlaunchAttribute;
typedef struct {
    unsigned gridDimX, gridDimY, gridDimZ, blockDimX, blockDimY, blockDimZ, sharedMemBytes;
    CUstream hStream;
    CUlaunchAttribute *attrs;
    unsigned numAttrs;
} CUlaunchConfig;

/* ---- cuBLAS / cuBLASLt ---- */
typedef int cublasStatus_t; /* CUBLAS_STATUS_SUCCESS = 0 */
typedef struct cublasLtContext *cublasLtHandle_t;
typedef struct cublasLtMatmulDescOpaque *cublasLtMatmulDesc_t;
typedef struct cublasLtMatrixLayoutOpaque *cublasLtMatrixLayout_t;
typedef struct cublasLtMatmulPreferenceOpaque *cublasLtMatmulPreference_t;
typedef struct {
    uint64_t data[8];
} cublasLtMatmulAlgo_t;
typedef struct {
    cublasLtMatmulAlgo_t algo;
    size_t workspaceSize;
    cublasStatus_t state;
    float wavesCount;
    int reserved[4];
} cublasLtMatmulHeuristicResult_t;

enum { CUBLAS_STATUS_SUCCESS = 0 };
enum { CUDA_R_32F = 0, CUDA_R_16BF = 14 }; /* cudaDataType */
enum { CUBLAS_COMPUTE_32F = 68 };          /* cublasComputeType_t */
enum { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1 }; /* cublasOperation_t */
enum {
    CUBLASLT_MATMUL_DESC_TRANSA = 3,
    CUBLASLT_MATMUL_DESC_TRANSB = 4,
    CUBLASLT_MATMUL_DESC_EPILOGUE = 7,
    CUBLASLT_MATMUL_DESC_BIAS_POINTER = 8
};
enum { CUBLASLT_EPILOGUE_BIAS = 4 }; /* cublasLtEpilogue_t (uint32) */
enum { CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES = 1 };
enum { VOX_LIBPROP_MAJOR = 0, VOX_LIBPROP_MINOR = 1, VOX_LIBPROP_PATCH = 2 }; /* libraryPropertyType */

/* Every entry point we use; X(name, return, args). The loader resolves each by name. */
#define VOX_CU_DRIVER_FUNCS(X)                                                                                         \
    X(cuInit, CUresult, (unsigned flags))                                                                              \
    X(cuDriverGetVersion, CUresult, (int *v))                                                                          \
    X(cuGetErrorName, CUresult, (CUresult e, const char **s))                                                          \
    X(cuGetErrorString, CUresult, (CUresult e, const char **s))                                                        \
    X(cuDeviceGetCount, CUresult, (int *n))                                                                            \
    X(cuDeviceGet, CUresult, (CUdevice * d, int ordinal))                                                              \
    X(cuDeviceGetName, CUresult, (char *name, int len, CUdevice d))                                                    \
    X(cuDeviceGetAttribute, CUresult, (int *v, int attr, CUdevice d))                                                  \
    X(cuDeviceTotalMem_v2, CUresult, (size_t * bytes, CUdevice d))                                                     \
    X(cuDevicePrimaryCtxRetain, CUresult, (CUcontext * c, CUdevice d))                                                 \
    X(cuDevicePrimaryCtxRelease_v2, CUresult, (CUdevice d))                                                            \
    X(cuCtxSetCurrent, CUresult, (CUcontext c))                                                                        \
    X(cuMemGetInfo_v2, CUresult, (size_t * free_b, size_t * total_b))                                                  \
    X(cuMemAlloc_v2, CUresult, (CUdeviceptr * p, size_t bytes))                                                        \
    X(cuMemFree_v2, CUresult, (CUdeviceptr p))                                                                         \
    X(cuMemGetAddressRange_v2, CUresult, (CUdeviceptr * base, size_t * size, CUdeviceptr p))                           \
    X(cuMemAllocHost_v2, CUresult, (void **p, size_t bytes))                                                           \
    X(cuMemFreeHost, CUresult, (void *p))                                                                              \
    X(cuEventCreate, CUresult, (CUevent * e, unsigned flags))                                                          \
    X(cuEventRecord, CUresult, (CUevent e, CUstream s))                                                                \
    X(cuEventSynchronize, CUresult, (CUevent e))                                                                       \
    X(cuEventDestroy_v2, CUresult, (CUevent e))                                                                        \
    X(cuMemcpyHtoDAsync_v2, CUresult, (CUdeviceptr dst, const void *src, size_t n, CUstream s))                        \
    X(cuMemcpyDtoHAsync_v2, CUresult, (void *dst, CUdeviceptr src, size_t n, CUstream s))                              \
    X(cuMemcpyDtoDAsync_v2, CUresult, (CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s))                        \
    X(cuStreamCreate, CUresult, (CUstream * s, unsigned flags))                                                        \
    X(cuStreamDestroy_v2, CUresult, (CUstream s))                                                                      \
    X(cuStreamSynchronize, CUresult, (CUstream s))                                                                     \
    X(cuStreamIsCapturing, CUresult, (CUstream s, int *status))                                                        \
    X(cuStreamBeginCapture_v2, CUresult, (CUstream s, int mode))                                                       \
    X(cuStreamEndCapture, CUresult, (CUstream s, CUgraph * g))                                                         \
    X(cuGraphInstantiateWithFlags, CUresult, (CUgraphExec * e, CUgraph g, unsigned long long flags))                   \
    X(cuGraphLaunch, CUresult, (CUgraphExec e, CUstream s))                                                            \
    X(cuGraphExecDestroy, CUresult, (CUgraphExec e))                                                                   \
    X(cuGraphDestroy, CUresult, (CUgraph g))                                                                           \
    X(cuModuleLoadData, CUresult, (CUmodule * m, const void *image))                                                   \
    X(cuModuleUnload, CUresult, (CUmodule m))                                                                          \
    X(cuModuleGetFunction, CUresult, (CUfunction * f, CUmodule m, const char *name))                                   \
    X(cuOccupancyMaxActiveBlocksPerMultiprocessor, CUresult,                                                           \
      (int *blocks, CUfunction f, int block_size, size_t dyn_smem))                                                    \
    X(cuLaunchKernel, CUresult,                                                                                        \
      (CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, unsigned smem,      \
       CUstream s, void **params, void **extra))                                                                       \
    X(cuLaunchKernelEx, CUresult, (const CUlaunchConfig *config, CUfunction f, void **params, void **extra))

#define VOX_CUBLAS_FUNCS(X) X(cublasGetProperty, cublasStatus_t, (int type, int *value))

#define VOX_CUBLASLT_FUNCS(X)                                                                                          \
    X(cublasLtCreate, cublasStatus_t, (cublasLtHandle_t * h))                                                          \
    X(cublasLtDestroy, cublasStatus_t, (cublasLtHandle_t h))                                                           \
    X(cublasLtGetVersion, size_t, (void))                                                                              \
    X(cublasLtGetStatusName, const char *, (cublasStatus_t s))                                                         \
    X(cublasLtMatmulDescCreate, cublasStatus_t, (cublasLtMatmulDesc_t * d, int compute, int scale))                    \
    X(cublasLtMatmulDescDestroy, cublasStatus_t, (cublasLtMatmulDesc_t d))                                             \
    X(cublasLtMatmulDescSetAttribute, cublasStatus_t, (cublasLtMatmulDesc_t d, int attr, const void *buf, size_t n))   \
    X(cublasLtMatrixLayoutCreate, cublasStatus_t,                                                                      \
      (cublasLtMatrixLayout_t * l, int type, uint64_t rows, uint64_t cols, int64_t ld))                                \
    X(cublasLtMatrixLayoutDestroy, cublasStatus_t, (cublasLtMatrixLayout_t l))                                         \
    X(cublasLtMatmulPreferenceCreate, cublasStatus_t, (cublasLtMatmulPreference_t * p))                                \
    X(cublasLtMatmulPreferenceDestroy, cublasStatus_t, (cublasLtMatmulPreference_t p))                                 \
    X(cublasLtMatmulPreferenceSetAttribute, cublasStatus_t,                                                            \
      (cublasLtMatmulPreference_t p, int attr, const void *buf, size_t n))                                             \
    X(cublasLtMatmulAlgoGetHeuristic, cublasStatus_t,                                                                  \
      (cublasLtHandle_t h, cublasLtMatmulDesc_t d, cublasLtMatrixLayout_t a, cublasLtMatrixLayout_t b,                 \
       cublasLtMatrixLayout_t c, cublasLtMatrixLayout_t dd, cublasLtMatmulPreference_t p, int requested,               \
       cublasLtMatmulHeuristicResult_t *res, int *returned))                                                           \
    X(cublasLtMatmulAlgoCheck, cublasStatus_t,                                                                         \
      (cublasLtHandle_t h, cublasLtMatmulDesc_t d, cublasLtMatrixLayout_t a, cublasLtMatrixLayout_t b,                 \
       cublasLtMatrixLayout_t c, cublasLtMatrixLayout_t dd, const cublasLtMatmulAlgo_t *algo,                          \
       cublasLtMatmulHeuristicResult_t *res))                                                                          \
    X(cublasLtMatmul, cublasStatus_t,                                                                                  \
      (cublasLtHandle_t h, cublasLtMatmulDesc_t d, const void *alpha, const void *A, cublasLtMatrixLayout_t a,         \
       const void *B, cublasLtMatrixLayout_t b, const void *beta, const void *C, cublasLtMatrixLayout_t c, void *D,    \
       cublasLtMatrixLayout_t dd, const cublasLtMatmulAlgo_t *algo, void *ws, size_t ws_bytes, CUstream s))

#define VOX_CU_FIELD(name, ret, args) ret(*name) args;
typedef struct {
    void *h_cuda, *h_cublas, *h_cublaslt;                         /* dlopen handles */
    char path_cuda[4096], path_cublas[4096], path_cublaslt[4096]; /* resolved real paths */
    VOX_CU_DRIVER_FUNCS(VOX_CU_FIELD)
    VOX_CUBLAS_FUNCS(VOX_CU_FIELD)
    VOX_CUBLASLT_FUNCS(VOX_CU_FIELD)
} vox_cu_api;
#undef VOX_CU_FIELD

/* Load libcuda (always) and, when want_blas, libcublas + libcublasLt; resolve every symbol.
 * On failure returns -1 with one sentence in reason: which library or symbol is missing and how
 * to fix it. Partial loads are unloaded. */
int vox_cu_load(vox_cu_api *api, int want_blas, char *reason, size_t cap);
void vox_cu_unload(vox_cu_api *api);
/* "CUDA_ERROR_OUT_OF_MEMORY (out of memory)" style text for a driver error. */
void vox_cu_errstr(const vox_cu_api *api, CUresult r, char *buf, size_t cap);
#endif
