/* main.c — the voxtral CLI (its contract is documented in engine/README.md, "Command line").
 * Parses the options once into a struct, runs one of: --help, --info, --write-synthetic, or a
 * transcription (-i FILE offline, or --stdin streaming), and maps every failure to one stderr
 * line `voxtral: error: <problem>. <fix>` and its exit code. */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audio.h"
#include "backend.h"
#include "bench.h"
#include "events.h"
#include "json.h"
#include "model.h"
#include "npy.h"
#include "serve.h"
#include "stream.h"
#include "synth.h"

#ifndef VOX_COMMIT
#define VOX_COMMIT "unknown"
#endif

typedef struct {
    const char *model_dir, *input, *backend, *dump_dir, *synth_dir, *synth_size;
    int use_stdin, serve, delay_ms, threads, json, events, dump_steps, ignore_eos, debug, info, help, bench_copy_mb;
    int speculate, spec_guess; /* --speculate K / --no-speculation (0 = default), --spec-guess ID */
    unsigned long long seed;
    double pad_rate;           /* --synthetic-pad-rate; negative = off */
    long long position_offset; /* test-only: added to every RoPE position */
    int tensors;               /* --tensors: print the expected tensor table */
} cli_opts;

static const char *USAGE =
    "usage: voxtral -d MODEL_DIR (-i AUDIO.wav | --stdin) [options]\n"
    "       voxtral -d MODEL_DIR --serve [--delay-ms N] [--backend KIND] [--threads N] [--ignore-eos]\n"
    "       voxtral --info [-d MODEL_DIR]\n"
    "       voxtral --tensors [-d MODEL_DIR | --synthetic-size full|tiny]\n"
    "       voxtral --write-synthetic DIR [--synthetic-size full|tiny] [--seed N] [--synthetic-pad-rate R]\n"
    "       voxtral --bench-copy [MB] [--backend KIND]\n"
    "\n"
    "  -d DIR              model folder: params.json, consolidated.safetensors, tekken.json\n"
    "  -i FILE             WAV file (PCM 8/16/24/32-bit, float 32/64-bit; any rate and channel count),\n"
    "                      read in pieces as it is decoded\n"
    "  --stdin             read WAV or raw s16le 16 kHz mono from stdin; print text as it is decided\n"
    "  --serve             many streams over framed stdin, JSON events on stdout (engine/README.md)\n"
    "  --delay-ms N        transcription delay, 80..2400 in steps of 80 (default 480)\n"
    "  --backend KIND      auto (default), cpu or cuda\n"
    "  --threads N         CPU threads (default: all cores)\n"
    "  --json              print one JSON object (text, tokens, timings, memory) at the end\n"
    "  --events            JSON lines while it runs: token, progress, then done (or error)\n"
    "  --dump DIR          write mel.npy, audio_embeds.npy, logits.npy, tokens.json (offline run)\n"
    "  --dump-steps N      keep only the first N logits rows in logits.npy\n"
    "  --ignore-eos        decode to the end of the audio whatever the model says\n"
    "  --speculate K       decide up to K ready positions per decoder forward (exact; 1..16, default 8\n"
    "                      on the CPU, 1 on CUDA where 16 is fastest; halved after a wrong guess, doubled\n"
    "                      after right ones)\n"
    "  --no-speculation    one position per decoder forward (same as --speculate 1)\n"
    "  --spec-guess ID     (tests) the token guessed for speculated rows instead of STREAMING_PAD\n"
    "  --debug             log backend, device and timings to stderr\n"
    "  --position-offset N test only: run as if the stream had run N positions (RoPE), 0..10^12\n"
    "  --tensors           the tensors a checkpoint must hold (name, shape, dtype) as JSON, from -d's\n"
    "                      params.json only, else from --synthetic-size's shapes (default full)\n"
    "  --info              print the engine's build and CUDA facts as JSON (no model needed); with -d\n"
    "                      also the model's facts from params.json (decoder_bytes_per_step)\n"
    "  --synthetic-pad-rate R  with --write-synthetic: [STREAMING_PAD] wins about a fraction R of the\n"
    "                      decoder steps (0 <= R < 1), as in real speech\n"
    "  --bench-copy [MB]   time a backend-to-backend copy of MB megabytes (default 1024); JSON with\n"
    "                      GB/s counting bytes read + written: the memory-bandwidth ceiling\n"
    "  -h, --help          this help\n"
    "\n"
    "exit codes: 0 ok, 2 usage, 3 model files, 4 audio input, 5 backend/device, 6 out of memory,\n"
    "            1 internal error (a bug); 130 / 143 stopped by SIGINT / SIGTERM (what was read is\n"
    "            transcribed and printed first)\n";

