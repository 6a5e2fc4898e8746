"""A small synthetic tekken.json with the real file's structure (no BPE merges are needed to decode).

Layout, as MODEL.md describes it:
  config.default_num_special_tokens = 1000: ids 0..999 are control tokens and produce no text;
  special_tokens[i] = {rank, token_str, is_control}: <unk>=0, <s>=1, </s>=2, [STREAMING_PAD]=32, ...;
  vocab[k] = {rank: k, token_bytes: base64, token_str}: the text of id 1000 + k.
The vocab holds the 256 single bytes first, then multi-byte pieces (ASCII words and multi-byte UTF-8
characters, so a decoder must join bytes before decoding UTF-8), up to vocab_size - 1000 entries.
"""
import base64
import itertools
import string

N_SPECIAL = 1000

# Names at the ranks the fixtures rely on; the others are filler names like the real file's.
NAMED_SPECIALS = {
    0: "<unk>", 1: "<s>", 2: "</s>", 3: "[INST]", 4: "[/INST]", 5: "[AVAILABLE_TOOLS]",
    6: "[/AVAILABLE_TOOLS]", 7: "[TOOL_RESULTS]", 8: "[/TOOL_RESULTS]", 9: "[TOOL_CALLS]", 10: "[IMG]",
    11: "<pad>", 12: "[IMG_BREAK]", 13: "[IMG_END]", 14: "[PREFIX]", 15: "[MIDDLE]", 16: "[SUFFIX]",
    17: "[SYSTEM_PROMPT]", 18: "[/SYSTEM_PROMPT]", 19: "[TOOL_CONTENT]", 24: "[AUDIO]",
    25: "[BEGIN_AUDIO]", 32: "[STREAMING_PAD]", 33: "[STREAMING_WORD]",
}

_PIECES = [
    " the", " and", " of", " to", " a", " in", " is", " you", " that", " it", " for", " what", " can",
    " do", " your", " country", " ask", " not", " my", " fellow", " Americans", " so", " this", " test",
    " speech", " text", " system", " Hello", "ing", "ed", "er", "th", "he", "an", "re", "on", "é", "ü",
    "ß", "€", "—", "你好", "🎙", "ñ",
]


def _multi_byte_pieces():
    """Hand-picked pieces, then lowercase bigrams; every entry is at least 2 bytes and unique."""
    seen = set()
    for s in itertools.chain(_PIECES, ("".join(p) for p in itertools.product(string.ascii_lowercase, repeat=2))):
        b = s.encode("utf-8")
        if len(b) >= 2 and b not in seen:
            seen.add(b)
            yield b


def _token_str(b):
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return None


def make_tekken(vocab_size):
    """Return the tekken.json dict for a model with vocab_size ids (must exceed 1000 + 256)."""
    n_vocab = vocab_size - N_SPECIAL
    if n_vocab < 256:
        raise ValueError(f"vocab_size {vocab_size} leaves room for fewer than 256 byte tokens")
    pieces = [bytes([i]) for i in range(256)] + list(itertools.islice(_multi_byte_pieces(), n_vocab - 256))
    vocab = [{"rank": k, "token_bytes": base64.b64encode(b).decode("ascii"), "token_str": _token_str(b)}
             for k, b in enumerate(pieces)]
    specials = [{"rank": i, "token_str": NAMED_SPECIALS.get(i, f"<SPECIAL_{i}>"), "is_control": True}
                for i in range(N_SPECIAL)]
    return {
        "config": {
            "pattern": r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|"
                       r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|"
                       r"\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+",
            "num_vocab_tokens": n_vocab,
            "default_vocab_size": vocab_size,
            "default_num_special_tokens": N_SPECIAL,
            "version": "v13",
        },
        "vocab": vocab,
        "special_tokens": specials,
    }


def decode(tekken, ids):
    """Bytes of the non-control ids joined, decoded as UTF-8 (invalid sequences -> U+FFFD)."""
    n_special = tekken["config"]["default_num_special_tokens"]
    table = [base64.b64decode(v["token_bytes"]) for v in tekken["vocab"]]
    data = b"".join(table[i - n_special] for i in ids if i >= n_special)
    return data.decode("utf-8", errors="replace"), data
