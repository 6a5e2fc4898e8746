/* json.c — a strict, bounded JSON parser into a read-only tree (RFC 8259).
 *
 * All nodes and strings of one document live in an arena owned by the root, so parsing
 * the 15 MB tekken.json (~10^6 nodes) costs a few large allocations and free() is one walk
 * over the arena blocks. Limits: nesting depth 64, input size 1 GiB. Errors carry the byte
 * offset of the problem. */
#define _POSIX_C_SOURCE 200809L
#include "json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define JSON_MAX_DEPTH 64
#define JSON_MAX_INPUT ((size_t)1 << 30)
#define ARENA_BLOCK    ((size_t)1 << 20)

typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    /* data follows, aligned like max_align_t (the struct is a multiple of pointer size) */
} arena_block;

/* The root node is the first member, so the root pointer handed out is the document. */
typedef struct {
    vox_json root;
    arena_block *blocks;
} json_doc;

typedef struct {
    const char *s;
    size_t len, pos;
    const char *what;
    vox_error_t *err;
    json_doc *doc;
    int failed;
} parser;

static void *arena_alloc(parser *p, size_t n) {
    n = (n + 15) & ~(size_t)15;
    arena_block *b = p->doc->blocks;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        arena_block *nb = malloc(sizeof(arena_block) + 16 + cap);
        if (!nb) {
            if (!p->failed)
                vox_fail(p->err, VOX_ENOMEM, "%s: out of memory while parsing JSON. Free some memory and retry",
                         p->what);
            p->failed = 1;
            return NULL;
        }
        nb->used = 0;
        nb->cap = cap;
        nb->next = b;
        p->doc->blocks = nb;
        b = nb;
    }
    /* Data starts 16 bytes past the header's start rounded up: keep 16-byte alignment. */
    char *base = (char *)b + ((sizeof(arena_block) + 15) & ~(size_t)15);
    void *r = base + b->used;
    b->used += n;
    return r;
}

static void *fail_at(parser *p, const char *problem) {
    if (!p->failed)
        vox_fail(p->err, VOX_EMODEL,
                 "%s: invalid JSON at byte %zu (%s). The file is damaged or is not the model's file: download it again",
                 p->what, p->pos, problem);
    p->failed = 1;
    return NULL;
}

static void skip_ws(parser *p) {
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

static int hex4(parser *p, unsigned *out) {
    if (p->len - p->pos < 4) return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p->s[p->pos + i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    p->pos += 4;
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* At an opening quote. Unescaped output is never longer than the escaped input. */
static char *parse_string(parser *p, size_t *out_len) {
    size_t start = ++p->pos, end = start;
    while (end < p->len && p->s[end] != '"') end += (p->s[end] == '\\') ? 2 : 1;
    if (end >= p->len) {
        p->pos = start - 1;
        return fail_at(p, "unterminated string");
    }
    char *o = arena_alloc(p, end - start + 1);
    if (!o) return NULL;
    size_t n = 0;
    while (p->pos < end) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c < 0x20) return fail_at(p, "control character inside a string");
        if (c != '\\') {
            o[n++] = (char)c;
            p->pos++;
            continue;
        }
        p->pos++;
        char e = p->s[p->pos++];
        switch (e) {
        case '"': o[n++] = '"'; break;
        case '\\': o[n++] = '\\'; break;
        case '/': o[n++] = '/'; break;
        case 'b': o[n++] = '\b'; break;
        case 'f': o[n++] = '\f'; break;
        case 'n': o[n++] = '\n'; break;
        case 'r': o[n++] = '\r'; break;
        case 't': o[n++] = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (hex4(p, &cp)) return fail_at(p, "bad \\u escape: expected 4 hex digits");
            if (cp >= 0xdc00 && cp <= 0xdfff) return fail_at(p, "lone low surrogate in \\u escape");
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (p->pos + 2 > end || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
                    return fail_at(p, "high surrogate not followed by a \\u low surrogate");
                p->pos += 2;
                if (hex4(p, &lo) || lo < 0xdc00 || lo > 0xdfff)
                    return fail_at(p, "high surrogate not followed by a \\u low surrogate");
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            n += put_utf8(o + n, cp);
            break;
        }
        default: p->pos--; return fail_at(p, "unknown escape in string");
        }
    }
    o[n] = '\0';
    p->pos = end + 1;
    *out_len = n;
    return o;
}

/* RFC 8259 number grammar, then strtod on a bounded copy. */
static int parse_number(parser *p, double *out) {
    size_t st = p->pos, i = p->pos;
    if (i < p->len && p->s[i] == '-') i++;
    if (i >= p->len) return -1;
    if (p->s[i] == '0')
        i++;
    else if (p->s[i] >= '1' && p->s[i] <= '9')
        while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9') i++;
    else
        return -1;
    if (i < p->len && p->s[i] == '.') {
        i++;
        if (i >= p->len || p->s[i] < '0' || p->s[i] > '9') return -1;
        while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9') i++;
    }
    if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
        i++;
        if (i < p->len && (p->s[i] == '+' || p->s[i] == '-')) i++;
        if (i >= p->len || p->s[i] < '0' || p->s[i] > '9') return -1;
        while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9') i++;
    }
    char buf[64];
    if (i - st >= sizeof buf) return -1;
    memcpy(buf, p->s + st, i - st);
    buf[i - st] = '\0';
    *out = strtod(buf, NULL);
    p->pos = i;
    return 0;
}