/* ---------------- option parsing ---------------- */

static int parse_int(const char *opt, const char *v, long lo, long hi, long *out, vox_error_t *err) {
    char *end;
    errno = 0;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || !*v || *end || errno || x < lo || x > hi)
        return vox_fail(err, VOX_EUSAGE, "%s needs an integer from %ld to %ld, got '%s'. Run voxtral --help", opt, lo,
                        hi, v ? v : "");
    *out = x;
    return 0;
}

static int parse_args(int argc, char **argv, cli_opts *o, vox_error_t *err) {
    memset(o, 0, sizeof *o);
    o->delay_ms = 480;
    o->backend = "auto";
    o->dump_steps = -1;
    o->synth_size = "full";
    o->pad_rate = -1;
    for (int i = 1; i < argc; i++) {
        char name[64];
        const char *a = argv[i], *val = NULL, *eq = strchr(a, '=');
        if (a[0] == '-' && a[1] == '-' && eq && (size_t)(eq - a) < sizeof name) {
            memcpy(name, a, (size_t)(eq - a));
            name[eq - a] = 0;
            a = name;
            val = eq + 1;
        }
#define FLAG(s) (strcmp(a, s) == 0)
#define VALUE() (val ? val : (i + 1 < argc ? argv[++i] : NULL))
        long x;
        if (FLAG("-h") || FLAG("--help"))
            o->help = 1;
        else if (FLAG("--info"))
            o->info = 1;
        else if (FLAG("--tensors"))
            o->tensors = 1;
        else if (FLAG("--bench-copy")) {
            o->bench_copy_mb = 1024;
            const char *v = val ? val : (i + 1 < argc && argv[i + 1][0] != '-' ? argv[++i] : NULL);
            if (v) {
                TRY(parse_int(a, v, 1, 65536, &x, err));
                o->bench_copy_mb = (int)x;
            }
        } else if (FLAG("--stdin"))
            o->use_stdin = 1;
        else if (FLAG("--serve"))
            o->serve = 1;
        else if (FLAG("--json"))
            o->json = 1;
        else if (FLAG("--events"))
            o->events = 1;
        else if (FLAG("--ignore-eos"))
            o->ignore_eos = 1;
        else if (FLAG("--debug"))
            o->debug = 1;
        else if (FLAG("-d") || FLAG("-i") || FLAG("--backend") || FLAG("--dump") || FLAG("--write-synthetic") ||
                 FLAG("--synthetic-size")) {
            const char *v = VALUE();
            if (!v || !*v) return vox_fail(err, VOX_EUSAGE, "%s needs a value. Run voxtral --help", a);
            if (FLAG("-d"))
                o->model_dir = v;
            else if (FLAG("-i"))
                o->input = v;
            else if (FLAG("--backend"))
                o->backend = v;
            else if (FLAG("--dump"))
                o->dump_dir = v;
            else if (FLAG("--write-synthetic"))
                o->synth_dir = v;
            else
                o->synth_size = v;
        } else if (FLAG("--delay-ms")) {
            TRY(parse_int(a, VALUE(), 80, 2400, &x, err));
            if (x % 80)
                return vox_fail(err, VOX_EUSAGE,
                                "--delay-ms must be a multiple of 80 (one token is 80 ms), got %ld. Use e.g. 480", x);
            o->delay_ms = (int)x;
        } else if (FLAG("--threads")) {
            TRY(parse_int(a, VALUE(), 0, 256, &x, err));
            o->threads = (int)x;
        } else if (FLAG("--dump-steps")) {
            TRY(parse_int(a, VALUE(), 0, 1L << 30, &x, err));
            o->dump_steps = (int)x;
        } else if (FLAG("--synthetic-pad-rate")) {
            const char *v = VALUE();
            char *end = NULL;
            double r = v ? strtod(v, &end) : -1;
            if (!v || !*v || *end || !(r >= 0 && r < 1))
                return vox_fail(err, VOX_EUSAGE,
                                "--synthetic-pad-rate needs a number from 0 to below 1, got '%s'. Use e.g. 0.75",
                                v ? v : "");
            o->pad_rate = r;
        } else if (FLAG("--speculate")) { /* speculation (decoder.c, stream.c) */
            TRY(parse_int(a, VALUE(), 1, VOX_MAX_SPEC, &x, err));
            o->speculate = (int)x;
        } else if (FLAG("--no-speculation")) {
            o->speculate = 1;
        } else if (FLAG("--spec-guess")) {
            TRY(parse_int(a, VALUE(), 1, 1L << 30, &x, err));
            o->spec_guess = (int)x;
        } else if (FLAG("--position-offset")) {
            TRY(parse_int(a, VALUE(), 0, 1000000000000L, &x, err));
            o->position_offset = x;
        } else if (FLAG("--seed")) {
            TRY(parse_int(a, VALUE(), 0, 2147483647L, &x, err));
            o->seed = (unsigned long long)x;
        } else {
            return vox_fail(err, VOX_EUSAGE, "unknown option '%s'. Run voxtral --help", argv[i]);
        }
#undef FLAG
#undef VALUE
    }
    if (o->pad_rate >= 0 && !o->synth_dir)
        return vox_fail(err, VOX_EUSAGE,
                        "--synthetic-pad-rate shapes a synthetic model. Use it with --write-synthetic DIR");
    if (o->help || o->info || o->tensors || o->synth_dir) return 0;
    if (strcmp(o->backend, "auto") && strcmp(o->backend, "cpu") && strcmp(o->backend, "cuda"))
        return vox_fail(err, VOX_EUSAGE, "unknown backend '%s'. Use --backend auto, cpu or cuda", o->backend);
    if (o->bench_copy_mb) return 0;
    if (!o->model_dir)
        return vox_fail(err, VOX_EUSAGE, "no model folder given. Pass -d MODEL_DIR (run voxtral --help)");
    if (o->serve) {
        if (o->input || o->use_stdin || o->json || o->events || o->dump_dir)
            return vox_fail(err, VOX_EUSAGE,
                            "--serve reads framed audio for many streams on stdin and prints events. "
                            "Drop -i, --stdin, --json, --events and --dump");
        return 0;
    }
    if (!o->input == !o->use_stdin)
        return vox_fail(err, VOX_EUSAGE, "give exactly one audio source. Pass -i AUDIO.wav or --stdin");
    if (o->dump_dir && o->use_stdin)
        return vox_fail(err, VOX_EUSAGE, "--dump records an offline run. Use it with -i AUDIO.wav");
    return 0;
}

