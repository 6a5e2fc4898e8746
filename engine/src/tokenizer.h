/* tokenizer.h — tekken.json, decode direction only (ids -> UTF-8 bytes).
 * ids < n_special are control tokens (no text); id n_special + k has the bytes of vocab[k]
 * (base64 token_bytes). Special token ids (BOS, EOS, STREAMING_PAD) come from special_tokens[]. */
#ifndef VOX_TOKENIZER_H
#define VOX_TOKENIZER_H
#include <stddef.h>
#include "vox.h"

typedef struct {
    int n_special;               /* config.default_num_special_tokens (1000) */
    int n_vocab;                 /* n_special + number of vocab entries used */
    int bos, eos, streaming_pad; /* 1, 2, 32 in the real tekken */
    unsigned char *bytes;        /* all token texts, concatenated */
    size_t *offset;              /* [n_vocab + 1]: text of id i is bytes[offset[i] .. offset[i+1]) */
} vox_tokenizer_t;

/* Load DIR/tekken.json. vocab_size (from params) bounds the ids that are kept. VOX_EMODEL on failure. */
int vox_tokenizer_load(const char *dir, int vocab_size, vox_tokenizer_t *t, vox_error_t *err);
void vox_tokenizer_free(vox_tokenizer_t *t);
/* Bytes of one id (len 0 for control tokens / out of range). */
const unsigned char *vox_tokenizer_bytes(const vox_tokenizer_t *t, int id, size_t *len);
int vox_tokenizer_is_control(const vox_tokenizer_t *t, int id);
#endif
