/* graph.c — CUDA graphs (the decode step, full encoder chunks): stream capture of everything
 * the model queues between graph_begin and graph_end, instantiated once and replayed with
 * graph_launch.
 * Thread-local capture mode: another backend capturing in another thread is unaffected.
 * During capture: no allocation (refused), no download, no set_pos (the position register is
 * device memory that the graph reads: set it before each graph_launch). Scratch that grows
 * later is reallocated without freeing the old buffer while graphs exist (memory.c). */
#include "cuda_impl.h"

#include <stdlib.h>

struct vox_graph {
    CUgraph graph;
    CUgraphExec exec;
};

int vox_cuda_graph_begin(vox_backend_t *be) {
    vox_cuda_t *c = vox_cuda(be);
    if (c->capturing) return vox_fail(&be->err, VOX_EINTERNAL, "graph_begin while already capturing");
    CU_CHECK(be, c->api.cuCtxSetCurrent(c->ctx));
    CU_CHECK(be, c->api.cuStreamBeginCapture_v2(c->stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL));
    c->capturing = 1;
    return 0;
}

int vox_cuda_graph_end(vox_backend_t *be, vox_graph_t **g) {
    vox_cuda_t *c = vox_cuda(be);
    *g = NULL;
    if (!c->capturing) return vox_fail(&be->err, VOX_EINTERNAL, "graph_end without graph_begin");
    c->capturing = 0;
    CUgraph graph = NULL;
    CU_CHECK(be, c->api.cuStreamEndCapture(c->stream, &graph));
    if (be->err.code != 0) { /* an op failed during capture: drop the partial graph */
        c->api.cuGraphDestroy(graph);
        return be->err.code;
    }
    CUgraphExec exec = NULL;
    CUresult r = c->api.cuGraphInstantiateWithFlags(&exec, graph, 0);
    if (r != CUDA_SUCCESS) {
        c->api.cuGraphDestroy(graph);
        return vox_cuda_fail_cu(be, r, "cuGraphInstantiateWithFlags", __FILE__, __LINE__);
    }
    vox_graph_t *out = malloc(sizeof *out);
    if (!out) {
        c->api.cuGraphExecDestroy(exec);
        c->api.cuGraphDestroy(graph);
        return vox_fail(&be->err, VOX_ENOMEM, "out of host memory for a CUDA graph. Free memory");
    }
    out->graph = graph;
    out->exec = exec;
    c->graphs++;
    *g = out;
    return 0;
}

int vox_cuda_graph_launch(vox_backend_t *be, vox_graph_t *g) {
    vox_cuda_t *c = vox_cuda(be);
    CU_CHECK(be, c->api.cuCtxSetCurrent(c->ctx));
    CU_CHECK(be, c->api.cuGraphLaunch(g->exec, c->stream));
    return 0;
}

void vox_cuda_graph_free(vox_backend_t *be, vox_graph_t *g) {
    vox_cuda_t *c = vox_cuda(be);
    if (!g) return;
    c->api.cuCtxSetCurrent(c->ctx);
    c->api.cuGraphExecDestroy(g->exec);
    c->api.cuGraphDestroy(g->graph);
    free(g);
    c->graphs--;
}