/* ---------------- output helpers ---------------- */

/* `"model":{...}` facts of -d DIR for --info: what params.json implies, nothing loaded. */
static int model_facts(const char *dir, char *out, size_t cap, vox_error_t *err) {
    vox_params_t p;
    int64_t bytes;
    TRY(vox_params_load(dir, &p, err));
    TRY(vox_weights_decoder_bytes_per_step(&p, &bytes, err));
    snprintf(out, cap, "{\"decoder_bytes_per_step\":%lld,\"n_layers\":%d,\"dim\":%d,\"vocab_size\":%d}",
             (long long)bytes, p.n_layers, p.dim, p.vocab_size);
    return 0;
}

static int print_info(const cli_opts *o, vox_error_t *err) {
    char model[256] = "";
    if (o->model_dir) TRY(model_facts(o->model_dir, model, sizeof model, err));
    char cuda[8192];
    if (vox_cuda_probe_json(cuda, sizeof cuda) != 0)
        snprintf(cuda, sizeof cuda, "{\"available\":false,\"reason\":\"probe failed\"}");
    const char *archs = vox_cuda_archs();
    printf("{\"engine\":\"voxtral\",\"version\":\"%s\",\"commit\":\"%s\",\"backends\":[\"cpu\"%s],\"cuda_archs\":[",
           VOX_VERSION, VOX_COMMIT, archs[0] ? ",\"cuda\"" : "");
    for (const char *p = archs; *p;) {
        size_t n = strcspn(p, ",");
        printf("%s\"%.*s\"", p == archs ? "" : ",", (int)n, p);
        p += n;
        if (*p == ',') p++;
    }
    printf("],\"blas\":");
    const char *blas = openblas_get_config();
    vox_json_write_string(stdout, (const unsigned char *)blas, strlen(blas));
    printf(",\"cuda\":%s", cuda);
    if (model[0]) printf(",\"model\":%s", model);
    printf("}\n");
    return 0;
}

