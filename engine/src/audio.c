/* audio.c — WAV files, raw PCM on stdin, all as mono float32 16 kHz.
 *
 * One reader serves files and streams: a buffered byte source over a file descriptor that
 * read()s as data arrives, so --stdin returns samples long before EOF.
 *   - Format detection: "RIFF....WAVE" -> WAV; on stdin anything else is raw s16le 16 kHz mono
 *     (but Ogg / FLAC / MP3 / RF64 signatures get a clear error instead of being played as noise).
 *   - WAV: chunks are walked in order (odd sizes padded, unknown chunks skipped) up to "data".
 *     fmt: PCM 8-bit (unsigned) / 16 / 24 / 32-bit integer, IEEE float 32 / 64-bit, and
 *     WAVE_FORMAT_EXTENSIBLE with a PCM or float sub-format; A-law, µ-law, ADPCM, MP3 ... are
 *     refused with an ffmpeg command that converts them.
 *   - A data size of 0xFFFFFFFF (or 0 on a stream) means "until EOF": what pipes write when
 *     they cannot seek back. A file whose data chunk is longer than the file is an error
 *     (truncated download / copy); a stream that ends early just ends.
 *   - Frames are downmixed by averaging the channels, then resampled to 16 kHz (resample.c). */
#define _POSIX_C_SOURCE 200809L
#include "audio.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONVERT      "Convert it with: ffmpeg -i INPUT -ar 16000 -ac 1 -c:a pcm_s16le out.wav"
#define BUF_SIZE     65536
#define MAX_CHANNELS 1024

enum { FMT_INT = 1, FMT_FLOAT = 3 };

struct vox_audio_stream {
    int fd;
    const char *name; /* "stdin" or the file path, for messages */
    int is_file;
    unsigned char buf[BUF_SIZE]; /* bytes not yet consumed: buf[beg .. end) */
    size_t beg, end;
    int eof;                           /* read() returned 0 */
    int done;                          /* flushed: every later read returns 0 */
    int own_fd;                        /* opened by vox_audio_file_open: closed with the stream */
    const volatile sig_atomic_t *stop; /* when *stop != 0: end the input where it is */
    int stopped;
    uint64_t bytes_in; /* bytes read from fd so far */
    vox_error_t tail;  /* a fault at the very end (cut sample), reported after the samples */
    /* format */
    int is_wav, codec, bits, channels, rate, frame_bytes;
    int data_bounded; /* data chunk has a real size */
    uint64_t data_size, data_left, data_read;
    /* output */
    vox_resampler_t *rs; /* NULL at 16 kHz */
    float *pend, *mono;  /* 16 kHz samples not yet returned; one chunk of downmixed frames */
    size_t pend_n, pend_cap, pend_pos, mono_cap;
    uint64_t total_out; /* samples returned so far */
};

/* ---- byte source ---- */

/* Reads once (blocking until something arrives). 1 = got bytes, 0 = EOF, <0 = error. */
static int fill(vox_audio_stream_t *s, vox_error_t *err) {
    if (s->beg > 0) {
        memmove(s->buf, s->buf + s->beg, s->end - s->beg);
        s->end -= s->beg;
        s->beg = 0;
    }
    if (s->eof || s->end == BUF_SIZE) return s->eof ? 0 : 1;
    for (;;) {
        if (s->stop && *s->stop) {
            s->stopped = s->eof = 1;
            return 0;
        }
        if (s->stop && !s->is_file) { /* wait in slices, so a stop request is seen while the pipe is idle */
            struct pollfd pfd = {s->fd, POLLIN, 0};
            int pr = poll(&pfd, 1, 100);
            if (pr == 0 || (pr < 0 && errno == EINTR)) continue;
        }
        ssize_t r = read(s->fd, s->buf + s->end, BUF_SIZE - s->end);
        if (r > 0) {
            s->end += (size_t)r;
            s->bytes_in += (uint64_t)r;
            return 1;
        }
        if (r == 0) {
            s->eof = 1;
            return 0;
        }
        if (errno != EINTR)
            return vox_fail(err, VOX_EAUDIO, "cannot read %s: %s. Check the file or the pipe feeding stdin", s->name,
                            strerror(errno));
    }
}

/* Ensure n buffered bytes (n <= BUF_SIZE). 1 = ok, 0 = EOF first, <0 = error. */
static int need(vox_audio_stream_t *s, size_t n, vox_error_t *err) {
    while (s->end - s->beg < n) {
        int r = fill(s, err);
        if (r <= 0) return r;
    }
    return 1;
}

static uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint16_t le16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* ---- WAV header ---- */