static int parse_value(parser *p, vox_json *v, int depth);

static int literal(parser *p, const char *word) {
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0) return -1;
    p->pos += n;
    return 0;
}

static int parse_container(parser *p, vox_json *v, int depth, char close) {
    if (depth >= JSON_MAX_DEPTH) {
        fail_at(p, "nesting deeper than 64 levels");
        return -1;
    }
    p->pos++;
    vox_json **tail = &v->child;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        return 0;
    }
    for (;;) {
        vox_json *c = arena_alloc(p, sizeof *c);
        if (!c) return -1;
        memset(c, 0, sizeof *c);
        skip_ws(p);
        if (close == '}') {
            size_t klen;
            if (p->pos >= p->len || p->s[p->pos] != '"') {
                fail_at(p, "expected a string key");
                return -1;
            }
            if (!(c->key = parse_string(p, &klen))) return -1;
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') {
                fail_at(p, "expected ':' after key");
                return -1;
            }
            p->pos++;
        }
        if (parse_value(p, c, depth + 1)) return -1;
        *tail = c;
        tail = &c->next;
        v->count++;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == close) {
            p->pos++;
            return 0;
        }
        fail_at(p, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
        return -1;
    }
}

static int parse_value(parser *p, vox_json *v, int depth) {
    skip_ws(p);
    if (p->pos >= p->len) {
        fail_at(p, "unexpected end of input");
        return -1;
    }
    char c = p->s[p->pos];
    switch (c) {
    case '{': v->type = VOX_JSON_OBJECT; return parse_container(p, v, depth, '}');
    case '[': v->type = VOX_JSON_ARRAY; return parse_container(p, v, depth, ']');
    case '"':
        v->type = VOX_JSON_STRING;
        v->string = parse_string(p, &v->string_len);
        return v->string ? 0 : -1;
    case 't':
        v->type = VOX_JSON_BOOL;
        v->number = 1;
        break;
    case 'f':
        v->type = VOX_JSON_BOOL;
        v->number = 0;
        break;
    case 'n': v->type = VOX_JSON_NULL; break;
    default:
        v->type = VOX_JSON_NUMBER;
        if (parse_number(p, &v->number)) {
            fail_at(p, "expected a value");
            return -1;
        }
        return 0;
    }
    if (literal(p, c == 't' ? "true" : c == 'f' ? "false" : "null")) {
        fail_at(p, "expected a value");
        return -1;
    }
    return 0;
}

vox_json *vox_json_parse(const char *text, size_t len, const char *what, vox_error_t *err) {
    if (len > JSON_MAX_INPUT) {
        vox_fail(
            err, VOX_EMODEL,
            "%s: %zu bytes of JSON is larger than the 1 GiB limit. The file is not the model's file: download it again",
            what, len);
        return NULL;
    }
    json_doc *doc = calloc(1, sizeof *doc);
    if (!doc) {
        vox_fail(err, VOX_ENOMEM, "%s: out of memory. Free some memory and retry", what);
        return NULL;
    }
    parser p = {text, len, 0, what, err, doc, 0};
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) p.pos = 3; /* tolerate a UTF-8 BOM */
    int rc = parse_value(&p, &doc->root, 0);
    if (rc == 0) {
        skip_ws(&p);
        if (p.pos != len) {
            fail_at(&p, "unexpected data after the JSON value");
            rc = -1;
        }
    }
    if (rc) {
        vox_json_free(&doc->root);
        return NULL;
    }
    return &doc->root;
}

