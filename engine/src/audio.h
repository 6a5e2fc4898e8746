/* audio.h — audio input: WAV files, raw PCM, streaming from a file descriptor, resampling.
 * Output is always mono float32 at 16 kHz, nominally in [-1, 1] (float input is clipped to it;
 * the resampler can ring slightly past full scale).
 * WAV: RIFF/WAVE with fmt (PCM 8-bit unsigned / 16 / 24 / 32-bit integer, IEEE float 32 / 64-bit,
 * WAVE_FORMAT_EXTENSIBLE with those sub-formats), any channel count (downmixed by averaging), any
 * sample rate (resampled with a band-limited windowed-sinc resampler). Bad header, unsupported codec,
 * truncated data chunk, no samples, a directory -> VOX_EAUDIO naming the problem and the fix. */
#ifndef VOX_AUDIO_H
#define VOX_AUDIO_H
#include <signal.h>
#include <stddef.h>
#include "vox.h"

#define VOX_SAMPLE_RATE 16000

typedef struct vox_audio_stream vox_audio_stream_t;

/* -i: opens a WAV file as a stream (read in pieces: memory does not grow with the file) and checks its
 * header now, a data chunk longer than the file included. The stream closes the file. */
int vox_audio_file_open(const char *path, vox_audio_stream_t **s, vox_error_t *err);
/* Whole file -> malloc'd samples (caller frees). */
int vox_audio_load_file(const char *path, float **samples, size_t *n, vox_error_t *err);

/* Streaming reader over a file descriptor (stdin). The format is detected from the first bytes:
 * "RIFF....WAVE" -> WAV (header parsed from the stream, then samples as they arrive), otherwise
 * raw s16le 16 kHz mono. A raw stream with an odd byte count at EOF (or WAV data ending mid-frame) is
 * an error, returned by the read after the last complete samples. */
int vox_audio_stream_open(int fd, vox_audio_stream_t **s, vox_error_t *err);
/* The same, ending the input when *stop becomes non-zero (see vox_audio_stream_stop_on), the wait
 * for the header included. */
int vox_audio_stream_open_stoppable(int fd, const volatile sig_atomic_t *stop, vox_audio_stream_t **s,
                                    vox_error_t *err);
/* Blocks until some data is available; returns the number of 16 kHz mono samples written to
 * out (<= cap), 0 at end of input, negative vox_err on failure. */
long vox_audio_stream_read(vox_audio_stream_t *s, float *out, size_t cap, vox_error_t *err);
/* When *stop becomes non-zero (a signal handler sets it), the input ends where it is: the bytes already
 * read are returned as samples (a partial frame dropped), then 0. An idle pipe is polled every 100 ms. */
void vox_audio_stream_stop_on(vox_audio_stream_t *s, const volatile sig_atomic_t *stop);
/* 16 kHz samples the WAV header announces (from the data chunk size), -1 when unknown (raw, until EOF). */
long long vox_audio_stream_expected(const vox_audio_stream_t *s);
const char *vox_audio_stream_format(const vox_audio_stream_t *s); /* "wav" or "raw-s16le" */
void vox_audio_stream_close(vox_audio_stream_t *s);

/* Streaming resampler (band-limited windowed sinc), used by both paths. */
typedef struct vox_resampler vox_resampler_t;
vox_resampler_t *vox_resampler_new(int in_rate, int out_rate);
/* The same filter with another sinc length (zero crossings on each side; the engine uses 32).
 * For tests of the filter itself (tests/test_resample.c). */
vox_resampler_t *vox_resampler_new_width(int in_rate, int out_rate, int zero_crossings);
/* Feeds n input samples; appends output samples to *out (grown with realloc), returns count added
 * ((size_t)-1 when out of memory; push and flush alike). */
size_t vox_resampler_push(vox_resampler_t *r, const float *in, size_t n, float **out, size_t *out_cap, size_t *out_n);
/* Flushes the tail (call once at end of input). */
size_t vox_resampler_flush(vox_resampler_t *r, float **out, size_t *out_cap, size_t *out_n);
void vox_resampler_free(vox_resampler_t *r);
#endif