static int bad_header(vox_audio_stream_t *s, const char *what, vox_error_t *err) {
    return vox_fail(err, VOX_EAUDIO, "%s: bad WAV header (%s). " CONVERT, s->name, what);
}

static const char *codec_name(unsigned tag) {
    switch (tag) {
    case 0x0002: return "MS ADPCM";
    case 0x0006: return "A-law";
    case 0x0007: return "mu-law";
    case 0x0011: return "IMA ADPCM";
    case 0x0031: return "GSM 6.10";
    case 0x0050: return "MPEG audio";
    case 0x0055: return "MP3";
    default: return "compressed";
    }
}

/* fmt chunk body (n bytes at p) -> codec, bits, channels, rate, frame size. */
static int parse_fmt(vox_audio_stream_t *s, const unsigned char *p, uint32_t n, vox_error_t *err) {
    static const unsigned char guid_tail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                                0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71};
    if (n < 16) return bad_header(s, "fmt chunk shorter than 16 bytes", err);
    unsigned tag = le16(p);
    s->channels = le16(p + 2);
    uint32_t rate = le32(p + 4);
    unsigned align = le16(p + 12);
    s->bits = le16(p + 14);
    if (tag == 0xFFFE) { /* WAVE_FORMAT_EXTENSIBLE: the real format is in the sub-format GUID */
        if (n < 40 || le16(p + 16) < 22) return bad_header(s, "WAVE_FORMAT_EXTENSIBLE fmt chunk too short", err);
        if (memcmp(p + 26, guid_tail, sizeof guid_tail) != 0)
            return vox_fail(err, VOX_EAUDIO,
                            "%s: WAV sub-format GUID is not PCM or IEEE float; the codec is not supported. " CONVERT,
                            s->name);
        tag = le16(p + 24);
    }
    if (tag != FMT_INT && tag != FMT_FLOAT)
        return vox_fail(err, VOX_EAUDIO,
                        "%s: WAV codec %s (format tag 0x%04x) is not supported; the engine reads PCM "
                        "integer or float WAV. " CONVERT,
                        s->name, codec_name(tag), tag);
    s->codec = (int)tag;
    int ok_bits = tag == FMT_INT ? (s->bits == 8 || s->bits == 16 || s->bits == 24 || s->bits == 32)
                                 : (s->bits == 32 || s->bits == 64);
    if (!ok_bits)
        return vox_fail(err, VOX_EAUDIO,
                        "%s: %d-bit %s WAV samples are not supported (PCM 8/16/24/32-bit, float 32/64-bit "
                        "are). " CONVERT,
                        s->name, s->bits, tag == FMT_INT ? "integer" : "float");
    if (s->channels < 1 || s->channels > MAX_CHANNELS) return bad_header(s, "channel count is 0 or above 1024", err);
    if (rate < 1000 || rate > 768000) return bad_header(s, "sample rate outside 1000..768000 Hz", err);
    s->rate = (int)rate;
    s->frame_bytes = s->channels * (s->bits / 8);
    if (align != (unsigned)s->frame_bytes) return bad_header(s, "block align disagrees with channels x bits", err);
    return 0;
}

/* Skip n bytes of the stream (unknown chunks). */
static int skip(vox_audio_stream_t *s, uint64_t n, vox_error_t *err) {
    while (n > 0) {
        int r = need(s, 1, err);
        if (r < 0) return r;
        if (r == 0) return bad_header(s, "the file ends inside a chunk before the data chunk", err);
        size_t k = s->end - s->beg;
        if (k > n) k = (size_t)n;
        s->beg += k;
        n -= k;
    }
    return 0;
}

/* At "WAVE": walk chunks until "data". */
static int parse_wav(vox_audio_stream_t *s, vox_error_t *err) {
    int have_fmt = 0, r;
    s->beg += 12;
    for (;;) {
        if ((r = need(s, 8, err)) < 0) return r;
        if (r == 0) return bad_header(s, have_fmt ? "no data chunk" : "no fmt chunk", err);
        const unsigned char *h = s->buf + s->beg;
        uint32_t size = le32(h + 4);
        int is_fmt = !memcmp(h, "fmt ", 4), is_data = !memcmp(h, "data", 4);
        s->beg += 8;
        if (is_data) {
            if (!have_fmt) return bad_header(s, "data chunk before the fmt chunk", err);
            /* 0xFFFFFFFF: length unknown (pipe); 0 on a stream: the same, written by tools that never seek back */
            s->data_bounded = !(size == 0xFFFFFFFFu || (size == 0 && !s->is_file));
            s->data_size = s->data_left = size;
            if (s->data_bounded && size % (uint32_t)s->frame_bytes)
                return bad_header(s, "data chunk size is not a multiple of the frame size", err);
            return 0;
        }
        if (is_fmt) {
            if (size > 4096) return bad_header(s, "fmt chunk larger than 4096 bytes", err);
            if ((r = need(s, size, err)) < 0) return r;
            if (r == 0) return bad_header(s, "the file ends inside the fmt chunk", err);
            if ((r = parse_fmt(s, s->buf + s->beg, size, err))) return r;
            have_fmt = 1;
            s->beg += size;
            if ((r = skip(s, size & 1, err))) return r;
        } else if ((r = skip(s, (uint64_t)size + (size & 1), err))) {
            return r;
        }
    }
}

