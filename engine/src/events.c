/* events.c — writers of --json and the --events lines (see events.h). Each event is one line, flushed. */
#include "events.h"

#include <string.h>

#include "audio.h"
#include "json.h"
#include "weights.h"

void vox_events_begin(FILE *f, const char *type, long stream) {
    fprintf(f, "{\"type\":\"%s\"", type);
    if (stream >= 0)
        fprintf(f, ",\"stream\":%ld", stream);
    else if (stream == VOX_EVENTS_STREAM_NULL)
        fputs(",\"stream\":null", f);
}

void vox_events_end(FILE *f) {
    fputs("}\n", f);
    fflush(f);
}
#define begin vox_events_begin
#define end   vox_events_end

/* Length of the incomplete UTF-8 sequence at the end of b[0..n) (0 when it ends on a boundary or
 * the tail is invalid anyway: invalid bytes are written as U+FFFD, not held). */
static size_t incomplete_tail(const unsigned char *b, size_t n) {
    for (size_t back = 1; back <= 3 && back <= n; back++) {
        unsigned c = b[n - back];
        if ((c & 0xc0) == 0x80) continue; /* continuation byte: look further back */
        size_t want = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 1;
        return want > back ? back : 0;
    }
    return 0;
}

void vox_events_token(FILE *f, long stream, vox_utf8_carry *c, int id, const unsigned char *bytes, size_t n,
                      int control, int64_t pos, int64_t step) {
    /* Written as two pieces that each end on a character boundary: the held bytes completed by the
     * token's first continuation bytes, then the rest of the token minus its own incomplete tail. */
    unsigned char head[8];
    size_t n_head = 0, k = 0;
    if (!control && n > 0 && c->n > 0) {
        memcpy(head, c->held, (size_t)c->n);
        n_head = (size_t)c->n;
        while (k < n && k < 3 && (bytes[k] & 0xc0) == 0x80) head[n_head++] = bytes[k++];
        if (k == n && n_head <= 3 && incomplete_tail(head, n_head) == n_head) { /* still incomplete */
            memcpy(c->held, head, n_head);
            c->n = (int)n_head;
            n_head = 0;
        }
    }
    size_t rest = control ? 0 : n - k, hold = control ? 0 : incomplete_tail(bytes + k, rest);
    if (!control && (k < n || n_head > 0)) {
        c->n = (int)hold;
        memcpy(c->held, bytes + k + rest - hold, hold);
    }
    begin(f, "token", stream);
    fprintf(f, ",\"id\":%d,\"text\":\"", id);
    vox_json_write_chars(f, head, n_head);
    vox_json_write_chars(f, bytes + k, rest - hold);
    fprintf(f, "\",\"control\":%s,\"pos\":%lld,\"step\":%lld,\"start_ms\":%lld,\"end_ms\":%lld",
            control ? "true" : "false", (long long)pos, (long long)step, (long long)(step * VOX_MS_PER_TOKEN),
            (long long)vox_events_end_ms(step));
    end(f);
}

void vox_events_progress(FILE *f, long stream, double consumed_ms, double decoded_ms) {
    begin(f, "progress", stream);
    fprintf(f, ",\"consumed_ms\":%.1f,\"decoded_ms\":%.1f", consumed_ms, decoded_ms);
    end(f);
}

const char *vox_events_code_name(int code) {
    switch (code) {
    case VOX_EUSAGE: return "usage";
    case VOX_EMODEL: return "model";
    case VOX_EAUDIO: return "audio";
    case VOX_EDEVICE: return "backend";
    case VOX_ENOMEM: return "memory";
    default: return "internal";
    }
}

void vox_events_error(FILE *f, long stream, const vox_error_t *err) {
    begin(f, "error", stream);
    fprintf(f, ",\"code\":\"%s\",\"exit_code\":%d,\"message\":", vox_events_code_name(err->code),
            vox_exit_code(err->code));
    vox_json_write_string(f, (const unsigned char *)err->msg, strlen(err->msg));
    end(f);
}

void vox_events_summary_fields(FILE *f, const vox_run_summary *s) {
    const vox_stream_result *r = s->r;
    const vox_stream_timings *t = &r->t;
    fputs("\"text\":", f);
    vox_json_write_string(f, s->text, s->n_text);
    fputs(",\"tokens\":[", f);
    for (size_t i = 0; i < r->n_tokens; i++) fprintf(f, "%s%d", i ? "," : "", r->tokens[i]);
    fprintf(f, "],\"token_times_ms\":[");
    for (size_t i = 0; i < r->n_tokens; i++)
        fprintf(f, "%s%lld", i ? "," : "", (long long)vox_events_end_ms((int64_t)i));
    fprintf(f, "],\"n_audio\":%lld,\"audio_seconds\":%.7f,\"backend\":\"%s\",\"device\":", (long long)r->n_audio,
            (double)r->n_samples / VOX_SAMPLE_RATE, s->backend);
    vox_json_write_string(f, (const unsigned char *)s->device, strlen(s->device));
    fprintf(f,
            ",\"delay_ms\":%d,\"threads\":%d,\"timings_ms\":{\"load\":%.3f,\"mel\":%.3f,\"encoder\":%.3f,"
            "\"adapter\":%.3f,\"prefill\":%.3f,\"decode\":%.3f,\"decode_per_step\":%.3f,\"first_token\":%.3f,"
            "\"wall\":%.3f},\"n_steps\":%zu",
            s->delay_ms, s->threads, s->load_ms, t->mel, t->encoder, t->adapter, t->prefill, t->decode,
            r->n_tokens ? t->decode / (double)r->n_tokens : 0.0, t->first_token, s->wall_ms, r->n_tokens);
    int64_t bytes = 0;
    vox_error_t ignored;
    if (s->params && vox_weights_decoder_bytes_per_step(s->params, &bytes, &ignored) == 0)
        fprintf(f, ",\"decoder_bytes_per_step\":%lld", (long long)bytes);
    fputs(",\"step_ms\":[", f);
    for (size_t i = 0; i < r->n_tokens; i++) fprintf(f, "%s%.3f", i ? "," : "", r->step_ms[i]);
    fputc(']', f);
    vox_stream_stats_json(f, r);
    fprintf(f, ",\"peak_rss_mb\":%.1f,\"gpu_mem_mb\":", s->peak_rss_mb);
    if (s->gpu_mem_mb < 0)
        fputs("null", f);
    else
        fprintf(f, "%.1f", s->gpu_mem_mb);
    fprintf(f, ",\"interrupted\":%s", s->interrupted ? "true" : "false");
}

void vox_events_done(FILE *f, long stream, const vox_run_summary *s) {
    begin(f, "done", stream);
    fputc(',', f);
    vox_events_summary_fields(f, s);
    end(f);
}