/* --tensors: the engine's one tensor table (weights.c) for -d DIR's params.json (nothing else is read),
 * else for a --synthetic-size (default full: the real model's shapes). */
static int print_tensors(const cli_opts *o, vox_error_t *err) {
    vox_params_t p;
    TRY(o->model_dir ? vox_params_load(o->model_dir, &p, err) : vox_synth_params(o->synth_size, &p, err));
    return vox_weights_spec_write_json(stdout, &p, err);
}

/* ---------------- transcription ---------------- */

typedef struct {
    const vox_model_t *m;
    int print;         /* plain mode: write text as tokens are decided */
    int events;        /* --events: a token event per token, progress events */
    int64_t first_pos; /* L-1: step k = pos - first_pos */
    vox_utf8_carry carry;
    size_t n_fed, n_decided; /* user samples fed, tokens decided */
    double last_progress;    /* wall ms of the last progress event */
    int keep_text;           /* --json / --events / --dump: the result needs the text */
    int oom;                 /* the transcript text could not grow */
    unsigned char *text;
    size_t n_text, cap_text;
} run_ctx;

/* A progress event when VOX_EVENTS_PROGRESS_MS have passed since the last one (or at force). */
static void progress(run_ctx *r, int force) {
    double now = vox_now_ms();
    if (!r->events || (!force && now - r->last_progress < VOX_EVENTS_PROGRESS_MS)) return;
    r->last_progress = now;
    vox_events_progress(stdout, -1, (double)r->n_fed * 1000.0 / VOX_SAMPLE_RATE,
                        (double)r->n_decided * VOX_MS_PER_TOKEN);
}

static void on_token(void *user, int token, int64_t pos) {
    run_ctx *r = user;
    size_t len;
    const unsigned char *b = vox_tokenizer_bytes(&r->m->tok, token, &len);
    int control = vox_tokenizer_is_control(&r->m->tok, token);
    r->n_decided++;
    if (r->events) {
        vox_events_token(stdout, -1, &r->carry, token, b, control ? 0 : len, control, pos, pos - r->first_pos);
        progress(r, 0);
    }
    if (control || len == 0) return;
    if (r->print) {
        fwrite(b, 1, len, stdout);
        fflush(stdout);
    }
    if (!r->keep_text) return; /* a plain stream keeps nothing: memory stays flat */
    if (r->n_text + len > r->cap_text) {
        size_t c = r->cap_text ? r->cap_text * 2 : 256;
        while (c < r->n_text + len) c *= 2;
        unsigned char *t = realloc(r->text, c);
        if (!t) {
            r->oom = 1;
            return;
        } /* reported after the stream returns */
        r->text = t;
        r->cap_text = c;
    }
    memcpy(r->text + r->n_text, b, len);
    r->n_text += len;
}

/* Create the --dump folder and prove it writable (a probe file, created and removed) before any work. */
static int make_dump_dir(const char *dir, vox_error_t *err) {
    struct stat st;
    if (mkdir(dir, 0755) != 0 && !(errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode)))
        return vox_fail(err, VOX_EUSAGE, "cannot create the dump folder %s: %s. Choose a writable --dump folder", dir,
                        errno == EEXIST ? "a file of that name exists" : strerror(errno));
    char probe[4096];
    snprintf(probe, sizeof probe, "%s/.voxtral-probe-%ld", dir, (long)getpid());
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return vox_fail(err, VOX_EUSAGE, "the dump folder %s is not writable: %s. Choose a writable --dump folder", dir,
                        strerror(errno));
    close(fd);
    unlink(probe);
    return 0;
}

static int write_tokens_json(FILE *f, const void *ctx) {
    const vox_stream_result *r = ctx;
    fputs("{\"tokens\":[", f);
    for (size_t i = 0; i < r->n_tokens; i++) fprintf(f, "%s%d", i ? "," : "", r->tokens[i]);
    fputs("]}\n", f);
    return 0;
}

/* The four dump files, each written under a temporary name and renamed when complete. When one
 * fails, the ones this run already wrote are removed too, so the folder never holds a mixed set. */