/* ---- open ---- */

static int detect(vox_audio_stream_t *s, vox_error_t *err) {
    int r = need(s, 12, err);
    if (r < 0) return r;
    size_t n = s->end - s->beg;
    const unsigned char *b = s->buf + s->beg;
    const char *kind = NULL;
    if (n >= 4 && !memcmp(b, "OggS", 4))
        kind = "an Ogg file";
    else if (n >= 4 && !memcmp(b, "fLaC", 4))
        kind = "a FLAC file";
    else if (n >= 3 && !memcmp(b, "ID3", 3))
        kind = "an MP3 file";
    else if (n >= 4 && (!memcmp(b, "RF64", 4) || !memcmp(b, "RIFX", 4)))
        kind = "an RF64/RIFX WAV (not supported)";
    else if (n >= 12 && !memcmp(b, "RIFF", 4) && memcmp(b + 8, "WAVE", 4))
        kind = "a RIFF file that is not WAVE";
    if (kind) return vox_fail(err, VOX_EAUDIO, "%s is %s, not a PCM WAV. " CONVERT, s->name, kind);
    if (n >= 12 && !memcmp(b, "RIFF", 4)) {
        s->is_wav = 1;
        return parse_wav(s, err);
    }
    if (s->is_file) {
        if (n == 0)
            return vox_fail(err, VOX_EAUDIO, "%s is empty (0 bytes): no samples. Pass a WAV file with audio in it",
                            s->name);
        return vox_fail(err, VOX_EAUDIO, "%s is not a WAV file (no RIFF/WAVE header). " CONVERT, s->name);
    }
    s->codec = FMT_INT; /* raw s16le 16 kHz mono */
    s->bits = 16;
    s->channels = 1;
    s->rate = VOX_SAMPLE_RATE;
    s->frame_bytes = 2;
    return 0;
}

