/* serve.h — many streams in one process: `voxtral -d DIR --serve`.
 *
 * The model is loaded once; stdin carries binary frames, stdout JSON lines (one event per line,
 * flushed, each with "stream": ID). A frame is a 9-byte header then the payload:
 *
 *   byte 0      type: 'O' open, 'A' audio, 'F' finish, 'C' close (ASCII)
 *   bytes 1-4   stream id, uint32 little-endian (chosen by the client)
 *   bytes 5-8   payload length, uint32 little-endian, at most VOX_SERVE_MAX_PAYLOAD
 *   payload     O: JSON {"delay_ms":480,"ignore_eos":false} (fields optional, may be empty)
 *               A: s16le 16 kHz mono PCM, any byte count (an odd last byte waits for the next frame)
 *               F, C: ignored (normally empty)
 *
 * Events: "ready" once at start; "opened" after O; "token" per decided token, "progress" at most
 * ~10 per second per stream; after F the remaining tokens then "done" (the stream is freed);
 * after C "closed" (discarded, no flush). A stream's failure (bad audio, bad open JSON, unknown or
 * duplicate id) is an "error" event naming it; that stream ends and the others go on. A framing
 * error the reader cannot step over (length over the cap, unknown type, stdin ending inside a
 * frame) is an "error" with "stream": null and exit status 2. stdin EOF finishes every open
 * stream and exits 0.
 *
 * Streams are stepped in turn (serve_step in serve.c: one round over the streams with pending audio),
 * so a long upload on one stream does not stall a live one. */
#ifndef VOX_SERVE_H
#define VOX_SERVE_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "model.h"
#include "stream.h"

#define VOX_SERVE_HEADER      9
#define VOX_SERVE_MAX_PAYLOAD (1u << 20)

typedef struct {
    char type; /* 'O' | 'A' | 'F' | 'C' */
    uint32_t stream;
    uint32_t len;
    const unsigned char *payload; /* points into the parsed buffer */
} vox_serve_frame;

/* One frame from the front of buf[0..n). Returns the bytes it spans (> 0) and fills *f, 0 when buf
 * holds no complete frame yet, or VOX_EUSAGE (message in err) for an unknown type or a length
 * over VOX_SERVE_MAX_PAYLOAD: the stream of frames cannot be resynchronised after that. */
long vox_serve_frame_parse(const unsigned char *buf, size_t n, vox_serve_frame *f, vox_error_t *err);

/* The open payload: JSON object with optional "delay_ms" (80..2400, multiple of 80) and
 * "ignore_eos" (bool); unknown keys are refused. An empty payload keeps the defaults in *o.
 * VOX_EUSAGE with the problem in err. */
int vox_serve_open_parse(const unsigned char *p, size_t n, vox_stream_opts *o, vox_error_t *err);

typedef struct {
    int delay_ms; /* default for streams whose open frame names none */
    int ignore_eos;
    int threads;    /* reported in done events */
    double load_ms; /* model load time, reported in ready and done events */
} vox_serve_opts;

/* Serve until stdin EOF (0) or an unrecoverable framing error (VOX_EUSAGE, already reported as an
 * event). Per-stream failures are events, never the return value. */
int vox_serve_run(const vox_model_t *m, const vox_serve_opts *o, int in_fd, FILE *out, vox_error_t *err);

#endif
