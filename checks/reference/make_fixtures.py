#!/usr/bin/env python3
"""Build the small random Voxtral Realtime models and their golden outputs (checks/fixtures/<name>/).

Oracle: the Hugging Face port (transformers >= 5, VoxtralRealtimeForConditionalGeneration), run in
float32 on the CPU on bf16-rounded weights, so the BF16 checkpoint written here is exactly the model
that produced the golden arrays. Each fixture folder gets params.json, consolidated.safetensors and
tekken.json in the Mistral layout, the WAV, fixture.json and golden/{mel,audio_embeds,logits}.npy,
golden/tokens.json and golden/meta.json. See README.md beside this file for the layout and schedule.

Every fixture is also recomputed from the converted checkpoint by mistral_ref.py (MODEL.md in plain
float64 torch), by the HF KV-cache path, and by HF's own generate(); the agreements are recorded in
fixture.json under "checks" and the run fails if the golden arrays disagree with MODEL.md.
"""
import argparse
import json
import math
import os
import re
import shutil
import sys
import wave

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mistral_ref  # noqa: E402
import synth_tekken  # noqa: E402

import transformers  # noqa: E402
from transformers import VoxtralRealtimeConfig, VoxtralRealtimeForConditionalGeneration  # noqa: E402

BOS, EOS, STREAMING_PAD = 1, 2, 32
LEFT_PAD_TOKENS, RIGHT_BUFFER_TOKENS = 32, 10
SAMPLES_PER_TOKEN = 1280  # 80 ms at 16 kHz
E, W = mistral_ref.E, mistral_ref.W

# Small shapes; the decoder's n_heads * head_dim differs from dim, as in the real model (32 * 128 != 3072).
# Weight recipes tried in order (MODEL.md's recipe first). With long windows a random encoder/decoder
# averages attention over hundreds of positions, its outputs barely change along the audio and the greedy
# tokens stick to one id; damping the attention output projections (wo x wo_scale) and sharpening the
# scores (wq, wk x qk_scale) lets per-position audio drive the tokens again. The first recipe that gives
# an acceptable seed wins; fixture.json records it.
RECIPES = [dict(wo_scale=1.0, qk_scale=1.0), dict(wo_scale=0.5, qk_scale=1.0), dict(wo_scale=0.25, qk_scale=1.0),
           dict(wo_scale=0.25, qk_scale=2.0), dict(wo_scale=0.1, qk_scale=2.0)]

_SMALL = dict(enc=dict(dim=64, n_layers=2, n_heads=4, head_dim=16, hidden_dim=128, rope_theta=1e6),
              dec=dict(dim=64, n_layers=2, n_heads=4, n_kv_heads=2, head_dim=32, hidden_dim=160,
                       rope_theta=1e6, vocab_size=1300))
FIXTURES = [
    dict(name="tiny-real-windows", audio="test_speech.wav", delay_ms=480, enc_window=750, dec_window=8192,
         seed0=100, shapes=_SMALL,
         description="Real windows (encoder 750, decoder 8192), which 3.6 s of audio does not reach; "
                     "480 ms delay."),
    dict(name="tiny-small-windows", audio="test_speech.wav", delay_ms=480, enc_window=16, dec_window=24,
         seed0=200, shapes=dict(enc=dict(_SMALL["enc"], rope_theta=1e4), dec=dict(_SMALL["dec"], rope_theta=1e4)),
         description="Sliding windows of 16 encoder and 24 decoder positions, crossed many times by the "
                     "audio (380 encoder / 95 decoder positions); rope_theta 1e4 in both; 480 ms delay."),
    dict(name="tiny-delay", audio="jfk.wav", delay_ms=960, enc_window=750, dec_window=8192, seed0=300,
         shapes=dict(enc=dict(dim=96, n_layers=2, n_heads=4, head_dim=24, hidden_dim=192, rope_theta=1e6),
                     dec=dict(dim=96, n_layers=2, n_heads=6, n_kv_heads=2, head_dim=16, hidden_dim=256,
                              rope_theta=1e6, vocab_size=1400)),
         description="960 ms delay (12 delay tokens) on 11 s of speech; 772 encoder positions cross the "
                     "real 750 window; 3:1 GQA, head_dim 24 in the encoder."),
]