void vox_json_free(vox_json *j) {
    if (!j) return;
    json_doc *doc = (json_doc *)j; /* only the root is ever freed: it is the document */
    arena_block *b = doc->blocks;
    while (b) {
        arena_block *n = b->next;
        free(b);
        b = n;
    }
    free(doc);
}

const vox_json *vox_json_get(const vox_json *obj, const char *key) {
    if (!obj || obj->type != VOX_JSON_OBJECT) return NULL;
    for (const vox_json *c = obj->child; c; c = c->next)
        if (strcmp(c->key, key) == 0) return c;
    return NULL;
}

const vox_json *vox_json_path(const vox_json *obj, const char *dotted) {
    char part[256];
    const char *s = dotted;
    while (obj && *s) {
        const char *dot = strchr(s, '.');
        size_t n = dot ? (size_t)(dot - s) : strlen(s);
        if (n >= sizeof part) return NULL;
        memcpy(part, s, n);
        part[n] = '\0';
        obj = vox_json_get(obj, part);
        s += n + (dot ? 1 : 0);
    }
    return obj;
}

vox_json *vox_json_parse_file(const char *path, const char *what, size_t max_bytes, vox_error_t *err) {
    struct stat sb;
    const char *why = NULL;
    FILE *f = NULL;
    if (stat(path, &sb) != 0)
        why = strerror(errno);
    else if (!S_ISREG(sb.st_mode))
        why = "not a regular file";
    else if (!(f = fopen(path, "rb")))
        why = strerror(errno);
    if (why) {
        vox_fail(err, VOX_EMODEL, "cannot read %s: %s. Check that the file exists and is readable", path, why);
        return NULL;
    }
    if ((size_t)sb.st_size > max_bytes) {
        fclose(f);
        vox_fail(err, VOX_EMODEL,
                 "%s is %lld bytes, more than the %zu expected for %s. It is not the model's file: download it again",
                 path, (long long)sb.st_size, max_bytes, what);
        return NULL;
    }
    size_t n = (size_t)sb.st_size;
    char *buf = malloc(n ? n : 1);
    if (!buf) {
        fclose(f);
        vox_fail(err, VOX_ENOMEM, "out of memory reading %s. Free some memory and retry", path);
        return NULL;
    }
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    if (got != n) {
        free(buf);
        vox_fail(err, VOX_EMODEL, "cannot read %s: read %zu of %zu bytes. Check the disk and the file", path, got, n);
        return NULL;
    }
    vox_json *j = vox_json_parse(buf, n, what, err);
    free(buf);
    return j;
}

/* ---------------- writing ---------------- */

/* The escaped bytes of a JSON string, without the quotes. */
void vox_json_write_chars(FILE *f, const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        if (c < 0x80) {
            if (c == '"' || c == '\\')
                fprintf(f, "\\%c", c);
            else if (c == '\n')
                fputs("\\n", f);
            else if (c == '\r')
                fputs("\\r", f);
            else if (c == '\t')
                fputs("\\t", f);
            else if (c < 0x20 || c == 0x7f)
                fprintf(f, "\\u%04x", c);
            else
                fputc((int)c, f);
            i++;
            continue;
        }
        int len = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
        unsigned cp = len == 4 ? c & 7 : len == 3 ? c & 15 : c & 31;
        int ok = len > 0 && i + (size_t)len <= n;
        for (int k = 1; ok && k < len; k++) {
            ok = (s[i + k] & 0xc0) == 0x80;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (ok)
            ok = !(len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000))) &&
                 !(len == 4 && (cp < 0x10000 || cp > 0x10ffff));
        if (ok) {
            fwrite(s + i, 1, (size_t)len, f);
            i += (size_t)len;
        } else {
            fputs("\\ufffd", f);
            i++;
        }
    }
}

void vox_json_write_string(FILE *f, const unsigned char *s, size_t n) {
    fputc('"', f);
    vox_json_write_chars(f, s, n);
    fputc('"', f);
}