static int stream_open(int fd, const char *name, int is_file, const volatile sig_atomic_t *stop,
                       vox_audio_stream_t **out, vox_error_t *err) {
    vox_audio_stream_t *s = calloc(1, sizeof *s);
    if (!s) return vox_fail(err, VOX_ENOMEM, "out of memory opening %s. Free some memory and retry", name);
    s->fd = fd;
    s->stop = stop;
    s->name = name;
    s->is_file = is_file;
    int rc = detect(s, err);
    if (!rc && s->rate != VOX_SAMPLE_RATE && !(s->rs = vox_resampler_new(s->rate, VOX_SAMPLE_RATE)))
        rc = vox_fail(err, VOX_ENOMEM, "out of memory creating the resampler. Free some memory and retry");
    if (rc) {
        vox_audio_stream_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

int vox_audio_stream_open(int fd, vox_audio_stream_t **s, vox_error_t *err) {
    return stream_open(fd, "stdin", 0, NULL, s, err);
}

int vox_audio_stream_open_stoppable(int fd, const volatile sig_atomic_t *stop, vox_audio_stream_t **s,
                                    vox_error_t *err) {
    return stream_open(fd, "stdin", 0, stop, s, err);
}

const char *vox_audio_stream_format(const vox_audio_stream_t *s) { return s->is_wav ? "wav" : "raw-s16le"; }

void vox_audio_stream_stop_on(vox_audio_stream_t *s, const volatile sig_atomic_t *stop) { s->stop = stop; }

long long vox_audio_stream_expected(const vox_audio_stream_t *s) {
    if (!s->is_wav || !s->data_bounded) return -1;
    return (long long)((s->data_size / (uint64_t)s->frame_bytes) * (uint64_t)VOX_SAMPLE_RATE / (uint64_t)s->rate);
}

void vox_audio_stream_close(vox_audio_stream_t *s) {
    if (!s) return;
    if (s->own_fd) close(s->fd);
    vox_resampler_free(s->rs);
    free(s->pend);
    free(s->mono);
    free(s);
}

/* ---- samples ---- */

/* Float samples beyond full scale are clipped to [-1, 1] (as any conversion to integer PCM does):
 * finite values near FLT_MAX would otherwise overflow the resampler's sums to infinity. NaN and
 * infinity pass through unchanged, so convert() refuses them. */
static float clip(double d) { return isfinite(d) ? (float)(d > 1 ? 1 : d < -1 ? -1 : d) : (float)d; }

static float sample_at(const vox_audio_stream_t *s, const unsigned char *p) {
    switch (s->bits) {
    case 8: return ((float)p[0] - 128.0f) / 128.0f;
    case 16: return (float)(int16_t)le16(p) / 32768.0f;
    case 24:
        return (float)((int32_t)((uint32_t)p[0] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 24) >> 8) / 8388608.0f;
    case 32:
        if (s->codec == FMT_FLOAT) {
            uint32_t u = le32(p);
            float f;
            memcpy(&f, &u, 4);
            return clip(f);
        }
        return (float)((double)(int32_t)le32(p) / 2147483648.0);
    default: { /* 64-bit float */
        uint64_t u = (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
        double d;
        memcpy(&d, &u, 8);
        return clip(d);
    }
    }
}

/* Append n samples (x == NULL: the resampler's tail at end of input) to the pending output. */
static int emit(vox_audio_stream_t *s, const float *x, size_t n, vox_error_t *err) {
    size_t r = 0;
    if (s->rs) {
        r = x ? vox_resampler_push(s->rs, x, n, &s->pend, &s->pend_cap, &s->pend_n)
              : vox_resampler_flush(s->rs, &s->pend, &s->pend_cap, &s->pend_n);
    } else if (x) {
        if (s->pend_n + n > s->pend_cap) {
            size_t cap = s->pend_n + n + BUF_SIZE;
            float *p = realloc(s->pend, cap * sizeof *p);
            if (p) {
                s->pend = p;
                s->pend_cap = cap;
            } else
                r = (size_t)-1;
        }
        if (r == 0) {
            memcpy(s->pend + s->pend_n, x, n * sizeof *x);
            s->pend_n += n;
        }
    }
    if (r == (size_t)-1) return vox_fail(err, VOX_ENOMEM, "out of memory buffering audio. Free some memory and retry");
    return 0;
}

/* Convert the whole frames in the buffer (within the data chunk) to mono and emit them. */
static int convert(vox_audio_stream_t *s, vox_error_t *err) {
    size_t avail = s->end - s->beg;
    if (s->data_bounded && avail > s->data_left) avail = (size_t)s->data_left;
    size_t frames = avail / (size_t)s->frame_bytes;
    if (!frames) return 0;
    if (frames > s->mono_cap) {
        float *m = realloc(s->mono, frames * sizeof *m);
        if (!m) return vox_fail(err, VOX_ENOMEM, "out of memory reading audio. Free some memory and retry");
        s->mono = m;
        s->mono_cap = frames;
    }
    const unsigned char *p = s->buf + s->beg;
    int bps = s->bits / 8;
    for (size_t f = 0; f < frames; f++) {
        float acc = 0;
        for (int c = 0; c < s->channels; c++, p += bps) acc += sample_at(s, p);
        acc /= (float)s->channels;
        if (!isfinite(acc))
            return vox_fail(err, VOX_EAUDIO,
                            "%s: sample %llu is not a finite number (NaN or infinity in float WAV data). "
                            "Re-export the audio",
                            s->name, (unsigned long long)(s->data_read / (uint64_t)s->frame_bytes + f));
        s->mono[f] = acc;
    }
    size_t bytes = frames * (size_t)s->frame_bytes;
    s->beg += bytes;
    s->data_read += bytes;
    if (s->data_bounded) s->data_left -= bytes;
    return emit(s, s->mono, frames, err);
}

/* End of input: check for a cut, flush the resampler. */
static int finish(vox_audio_stream_t *s, vox_error_t *err) {
    size_t rest = s->end - s->beg;
    if (s->stopped) { /* stopped on request: a partial frame is dropped, the rest is audio as usual */
        s->done = 1;
        return emit(s, NULL, 0, err);
    }
    if (s->data_bounded && s->data_left > 0 && s->is_file)
        return vox_fail(err, VOX_EAUDIO,
                        "%s: truncated WAV: the data chunk says %llu bytes but the file ends after %llu of them. "
                        "The file was cut short (interrupted copy or recording); re-export it",
                        s->name, (unsigned long long)s->data_size, (unsigned long long)(s->data_read + rest));
    if (s->data_bounded && s->data_left == 0) rest = 0; /* bytes after the data chunk are other chunks */
    if (rest) { /* convert() took every whole frame: what is left is a cut sample */
        /* The samples before the cut are good: they are returned first, the error after them. */
        vox_error_t *te = &s->tail;
        if (!s->is_wav)
            vox_fail(te, VOX_EAUDIO,
                     "stdin: raw s16le input ended after an odd number of bytes (%llu); the stream "
                     "was cut mid-sample. Send whole 16-bit samples, e.g. ffmpeg -i INPUT -f s16le -ar 16000 -ac 1 -",
                     (unsigned long long)(s->data_read + rest));
        else
            vox_fail(te, VOX_EAUDIO,
                     "%s: the WAV data ends mid-frame (%zu stray bytes; frames are %d bytes). "
                     "The audio was cut short; re-export it",
                     s->name, rest, s->frame_bytes);
    }
    s->done = 1;
    return emit(s, NULL, 0, err);
}

long vox_audio_stream_read(vox_audio_stream_t *s, float *out, size_t cap, vox_error_t *err) {
    while (s->pend_pos == s->pend_n) {
        s->pend_pos = s->pend_n = 0;
        if (s->done) {
            if (s->tail.code) {
                vox_fail(err, s->tail.code, "%s", s->tail.msg);
                return s->tail.code;
            }
            if (s->total_out == 0 && !s->stopped)
                return vox_fail(err, VOX_EAUDIO, "%s: the audio has no samples. %s", s->name,
                                s->is_file ? "Pass a WAV file with audio in it"
                                           : "Pipe a WAV or raw s16le 16 kHz mono audio into --stdin");
            return 0;
        }
        int r = convert(s, err);
        if (r) return r;
        if (s->pend_n) break;
        if (s->data_bounded && s->data_left == 0)
            r = 0; /* data chunk complete */
        else if ((r = fill(s, err)) < 0)
            return r;
        if (r == 0 && (r = finish(s, err))) return r;
    }
    size_t n = s->pend_n - s->pend_pos;
    if (n > cap) n = cap;
    memcpy(out, s->pend + s->pend_pos, n * sizeof *out);
    s->pend_pos += n;
    s->total_out += n;
    return (long)n;
}

int vox_audio_file_open(const char *path, vox_audio_stream_t **out, vox_error_t *err) {
    *out = NULL;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return vox_fail(err, VOX_EAUDIO, "cannot open audio file %s: %s. Check the path given to -i", path,
                        strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return vox_fail(err, VOX_EAUDIO, "%s is a folder, not an audio file. Pass -i with a .wav file", path);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return vox_fail(err, VOX_EAUDIO, "cannot open audio file %s: %s. Check the path and its permissions", path,
                        strerror(errno));
    vox_audio_stream_t *s = NULL;
    int rc = stream_open(fd, path, 1, NULL, &s, err);
    if (rc) {
        close(fd);
        return rc;
    }
    s->own_fd = 1;
    /* A data chunk longer than the file: refused now, before any work (a regular file's size is known). */
    uint64_t at = s->bytes_in - (uint64_t)(s->end - s->beg);
    if (S_ISREG(sb.st_mode) && s->data_bounded && at + s->data_size > (uint64_t)sb.st_size) {
        rc = vox_fail(err, VOX_EAUDIO,
                      "%s: truncated WAV: the data chunk says %llu bytes but the file ends after %llu of them. "
                      "The file was cut short (interrupted copy or recording); re-export it",
                      path, (unsigned long long)s->data_size, (unsigned long long)((uint64_t)sb.st_size - at));
        vox_audio_stream_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

int vox_audio_load_file(const char *path, float **samples, size_t *n, vox_error_t *err) {
    *samples = NULL;
    *n = 0;
    vox_audio_stream_t *s = NULL;
    int rc = vox_audio_file_open(path, &s, err);
    size_t cap = 0;
    float *buf = NULL;
    while (!rc) {
        if (cap - *n < BUF_SIZE) {
            size_t nc = cap ? cap * 2 : (size_t)1 << 20;
            float *nb = realloc(buf, nc * sizeof *nb);
            if (!nb) {
                rc = vox_fail(err, VOX_ENOMEM, "out of memory reading %s. Free some memory and retry", path);
                break;
            }
            buf = nb;
            cap = nc;
        }
        long got = vox_audio_stream_read(s, buf + *n, cap - *n, err);
        if (got <= 0) {
            rc = (int)got;
            break;
        }
        *n += (size_t)got;
    }
    vox_audio_stream_close(s);
    if (rc) {
        free(buf);
        *n = 0;
        return rc;
    }
    *samples = buf;
    return 0;
}