static int write_dumps(const char *dir, const vox_model_t *m, const vox_stream_result *r, vox_error_t *err) {
    static const char *names[4] = {"mel.npy", "audio_embeds.npy", "logits.npy", "tokens.json"};
    char path[4][4096];
    size_t s_mel[2] = {r->n_mel, (size_t)m->p.n_mels}, s_emb[2] = {r->n_embeds, (size_t)m->p.dim};
    size_t s_log[2] = {r->n_logits, (size_t)m->p.vocab_size};
    int rc = 0, i;
    for (i = 0; i < 4 && !rc; i++) {
        snprintf(path[i], sizeof path[i], "%s/%s", dir, names[i]);
        if (i == 0)
            rc = vox_npy_write_f32(path[i], r->mel, 2, s_mel, err);
        else if (i == 1)
            rc = vox_npy_write_f32(path[i], r->embeds, 2, s_emb, err);
        else if (i == 2)
            rc = vox_npy_write_f32(path[i], r->logits, 2, s_log, err);
        else
            rc = vox_file_write_atomic(path[i], write_tokens_json, r, err);
    }
    if (rc)
        for (int k = 0; k < i - 1; k++) unlink(path[k]);
    return rc;
}

static void print_result(const cli_opts *o, const vox_model_t *m, const vox_stream_result *r, const run_ctx *rc,
                         double load_ms, double wall_ms, int interrupted) {
    vox_backend_t *be = m->be;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    vox_run_summary sum = {
        .text = rc->text,
        .n_text = rc->n_text,
        .r = r,
        .backend = be->ops->name,
        .device = be->ops->device_name(be),
        .gpu_mem_mb = strcmp(be->ops->name, "cpu") == 0 ? -1.0 : (double)be->ops->mem_used(be) / (1024.0 * 1024.0),
        .delay_ms = o->delay_ms,
        .threads = o->threads > 0 ? o->threads : (int)(cores > 0 ? cores : 1),
        .interrupted = interrupted,
        .load_ms = load_ms,
        .wall_ms = wall_ms,
        .peak_rss_mb = vox_peak_rss_mb(),
        .params = &m->p,
    };
    if (o->events) {
        vox_events_done(stdout, -1, &sum);
        return;
    }
    fputc('{', stdout);
    vox_events_summary_fields(stdout, &sum);
    fputs("}\n", stdout);
    fflush(stdout);
}

/* Feed the audio as it is read (-i and --stdin alike: memory does not grow with the input). A read
 * error after at least one token of samples (a cut last sample, WAV data ending mid-frame) is kept
 * in *late: what was read is still decided and printed, then the run fails with it. */
/* Whether standard input has bytes (or its end) to read right now. */
static int stdin_ready(void) {
    struct pollfd p = {STDIN_FILENO, POLLIN, 0};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP));
}

/* Feeds the stream what the audio source gives, in pieces of up to one encoder chunk
 * (VOX_STREAM_CHUNK positions of audio, 20.5 s, 1.25 MB of samples), so the encoder runs on whole
 * chunks, as on a GPU it must to be fast (pieces of 4096 samples made 180 s cost 3.4 s of encoder
 * calls of 13 positions on an H200, against 0.1 s). A file fills each piece; standard input adds to a
 * piece only what is already there to read (a file piped in fills it too), so live audio is fed,
 * and decided, as soon as it arrives. */
static int feed_audio(vox_audio_stream_t *as, vox_stream_t *s, int is_file, run_ctx *rc_ctx, vox_error_t *late,
                      vox_error_t *err) {
    const vox_params_t *p = &rc_ctx->m->p; /* an encoder position is 2 mel frames (the stride-2 conv) */
    size_t cap = (size_t)VOX_STREAM_CHUNK * 2 * (size_t)p->hop_length;
    float *buf = malloc(cap * sizeof *buf);
    if (!buf) return vox_fail(err, VOX_ENOMEM, "out of host memory for the audio buffer. Free some memory and retry");
    int rc = 0;
    for (int end = 0; !rc && !end;) {
        size_t n = 0;
        long got = 0;
        do {
            got = vox_audio_stream_read(as, buf + n, cap - n, err);
            if (got > 0) n += (size_t)got;
        } while (got > 0 && n < cap && (is_file || stdin_ready()));
        if (got < 0) {
            if (got != VOX_EAUDIO || rc_ctx->n_fed + n < VOX_SAMPLES_PER_TOKEN) {
                rc = (int)got;
                break;
            }
            *late = *err; /* a bad tail after good audio: decide what came before it, then report */
            memset(err, 0, sizeof *err);
        }
        end = got <= 0;
        if (n == 0) break;
        rc_ctx->n_fed += n;
        rc = vox_stream_feed(s, buf, n, err);
        progress(rc_ctx, 0);
    }
    free(buf);
    return rc;
}

