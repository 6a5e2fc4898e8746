#!/usr/bin/env python3
"""Check that every fixture folder is complete and self-consistent (numpy only, no torch needed).

For each checks/fixtures/<name>/: params.json parses; consolidated.safetensors has a valid header, only
BF16 tensors, offsets that tile the data section exactly, and every tensor MODEL.md names with the shape
params.json implies; tekken.json has the control-token split and vocab_size - 1000 byte entries; the
golden arrays are float32 with the shapes meta.json states; tokens.json has one id per logits row and
the ids are the rows' argmax. Exit status 1 and one line per problem if anything is off.
"""
import json
import os
import struct
import sys

import numpy as np

E = "mm_streams_embeddings.embedding_module."
W = E + "whisper_encoder."


def expected_shapes(p):
    """{tensor name: shape} for the Mistral layout described in MODEL.md."""
    ea = p["multimodal"]["whisper_model_args"]["encoder_args"]
    ds = p["multimodal"]["whisper_model_args"]["downsample_args"]["downsample_factor"]
    d, ed, tc = p["dim"], ea["dim"], p.get("ada_rms_norm_t_cond_dim", 32)
    eq, dq, dkv = ea["n_heads"] * ea["head_dim"], p["n_heads"] * p["head_dim"], p["n_kv_heads"] * p["head_dim"]
    s = {E + "tok_embeddings.weight": [p["vocab_size"], d],
         W + "conv_layers.0.conv.weight": [ed, ea["audio_encoding_args"]["num_mel_bins"], 3],
         W + "conv_layers.0.conv.bias": [ed], W + "conv_layers.1.conv.weight": [ed, ed, 3],
         W + "conv_layers.1.conv.bias": [ed], W + "transformer.norm.weight": [ed],
         E + "audio_language_projection.0.weight": [d, ds * ed], E + "audio_language_projection.2.weight": [d, d],
         "norm.weight": [d]}
    for i in range(ea["n_layers"]):
        pre = f"{W}transformer.layers.{i}."
        s.update({pre + "attention.wq.weight": [eq, ed], pre + "attention.wq.bias": [eq],
                  pre + "attention.wk.weight": [eq, ed], pre + "attention.wv.weight": [eq, ed],
                  pre + "attention.wv.bias": [eq], pre + "attention.wo.weight": [ed, eq],
                  pre + "attention.wo.bias": [ed], pre + "attention_norm.weight": [ed],
                  pre + "feed_forward.w1.weight": [ea["hidden_dim"], ed],
                  pre + "feed_forward.w2.weight": [ed, ea["hidden_dim"]], pre + "feed_forward.w2.bias": [ed],
                  pre + "feed_forward.w3.weight": [ea["hidden_dim"], ed], pre + "ffn_norm.weight": [ed]})
    for i in range(p["n_layers"]):
        pre = f"layers.{i}."
        s.update({pre + "attention_norm.weight": [d], pre + "attention.wq.weight": [dq, d],
                  pre + "attention.wk.weight": [dkv, d], pre + "attention.wv.weight": [dkv, d],
                  pre + "attention.wo.weight": [d, dq], pre + "ffn_norm.weight": [d],
                  pre + "feed_forward.w1.weight": [p["hidden_dim"], d], pre + "feed_forward.w2.weight": [d, p["hidden_dim"]],
                  pre + "feed_forward.w3.weight": [p["hidden_dim"], d],
                  pre + "ada_rms_norm_t_cond.0.weight": [tc, d], pre + "ada_rms_norm_t_cond.2.weight": [d, tc]})
    return s