def read_wav(path):
    """16 kHz mono 16-bit PCM WAV -> float32 samples in [-1, 1) (int16 / 32768)."""
    with wave.open(path, "rb") as w:
        if (w.getnchannels(), w.getsampwidth(), w.getframerate()) != (1, 2, 16000):
            raise SystemExit(f"{path}: need 16 kHz mono 16-bit PCM, got {w.getparams()}")
        data = w.readframes(w.getnframes())
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0


def pad_offline(samples, delay_tokens):
    """MODEL.md offline padding: 32 tokens of silence left; right to a multiple of 1280, then d+1+10 tokens."""
    n = len(samples)
    right = (-n) % SAMPLES_PER_TOKEN + (delay_tokens + 1 + RIGHT_BUFFER_TOKENS) * SAMPLES_PER_TOKEN
    return np.concatenate([np.zeros(LEFT_PAD_TOKENS * SAMPLES_PER_TOKEN, np.float32), samples,
                           np.zeros(right, np.float32)])


def build_model(fx, seed, recipe):
    """HF model with the fixture's shapes, weights drawn per MODEL.md's recipe and rounded to bf16."""
    enc, dec = fx["shapes"]["enc"], fx["shapes"]["dec"]
    cfg = VoxtralRealtimeConfig(
        audio_config=dict(hidden_size=enc["dim"], intermediate_size=enc["hidden_dim"],
                          num_hidden_layers=enc["n_layers"], num_attention_heads=enc["n_heads"],
                          head_dim=enc["head_dim"], num_mel_bins=128, rms_norm_eps=1e-5,
                          sliding_window=fx["enc_window"], max_position_embeddings=1 << 16,
                          rope_parameters={"rope_type": "default", "rope_theta": enc["rope_theta"]}),
        text_config=dict(vocab_size=dec["vocab_size"], hidden_size=dec["dim"], intermediate_size=dec["hidden_dim"],
                         num_hidden_layers=dec["n_layers"], num_attention_heads=dec["n_heads"],
                         num_key_value_heads=dec["n_kv_heads"], head_dim=dec["head_dim"], rms_norm_eps=1e-5,
                         sliding_window=fx["dec_window"], max_position_embeddings=1 << 16,
                         rope_theta=dec["rope_theta"], tie_word_embeddings=True, bos_token_id=BOS,
                         eos_token_id=EOS, rope_parameters={"rope_type": "default", "rope_theta": dec["rope_theta"]}),
        default_num_delay_tokens=fx["delay_ms"] // 80,
    )
    torch.manual_seed(seed)
    model = VoxtralRealtimeForConditionalGeneration(cfg).eval()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, prm in model.named_parameters():
            r = torch.randn(prm.shape, generator=g)
            if name.endswith("embed_tokens.weight") or name == "lm_head.weight":
                v = 0.1 * r                                     # small embeddings: tokens follow the audio
            elif prm.ndim == 1 and "norm" in name.split(".")[-2]:
                v = 1.0 + 0.1 * r
            elif name.endswith(".bias"):
                v = 0.1 * r
            else:
                v = r / math.sqrt(prm[0].numel())               # std 1/sqrt(fan_in) (conv: in * k)
            prm.copy_(v)
        model.model.language_model.norm.weight.mul_(4.0)        # sharper logits
        for name, prm in model.named_parameters():
            if name.endswith("self_attn.o_proj.weight"):
                prm.mul_(recipe["wo_scale"])
            elif name.endswith(("self_attn.q_proj.weight", "self_attn.k_proj.weight")):
                prm.mul_(recipe["qk_scale"])
        for prm in model.parameters():
            prm.copy_(prm.to(torch.bfloat16).float())
        if model.lm_head.weight.data_ptr() != model.model.language_model.embed_tokens.weight.data_ptr():
            raise SystemExit("HF model did not tie lm_head to embed_tokens; the Mistral layout needs tied weights")
    _check_rope(model.model.audio_tower.rotary_emb, enc)
    _check_rope(model.model.language_model.rotary_emb, dec)
    return model


def _check_rope(rot, shape):
    want = 1.0 / shape["rope_theta"] ** (torch.arange(0, shape["head_dim"], 2).float() / shape["head_dim"])
    if not torch.allclose(rot.inv_freq.float(), want, rtol=1e-6):
        raise SystemExit(f"HF rotary inv_freq does not use rope_theta {shape['rope_theta']}")