/* --bench-copy: the backend's copy bandwidth as one JSON object (read + written bytes per second). */
static int bench_copy(const cli_opts *o, vox_error_t *err) {
    vox_backend_t *be = NULL;
    vox_backend_opts bo = {o->backend, o->threads, 0, o->debug};
    vox_copy_bench_t r;
    int rc = vox_backend_create(&bo, &be, err);
    if (!rc) rc = vox_bench_copy(be, (size_t)o->bench_copy_mb << 20, 20, &r, err);
    if (!rc)
        printf("{\"backend\":\"%s\",\"device\":\"%s\",\"bytes\":%zu,\"iterations\":%d,\"ms_median\":%.4f,"
               "\"copy_gbps\":%.2f,\"counts\":\"bytes read + bytes written\"}\n",
               be->ops->name, be->ops->device_name(be), r.bytes, r.iterations, r.ms_median, r.gbps);
    if (be) vox_backend_destroy(be);
    return rc;
}

/* ---------------- signals and model files ----------------
 * The only process-wide state of the CLI: what the signal handlers touch. The first SIGINT / SIGTERM
 * ends the input (what was read is decided and printed, exit 128 + signal); a second one exits at
 * once. SIGBUS means a mapped model file shrank under us: one line (and an error event), exit 3. */
static volatile sig_atomic_t stop_signal;
static volatile int stop_taken; /* test-and-set: two signals handled at once on two threads still count as two */
static char bus_line[1536], bus_event[2048];
static size_t bus_line_len, bus_event_len;

static void on_stop(int sig) {
    if (__sync_lock_test_and_set(&stop_taken, 1)) _exit(128 + sig);
    stop_signal = sig;
}

static volatile int bus_taken; /* two pool threads may fault on the same pages: one writes, the others wait */

static void on_bus(int sig) {
    (void)sig;
    if (__sync_lock_test_and_set(&bus_taken, 1))
        for (;;) pause(); /* the first handler's _exit ends the process */
    if (bus_event_len && write(STDOUT_FILENO, bus_event, bus_event_len) < 0) bus_event_len = 0;
    if (write(STDERR_FILENO, bus_line, bus_line_len) < 0) bus_line_len = 0;
    _exit(3);
}