def check_safetensors(path, params, errs):
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        if n > size - 8:
            return errs.append(f"{path}: header length {n} beyond the file")
        header = json.loads(f.read(n))
    header.pop("__metadata__", None)
    spans = []
    for name, t in header.items():
        if t["dtype"] != "BF16":
            errs.append(f"{path}: {name} is {t['dtype']}, not BF16")
        a, b = t["data_offsets"]
        if b - a != 2 * int(np.prod(t["shape"])):
            errs.append(f"{path}: {name} byte span {b - a} != 2 x {t['shape']}")
        spans.append((a, b))
    spans.sort()
    pos = 0
    for a, b in spans:
        if a != pos:
            errs.append(f"{path}: data offsets leave a gap or overlap at {a}")
        pos = b
    if pos != size - 8 - n:
        errs.append(f"{path}: data section is {size - 8 - n} bytes, tensors cover {pos}")
    want = expected_shapes(params)
    for name, shape in want.items():
        if name not in header:
            errs.append(f"{path}: missing {name}")
        elif header[name]["shape"] != shape:
            errs.append(f"{path}: {name} shape {header[name]['shape']} != {shape}")
    for name in sorted(set(header) - set(want)):
        errs.append(f"{path}: unexpected tensor {name}")
    return len(header)


def check_fixture(fdir, errs):
    rd = lambda *p: json.load(open(os.path.join(fdir, *p)))  # noqa: E731
    params, fx, meta = rd("params.json"), rd("fixture.json"), rd("golden", "meta.json")
    tokens = rd("golden", "tokens.json")["tokens"]
    n_tensors = check_safetensors(os.path.join(fdir, "consolidated.safetensors"), params, errs)
    tk = rd("tekken.json")
    n_special = tk["config"]["default_num_special_tokens"]
    if n_special != 1000 or len(tk["vocab"]) != params["vocab_size"] - n_special:
        errs.append(f"{fdir}: tekken has {n_special} specials / {len(tk['vocab'])} vocab entries")
    names = {s["rank"]: s["token_str"] for s in tk["special_tokens"]}
    if [names.get(i) for i in (0, 1, 2, 32)] != ["<unk>", "<s>", "</s>", "[STREAMING_PAD]"]:
        errs.append(f"{fdir}: tekken special tokens 0/1/2/32 are wrong")
    if not os.path.isfile(os.path.join(fdir, fx["audio"])):
        errs.append(f"{fdir}: audio {fx['audio']} missing")
    arrays = {k: np.load(os.path.join(fdir, "golden", k + ".npy")) for k in ("mel", "audio_embeds", "logits")}
    want = {"mel": (meta["n_samples_padded"] // 160, 128), "audio_embeds": (meta["n_audio"], params["dim"]),
            "logits": (meta["n_steps"], params["vocab_size"])}
    for k, a in arrays.items():
        if a.dtype != np.float32 or a.shape != want[k] or not np.isfinite(a).all():
            errs.append(f"{fdir}: {k}.npy is {a.dtype} {a.shape}, want float32 {want[k]} finite")
    if meta["n_audio"] * 8 != meta["n_samples_padded"] // 160 or meta["prompt_len"] != 33 + meta["delay_tokens"]:
        errs.append(f"{fdir}: meta.json sizes are inconsistent")
    if len(tokens) != arrays["logits"].shape[0] or arrays["logits"].argmax(-1).tolist() != tokens:
        errs.append(f"{fdir}: tokens.json does not match the logits rows' argmax")
    print(f"{os.path.basename(fdir)}: {n_tensors} tensors, mel {arrays['mel'].shape}, n_audio {meta['n_audio']}, "
          f"prompt {meta['prompt_len']}, {len(tokens)} tokens ({len(set(tokens))} distinct), "
          f"min margin {meta['top2_margin_min']:.4f}")


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
    errs = []
    dirs = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    if not dirs:
        errs.append(f"{root}: no fixtures")
    for d in dirs:
        try:
            check_fixture(os.path.join(root, d), errs)
        except (OSError, ValueError, KeyError) as e:
            errs.append(f"{d}: {type(e).__name__}: {e}")
    for e in errs:
        print("ERROR", e)
    sys.exit(1 if errs else 0)


if __name__ == "__main__":
    main()
