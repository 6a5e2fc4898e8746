/* json.h — a small read-only JSON DOM for params.json and tekken.json.
 * Parses the whole text into a tree of nodes; strings are unescaped UTF-8 (\uXXXX incl.
 * surrogate pairs). Depth and size are bounded so hostile files fail cleanly. */
#ifndef VOX_JSON_H
#define VOX_JSON_H
#include <stddef.h>
#include <stdio.h>
#include "vox.h"

typedef enum {
    VOX_JSON_NULL,
    VOX_JSON_BOOL,
    VOX_JSON_NUMBER,
    VOX_JSON_STRING,
    VOX_JSON_ARRAY,
    VOX_JSON_OBJECT
} vox_json_type;

typedef struct vox_json {
    vox_json_type type;
    double number; /* NUMBER, BOOL (0/1) */
    char *string;  /* STRING (NUL-terminated), object member key in `key` */
    size_t string_len;
    char *key;              /* set when this node is an object member */
    struct vox_json *child; /* first element / member (ARRAY, OBJECT) */
    struct vox_json *next;  /* next sibling */
    size_t count;           /* number of children */
} vox_json;

/* Parse `len` bytes. On failure returns NULL and fills err (code VOX_EMODEL, message names
 * `what` (e.g. "params.json") and the byte offset). */
vox_json *vox_json_parse(const char *text, size_t len, const char *what, vox_error_t *err);
/* Read and parse a whole file of at most max_bytes (VOX_EMODEL when unreadable or larger). */
vox_json *vox_json_parse_file(const char *path, const char *what, size_t max_bytes, vox_error_t *err);
void vox_json_free(vox_json *j);
const vox_json *vox_json_get(const vox_json *obj, const char *key);     /* NULL if absent */
const vox_json *vox_json_path(const vox_json *obj, const char *dotted); /* "a.b.c" */
/* Write n bytes as a JSON string literal; invalid UTF-8 bytes become U+FFFD, so the output always
 * parses. */
void vox_json_write_string(FILE *f, const unsigned char *s, size_t n);
/* The same without the quotes (a string written in pieces that each end on a character boundary). */
void vox_json_write_chars(FILE *f, const unsigned char *s, size_t n);
#endif