static void install_handlers(const cli_opts *o) {
    vox_error_t e = {0, ""};
    vox_fail(&e, VOX_EMODEL,
             "model file %s/consolidated.safetensors changed or was truncated while in use. Leave the "
             "model files alone while voxtral runs; re-download the file if it is damaged",
             o->model_dir);
    int n = snprintf(bus_line, sizeof bus_line, "voxtral: error: %s\n", e.msg);
    bus_line_len = n < 0 ? 0 : (size_t)n < sizeof bus_line ? (size_t)n : sizeof bus_line - 1;
    if (o->events) {
        FILE *f = fmemopen(bus_event, sizeof bus_event, "w");
        if (f) {
            vox_events_error(f, -1, &e);
            long at = ftell(f);
            fclose(f);
            bus_event_len = at > 0 && (size_t)at < sizeof bus_event ? (size_t)at : 0;
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_bus;
    sigaction(SIGBUS, &sa, NULL);
    sa.sa_handler = on_stop; /* SA_RESTART: stdout writes resume; the stdin reader polls the flag */
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Size, modification time and inode of the model files, to say when one changed during the run. */
static const char *MODEL_FILES[3] = {"params.json", "consolidated.safetensors", "tekken.json"};
typedef struct {
    struct stat st[3];
    int ok[3];
} model_stamp;

static void stamp_model(const char *dir, model_stamp *ms) {
    char path[4096];
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, MODEL_FILES[i]);
        ms->ok[i] = stat(path, &ms->st[i]) == 0;
    }
}

static void note_model_changes(const char *dir, const model_stamp *before) {
    model_stamp now;
    stamp_model(dir, &now);
    for (int i = 0; i < 3; i++) {
        const struct stat *a = &before->st[i], *b = &now.st[i];
        if (!before->ok[i]) continue;
        const char *what = !now.ok[i]                                         ? "was removed"
                           : a->st_ino != b->st_ino || a->st_dev != b->st_dev ? "was replaced (new inode)"
                           : a->st_size != b->st_size                         ? "changed size"
                           : a->st_mtim.tv_sec != b->st_mtim.tv_sec || a->st_mtim.tv_nsec != b->st_mtim.tv_nsec
                               ? "was modified"
                               : NULL;
        if (what)
            fprintf(stderr,
                    "voxtral: note: model file %s/%s %s while voxtral ran; this result may mix old and new "
                    "contents. Run again to use the new file\n",
                    dir, MODEL_FILES[i], what);
    }
}

/* ---------------- transcription ---------------- */

static int transcribe(const cli_opts *o, double t_start, vox_error_t *err) {
    vox_audio_stream_t *as = NULL;
    if (o->dump_dir) TRY(make_dump_dir(o->dump_dir, err));
    if (o->input) { /* header (and a data chunk longer than the file) checked before any work */
        TRY(vox_audio_file_open(o->input, &as, err));
        long long n = vox_audio_stream_expected(as);
        if (n == 0) {
            vox_audio_stream_close(as);
            return vox_fail(err, VOX_EAUDIO, "%s: the audio has no samples. Pass a WAV file with audio in it",
                            o->input);
        }
        if (n > 0 && n < VOX_SAMPLES_PER_TOKEN) {
            vox_audio_stream_close(as);
            return vox_fail(err, VOX_EAUDIO,
                            "%s is shorter than one token: %lld samples at 16 kHz, at least %d (80 ms) are needed. "
                            "Provide a longer recording",
                            o->input, n, VOX_SAMPLES_PER_TOKEN);
        }
    }
    vox_backend_t *be = NULL;
    vox_model_t *m = NULL;
    vox_stream_t *s = NULL;
    run_ctx rc_ctx = {0};
    vox_error_t late = {0, ""};
    model_stamp stamp;
    stamp_model(o->model_dir, &stamp);
    vox_backend_opts bo = {o->backend, o->threads, 0, o->debug};
    double t_load = vox_now_ms();
    int rc = vox_backend_create(&bo, &be, err);
    if (!rc) be->rope_offset = o->position_offset;
    if (!rc && o->debug) fprintf(stderr, "voxtral: debug: backend started in %.0f ms\n", vox_now_ms() - t_load);
    if (!rc) rc = vox_model_load(o->model_dir, be, &m, err);
    double load_ms = vox_now_ms() - t_load;
    if (!rc && o->debug)
        fprintf(stderr, "voxtral: debug: backend %s on %s; model: dim %d, %d+%d layers, vocab %d; load %.0f ms\n",
                be->ops->name, be->ops->device_name(be), m->p.dim, m->p.enc_n_layers, m->p.n_layers, m->p.vocab_size,
                load_ms);
    int keep = o->json || o->events || o->dump_dir; /* the result needs the tokens and the text */
    if (!rc) {
        rc_ctx.m = m;
        rc_ctx.print = !o->json && !o->events;
        rc_ctx.keep_text = keep;
        rc_ctx.events = o->events;
        rc_ctx.last_progress = vox_now_ms();
        vox_stream_opts so = {.delay_ms = o->delay_ms,
                              .ignore_eos = o->ignore_eos,
                              .dump = o->dump_dir != NULL,
                              .dump_steps = o->dump_steps,
                              .speculate = o->speculate,
                              .guess = o->spec_guess,
                              .drop_tokens = !keep};
        rc = vox_stream_new(m, &so, on_token, &rc_ctx, &s, err);
        if (!rc) rc_ctx.first_pos = vox_stream_first_pos(s);
    }
    if (!rc && !as) rc = vox_audio_stream_open_stoppable(STDIN_FILENO, &stop_signal, &as, err);
    if (!rc) {
        vox_audio_stream_stop_on(as, &stop_signal);
        rc = feed_audio(as, s, o->input != NULL, &rc_ctx, &late, err);
    }
    /* Interrupted before a token of audio arrived: nothing to decide, an empty result. */
    int empty = stop_signal && rc_ctx.n_fed < VOX_SAMPLES_PER_TOKEN;
    if (!rc && !empty) rc = vox_stream_flush(s, err);
    if (!rc && rc_ctx.oom)
        rc = vox_fail(err, VOX_ENOMEM, "out of host memory while keeping the transcript. Free some memory and retry");
    if (!rc) progress(&rc_ctx, 1);
    if (!rc) {
        vox_stream_result r;
        vox_stream_result_get(s, &r);
        if (o->json || o->events)
            print_result(o, m, &r, &rc_ctx, load_ms, vox_now_ms() - t_start, stop_signal != 0);
        else {
            fputc('\n', stdout);
            fflush(stdout);
        }
        if (o->dump_dir) rc = write_dumps(o->dump_dir, m, &r, err);
        if (!rc && o->debug)
            fprintf(stderr,
                    "voxtral: debug: %lld positions, %zu steps; mel %.0f, encoder %.0f, adapter %.0f, prefill %.0f, "
                    "decode %.0f ms (%.2f ms/step)\n",
                    (long long)r.n_audio, r.n_tokens, r.t.mel, r.t.encoder, r.t.adapter, r.t.prefill, r.t.decode,
                    r.n_tokens ? r.t.decode / (double)r.n_tokens : 0.0);
    }
    if (m) note_model_changes(o->model_dir, &stamp);
    if (!rc && late.code) rc = vox_fail(err, late.code, "%s", late.msg);
    vox_audio_stream_close(as);
    vox_stream_free(s);
    vox_model_free(m);
    vox_backend_destroy(be);
    free(rc_ctx.text);
    return rc;
}

/* --serve: load once, then serve.c runs the streams until stdin ends. */
static int serve(const cli_opts *o, vox_error_t *err) {
    vox_backend_t *be = NULL;
    vox_model_t *m = NULL;
    vox_backend_opts bo = {o->backend, o->threads, 0, o->debug};
    double t_load = vox_now_ms();
    int rc = vox_backend_create(&bo, &be, err);
    if (!rc) rc = vox_model_load(o->model_dir, be, &m, err);
    if (!rc) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        vox_serve_opts so = {o->delay_ms, o->ignore_eos, o->threads > 0 ? o->threads : (int)(cores > 0 ? cores : 1),
                             vox_now_ms() - t_load};
        rc = vox_serve_run(m, &so, STDIN_FILENO, stdout, err);
    } else {
        vox_events_error(stdout, VOX_EVENTS_STREAM_NULL, err);
    }
    vox_model_free(m);
    vox_backend_destroy(be);
    return rc;
}