def _perm(w, n_heads):
    """HF half-rotation rows -> Mistral interleaved rows (works for weights [out, in] and biases [out])."""
    hd = w.shape[0] // n_heads
    return w.reshape(n_heads, 2, hd // 2, -1).transpose(1, 2).reshape(w.shape)


_NAME_RULES = [
    (r"audio_tower\.embedder\.conv([12])\.(weight|bias)", lambda m: f"{W}conv_layers.{int(m[1]) - 1}.conv.{m[2]}"),
    (r"audio_tower\.layers\.(\d+)\.self_attn\.([qkvo])_proj\.(weight|bias)",
     lambda m: f"{W}transformer.layers.{m[1]}.attention.w{m[2]}.{m[3]}"),
    (r"audio_tower\.layers\.(\d+)\.self_attn_layer_norm\.weight",
     lambda m: f"{W}transformer.layers.{m[1]}.attention_norm.weight"),
    (r"audio_tower\.layers\.(\d+)\.final_layer_norm\.weight", lambda m: f"{W}transformer.layers.{m[1]}.ffn_norm.weight"),
    (r"audio_tower\.layers\.(\d+)\.mlp\.(gate|down|up)_proj\.(weight|bias)",
     lambda m: f"{W}transformer.layers.{m[1]}.feed_forward.w{dict(gate=1, down=2, up=3)[m[2]]}.{m[3]}"),
    (r"audio_tower\.norm\.weight", lambda m: f"{W}transformer.norm.weight"),
    (r"multi_modal_projector\.linear_([12])\.weight",
     lambda m: f"{E}audio_language_projection.{2 * (int(m[1]) - 1)}.weight"),
    (r"language_model\.embed_tokens\.weight", lambda m: f"{E}tok_embeddings.weight"),
    (r"language_model\.layers\.(\d+)\.self_attn\.([qkvo])_proj\.weight",
     lambda m: f"layers.{m[1]}.attention.w{m[2]}.weight"),
    (r"language_model\.layers\.(\d+)\.input_layernorm\.weight", lambda m: f"layers.{m[1]}.attention_norm.weight"),
    (r"language_model\.layers\.(\d+)\.post_attention_layernorm\.weight",
     lambda m: f"layers.{m[1]}.ffn_norm.weight"),
    (r"language_model\.layers\.(\d+)\.mlp\.(gate|down|up)_proj\.weight",
     lambda m: f"layers.{m[1]}.feed_forward.w{dict(gate=1, down=2, up=3)[m[2]]}.weight"),
    (r"language_model\.layers\.(\d+)\.ada_rms_norm\.linear([12])\.weight",
     lambda m: f"layers.{m[1]}.ada_rms_norm_t_cond.{2 * (int(m[2]) - 1)}.weight"),
    (r"language_model\.norm\.weight", lambda m: "norm.weight"),
]


def to_mistral(model, fx):
    """HF state dict -> {Mistral name: float32 tensor}, with wq/wk (and the encoder's wq bias) permuted."""
    enc, dec = fx["shapes"]["enc"], fx["shapes"]["dec"]
    out = {}
    for hf_name, t in model.state_dict().items():
        name = hf_name[len("model."):] if hf_name.startswith("model.") else hf_name
        if name == "lm_head.weight":
            continue                                            # tied to tok_embeddings
        for pat, fn in _NAME_RULES:
            m = re.fullmatch(pat, name)
            if m:
                break
        else:
            raise SystemExit(f"no Mistral name for HF tensor {hf_name}")
        mname, t = fn(m), t.detach().float().clone()
        heads = enc["n_heads"] if mname.startswith(W) else dec["n_heads"]
        if mname.endswith(("attention.wq.weight", "attention.wq.bias")):
            t = _perm(t, heads)
        elif mname.endswith("attention.wk.weight"):
            t = _perm(t, heads if mname.startswith(W) else dec["n_kv_heads"])
        out[mname] = t
    return out


def make_params(fx, model):
    enc, dec = fx["shapes"]["enc"], fx["shapes"]["dec"]
    t_cond_dim = model.model.language_model.layers[0].ada_rms_norm.linear1.out_features
    return {
        "dim": dec["dim"], "n_layers": dec["n_layers"], "head_dim": dec["head_dim"], "hidden_dim": dec["hidden_dim"],
        "n_heads": dec["n_heads"], "n_kv_heads": dec["n_kv_heads"], "rope_theta": dec["rope_theta"],
        "norm_eps": 1e-5, "vocab_size": dec["vocab_size"], "tied_embeddings": True,
        "sliding_window": fx["dec_window"], "ada_rms_norm_t_cond": True, "ada_rms_norm_t_cond_dim": t_cond_dim,
        "multimodal": {"whisper_model_args": {
            "encoder_args": {
                "dim": enc["dim"], "n_layers": enc["n_layers"], "head_dim": enc["head_dim"],
                "hidden_dim": enc["hidden_dim"], "n_heads": enc["n_heads"], "n_kv_heads": enc["n_heads"],
                "rope_theta": enc["rope_theta"], "norm_eps": 1e-5, "sliding_window": fx["enc_window"],
                "audio_encoding_args": {"sampling_rate": 16000, "frame_rate": 12.5, "num_mel_bins": 128,
                                        "hop_length": 160, "window_size": 400, "global_log_mel_max": 1.5},
            },
            "downsample_args": {"downsample_factor": 4},
        }},
    }


def hf_mel(samples):
    """[T, 128] float32 from the HF feature extractor (centred STFT, last frame dropped)."""
    from transformers import VoxtralRealtimeFeatureExtractor
    fe = VoxtralRealtimeFeatureExtractor()
    return fe._torch_extract_fbank_features(torch.from_numpy(samples), "cpu", center=True).T.contiguous()


def hf_audio_embeds(model, mel):
    """Conv stem + encoder + group-by-4 + projector over the whole mel: [n_audio, dim]."""
    return model.model.get_audio_features(input_features=mel.T[None]).pooler_output[0]


def _t_cond(model, delay_tokens):
    """As VoxtralRealtimeModel.forward builds it: [1, dim]."""
    return model.model.time_embedding(torch.full((1,), float(delay_tokens)))[None]


def _decode(model, x, positions, delay_tokens, cache=None):
    """Decoder (VoxtralRealtimeTextModel) + tied LM head on inputs x [S, dim] at the given positions."""
    out = model.model.language_model(inputs_embeds=x[None], position_ids=torch.tensor([positions]),
                                     past_key_values=cache, use_cache=cache is not None,
                                     t_cond=_t_cond(model, delay_tokens))
    return model.lm_head(out.last_hidden_state[0])


def hf_greedy_cached(model, ae, delay_tokens):
    """Offline schedule with HF's KV cache (DynamicCache): returns (logits rows [n_steps, vocab], tokens)."""
    from transformers import DynamicCache
    emb = model.get_input_embeddings()
    cache = DynamicCache(config=model.config.text_config)
    prompt = [BOS] + [STREAMING_PAD] * (LEFT_PAD_TOKENS + delay_tokens)
    L, n_audio = len(prompt), ae.shape[0]
    rows = [_decode(model, ae[:L] + emb(torch.tensor(prompt)), list(range(L)), delay_tokens, cache)[-1]]
    tokens = [int(rows[-1].argmax())]
    for p in range(L, n_audio):
        if tokens[-1] == EOS:
            break
        x = ae[p:p + 1] + emb(torch.tensor([tokens[-1]]))
        rows.append(_decode(model, x, [p], delay_tokens, cache)[-1])
        tokens.append(int(rows[-1].argmax()))
    return torch.stack(rows), tokens


def hf_full_logits(model, ae, seq, delay_tokens):
    """One causal pass (no cache) over seq; logits [len(seq), vocab]."""
    x = ae[:len(seq)] + model.get_input_embeddings()(torch.tensor(seq))
    return _decode(model, x, list(range(len(seq))), delay_tokens)


def hf_generate(model, mel, prompt, delay_tokens):
    """Tokens from HF's own generate() (streaming encoder with its cache), or the error it raised."""
    try:
        out = model.generate(input_ids=torch.tensor([prompt]), input_features=mel.T[None],
                             num_delay_tokens=delay_tokens, do_sample=False, eos_token_id=EOS, pad_token_id=0)
        return out[0, len(prompt):].tolist(), None
    except Exception as e:  # recorded in fixture.json; the golden arrays do not depend on it
        return None, f"{type(e).__name__}: {e}"


def rel(a, b):
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    return float((a - b).norm() / b.norm())


def margins(rows):
    top2 = rows.topk(2, dim=-1).values
    return (top2[:, 0] - top2[:, 1])


def acceptable(tokens, min_margin):
    """Non-trivial decode: no early EOS, enough distinct ids, no near-tie between the top two logits."""
    return (EOS not in tokens[:5] and len(tokens) >= 10 and len(set(tokens)) >= max(5, len(tokens) // 8)
            and min_margin >= 1e-2)


def pick_model(fx, mel, n_seeds):
    """First recipe of RECIPES with an acceptable seed among seed0..seed0+n-1; within it the seed with the
    largest minimum top-2 margin. Returns (seed, recipe); (None, None) if nothing is acceptable."""
    for recipe in RECIPES:
        best = None
        for seed in range(fx["seed0"], fx["seed0"] + n_seeds):
            model = build_model(fx, seed, recipe)
            with torch.no_grad():
                rows, tokens = hf_greedy_cached(model, hf_audio_embeds(model, mel), fx["delay_ms"] // 80)
            m = float(margins(rows).min())
            ok = acceptable(tokens, m)
            print(f"  {recipe} seed {seed}: {len(tokens)} steps, {len(set(tokens))} distinct, "
                  f"min margin {m:.4f}{'' if ok else ' (rejected)'}")
            if ok and (best is None or m > best[1]):
                best = (seed, m)
        if best is not None:
            return best[0], recipe
    return None, None


def window_effect(model, mel, ae, seq, delay_tokens, golden_rows, row0):
    """How much the configured windows change the outputs (0 when the audio never crosses them)."""
    enc_cfg, dec_cfg = model.model.audio_tower.config, model.model.language_model.config
    saved = enc_cfg.sliding_window, dec_cfg.sliding_window
    enc_cfg.sliding_window = dec_cfg.sliding_window = 1 << 30
    try:
        ae_nowin = hf_audio_embeds(model, mel)
        rows_nowin = hf_full_logits(model, ae, seq, delay_tokens)[row0:]
    finally:
        enc_cfg.sliding_window, dec_cfg.sliding_window = saved
    return {"audio_embeds_rel_change": rel(ae_nowin, ae), "logits_rel_change": rel(rows_nowin, golden_rows)}


def write_npy(path, a):
    np.save(path, np.ascontiguousarray(a, dtype=np.float32))


def make_fixture(fx, samples_dir, out_dir, n_seeds):
    print(f"== {fx['name']}")
    d = fx["delay_ms"] // 80
    raw = read_wav(os.path.join(samples_dir, fx["audio"]))
    padded = pad_offline(raw, d)
    mel = hf_mel(padded)
    seed, recipe = pick_model(fx, mel, n_seeds)
    if seed is None:
        print(f"  FAILED: no recipe/seed gave a non-trivial decode; change seed0, the shapes or RECIPES")
        return False
    model = build_model(fx, seed, recipe)
    prompt = [BOS] + [STREAMING_PAD] * (LEFT_PAD_TOKENS + d)
    L = len(prompt)
    with torch.no_grad():
        ae = hf_audio_embeds(model, mel)
        cached_rows, tokens = hf_greedy_cached(model, ae, d)
        seq = prompt + tokens[:-1]
        rows = hf_full_logits(model, ae, seq, d)[L - 1:]
        gen_tokens, gen_err = hf_generate(model, mel, prompt, d)
        sd = to_mistral(model, fx)
        params = make_params(fx, model)
        sd64 = {k: v.double() for k, v in sd.items()}
        ref_mel = mistral_ref.log_mel(padded)
        ref_ae = mistral_ref.encoder_adapter(sd64, params, mel)
        ref_rows = mistral_ref.decoder_logits(sd64, params, ref_ae, seq, d)[L - 1:]
        win = window_effect(model, mel, ae, seq, d, rows, L - 1)

    m = margins(rows)
    checks = {
        "model_md_mel_max_abs": float((ref_mel - mel.double()).abs().max()),
        "model_md_audio_embeds_rel": rel(ref_ae, ae),
        "model_md_logits_rel": rel(ref_rows, rows),
        "model_md_tokens_equal": ref_rows.argmax(-1).tolist() == tokens,
        "hf_cached_vs_full_logits_rel": rel(cached_rows, rows),
        "hf_cached_vs_full_tokens_equal": rows.argmax(-1).tolist() == tokens,
        "hf_generate_tokens": gen_tokens,
        "hf_generate_error": gen_err,
        "hf_generate_agrees": gen_tokens is not None and gen_tokens == tokens[:len(gen_tokens)],
        "window_effect": win,
        "attn_implementation": getattr(model.config, "_attn_implementation", None),
    }
    text, text_bytes = synth_tekken.decode(synth_tekken.make_tekken(fx["shapes"]["dec"]["vocab_size"]), tokens)
    meta = {
        "n_samples": len(raw), "n_samples_padded": len(padded), "n_mel_frames": mel.shape[0],
        "n_audio": ae.shape[0], "prompt_len": L, "delay_tokens": d, "n_steps": len(tokens),
        "eos": tokens[-1] == EOS, "top2_margin_min": float(m.min()),
        "low_margin_steps": [i for i, v in enumerate(m.tolist()) if v < 1e-2],
        "text": text, "text_utf8_valid": text_bytes.decode("utf-8", errors="ignore").encode() == text_bytes,
    }

    fdir = os.path.join(out_dir, fx["name"])
    gdir = os.path.join(fdir, "golden")
    os.makedirs(gdir, exist_ok=True)
    from safetensors.torch import save_file
    save_file({k: v.to(torch.bfloat16).contiguous() for k, v in sd.items()},
              os.path.join(fdir, "consolidated.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(fdir, "params.json"), "w") as f:
        json.dump(params, f, indent=2)
    with open(os.path.join(fdir, "tekken.json"), "w") as f:
        json.dump(synth_tekken.make_tekken(params["vocab_size"]), f, ensure_ascii=False)
    shutil.copyfile(os.path.join(samples_dir, fx["audio"]), os.path.join(fdir, fx["audio"]))
    with open(os.path.join(fdir, "fixture.json"), "w") as f:
        json.dump({"name": fx["name"], "audio": fx["audio"], "delay_ms": fx["delay_ms"],
                   "description": fx["description"], "generator": "checks/reference/make_fixtures.py",
                   "seed": seed, "recipe": recipe, "transformers": transformers.__version__, "torch": torch.__version__,
                   "checks": checks}, f, indent=2, ensure_ascii=False)
    write_npy(os.path.join(gdir, "mel.npy"), mel.numpy())
    write_npy(os.path.join(gdir, "audio_embeds.npy"), ae.numpy())
    write_npy(os.path.join(gdir, "logits.npy"), rows.numpy())
    with open(os.path.join(gdir, "tokens.json"), "w") as f:
        json.dump({"tokens": tokens}, f)
    with open(os.path.join(gdir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2, ensure_ascii=False)

    print(f"  seed {seed}: {len(tokens)} tokens ({len(set(tokens))} distinct), eos={meta['eos']}, "
          f"min margin {meta['top2_margin_min']:.4f}, low-margin steps {meta['low_margin_steps']}")
    print(f"  tokens {tokens}")
    print(f"  text {text!r}")
    print(f"  checks {json.dumps(checks)}")
    lim = reference_limits()
    bad = (checks["model_md_mel_max_abs"] > lim["melMaxAbs"] or checks["model_md_audio_embeds_rel"] > lim["normRelErr"]
           or checks["model_md_logits_rel"] > lim["normRelErr"] or not checks["model_md_tokens_equal"]
           or checks["hf_cached_vs_full_logits_rel"] > lim["normRelErr"]
           or not checks["hf_cached_vs_full_tokens_equal"])
    return not bad


def reference_limits():
    """The generator's cross-check limits (checks/tolerances.json, "reference"); *_rel values are normRelErr."""
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tolerances.json")
    with open(path) as f:
        return json.load(f)["reference"]["limits"]


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", default=os.path.join(os.path.dirname(os.path.dirname(root)), "shared", "samples"),
                    help="folder holding the WAVs (default: ../shared/samples beside the repository)")
    ap.add_argument("--out", default=os.path.join(root, "fixtures"), help="fixtures folder (default checks/fixtures)")
    ap.add_argument("--only", nargs="*", help="fixture names to build (default: all)")
    ap.add_argument("--seeds", type=int, default=12, help="seeds tried per fixture (default 12)")
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    names = [f["name"] for f in FIXTURES]
    unknown = set(args.only or []) - set(names)
    if unknown:
        raise SystemExit(f"unknown fixture(s) {sorted(unknown)}; known: {names}")
    print(f"transformers {transformers.__version__}, torch {torch.__version__}")
    ok = [make_fixture(fx, args.samples, args.out, args.seeds)
          for fx in FIXTURES if not args.only or fx["name"] in args.only]
    if not all(ok):
        raise SystemExit("some fixture failed its checks (non-trivial tokens, MODEL.md agreement, HF cache): see above")
    print("all fixtures agree with MODEL.md")


if __name__ == "__main__":
    main()