int main(int argc, char **argv) {
    double t_start = vox_now_ms();
    signal(SIGPIPE, SIG_IGN); /* a closed stdout must not kill us with a signal */
    vox_error_t err = {0, ""};
    cli_opts o;
    int events = 0; /* known before parsing, so a usage error is an error event too */
    for (int i = 1; i < argc; i++) events |= strcmp(argv[i], "--events") == 0;
    int rc = parse_args(argc, argv, &o, &err);
    if (!rc) {
        if (o.help) {
            fputs(USAGE, stdout);
            return 0;
        }
        if (o.info)
            rc = print_info(&o, &err);
        else if (o.tensors)
            rc = print_tensors(&o, &err);
        else if (o.synth_dir) {
            if (strcmp(o.synth_size, "full") && strcmp(o.synth_size, "tiny"))
                rc = vox_fail(&err, VOX_EUSAGE, "unknown --synthetic-size '%s'. Use full or tiny", o.synth_size);
            else
                rc = vox_synth_write(o.synth_dir, o.synth_size, o.seed, o.pad_rate, 1, &err);
        } else if (o.serve) {
            rc = serve(&o, &err);
        } else if (o.bench_copy_mb) {
            rc = bench_copy(&o, &err);
        } else {
            install_handlers(&o);
            rc = transcribe(&o, t_start, &err);
        }
    }
    if (rc) {
        if (!err.code) vox_fail(&err, rc, "unexpected failure (code %d). This is a bug; please report it", rc);
        if (events) vox_events_error(stdout, -1, &err);
        fprintf(stderr, "voxtral: error: %s\n", err.msg);
        return vox_exit_code(err.code);
    }
    if (stop_signal) {
        fprintf(stderr, "voxtral: note: stopped by %s; the audio read before it was transcribed\n",
                stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
        return 128 + stop_signal;
    }
    return 0;
}
