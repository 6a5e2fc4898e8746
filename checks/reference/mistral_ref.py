"""MODEL.md written out in plain torch (float64), run on the Mistral-layout checkpoint.

This is the second opinion the generator uses: the golden arrays come from the Hugging Face port, and
this file recomputes them from the *converted* weights (Mistral names, interleaved RoPE) by following
/work/shared/docs/MODEL.md line by line. Agreement proves three things at once: the name map and the
RoPE permutation are right, MODEL.md describes what the HF port computes, and the fixture is
self-consistent. Nothing here imports transformers.

Shapes: mel [T, 128]; encoder x [S_enc, enc_dim]; audio_embeds [n_audio, dim]; logits [S, vocab].
"""
import math

import torch
import torch.nn.functional as F

E = "mm_streams_embeddings.embedding_module."
W = E + "whisper_encoder."


def _hz_to_mel_slaney(f):
    """Slaney mel scale: linear (3 per 200 Hz) below 1 kHz, logarithmic above."""
    f = torch.as_tensor(f, dtype=torch.float64)
    lin = 3.0 * f / 200.0
    log = 15.0 + torch.log(torch.clamp(f, min=1e-10) / 1000.0) / (math.log(6.4) / 27.0)
    return torch.where(f >= 1000.0, log, lin)


def _mel_to_hz_slaney(m):
    lin = 200.0 * m / 3.0
    log = 1000.0 * torch.exp((math.log(6.4) / 27.0) * (m - 15.0))
    return torch.where(m >= 15.0, log, lin)


def mel_filters(n_mels=128, n_fft=400, sr=16000, fmax=8000.0):
    """[n_fft/2+1, n_mels] triangular Slaney filters with Slaney (area) normalisation."""
    fft_freqs = torch.linspace(0, sr / 2, n_fft // 2 + 1, dtype=torch.float64)
    mels = torch.linspace(float(_hz_to_mel_slaney(0.0)), float(_hz_to_mel_slaney(fmax)), n_mels + 2,
                          dtype=torch.float64)
    edges = _mel_to_hz_slaney(mels)                       # [n_mels + 2]
    diff = edges[1:] - edges[:-1]
    slopes = edges[None, :] - fft_freqs[:, None]          # [bins, n_mels + 2]
    down = -slopes[:, :-2] / diff[:-1]
    up = slopes[:, 2:] / diff[1:]
    fb = torch.clamp(torch.minimum(down, up), min=0.0)
    return fb * (2.0 / (edges[2:] - edges[:-2]))[None, :]


def log_mel(samples, global_max=1.5):
    """MODEL.md 'Log-mel': samples [N] float -> [N/160, 128]."""
    x = torch.as_tensor(samples, dtype=torch.float64)
    win = torch.hann_window(400, periodic=True, dtype=torch.float64)
    spec = torch.stft(x, 400, 160, window=win, center=True, pad_mode="reflect", return_complex=True)
    power = spec[:, :-1].abs() ** 2                       # [201, T]
    mel = mel_filters().T @ power                         # [128, T]
    lg = torch.log10(torch.clamp(mel, min=1e-10))
    lg = torch.maximum(lg, torch.tensor(global_max - 8.0, dtype=torch.float64))
    return ((lg + 4.0) / 4.0).T


def rms_norm(x, w, eps):
    return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps) * w


def rope_interleaved(x, pos, theta):
    """x [S, H, hd]; pairs (2j, 2j+1) rotate by pos * theta^(-2j/hd)."""
    hd = x.shape[-1]
    j = torch.arange(hd // 2, dtype=torch.float64)
    ang = pos[:, None].double() * theta ** (-2.0 * j / hd)      # [S, hd/2]
    c, s = torch.cos(ang)[:, None, :], torch.sin(ang)[:, None, :]
    a, b = x[..., 0::2], x[..., 1::2]
    out = torch.empty_like(x)
    out[..., 0::2] = a * c - b * s
    out[..., 1::2] = a * s + b * c
    return out


def attention(q, k, v, window):
    """q [S, H, hd], k/v [S, Hkv, hd]; causal sliding window: query i sees i-W < j <= i."""
    S, H, hd = q.shape
    rep = H // k.shape[1]
    k = k.repeat_interleave(rep, dim=1)
    v = v.repeat_interleave(rep, dim=1)
    i = torch.arange(S)[:, None]
    j = torch.arange(S)[None, :]
    allowed = (j <= i) & (j > i - window)
    scores = torch.einsum("ihd,jhd->hij", q, k) / math.sqrt(hd)
    scores = scores.masked_fill(~allowed[None], float("-inf"))
    return torch.einsum("hij,jhd->ihd", torch.softmax(scores, dim=-1), v).reshape(S, H * hd)


def _lin(x, sd, name, bias=False):
    y = x @ sd[name + ".weight"].T
    return y + sd[name + ".bias"] if bias else y


def encoder_adapter(sd, p, mel):
    """mel [T, 128] -> audio_embeds [n_audio, dim] (conv stem, causal encoder, group 4, adapter)."""
    ea = p["multimodal"]["whisper_model_args"]["encoder_args"]
    ds = p["multimodal"]["whisper_model_args"]["downsample_args"]["downsample_factor"]
    x = torch.as_tensor(mel, dtype=torch.float64).T[None]                      # [1, 128, T]
    for i, stride in ((0, 1), (1, 2)):
        w = sd[f"{W}conv_layers.{i}.conv.weight"]
        x = F.pad(x, (w.shape[-1] - stride, 0))
        x = F.gelu(F.conv1d(x, w, sd[f"{W}conv_layers.{i}.conv.bias"], stride=stride))
    x = x[0].T                                                                 # [S_enc, enc_dim]
    x = x[x.shape[0] % ds:]                                                    # drop from the left
    S, hd, H = x.shape[0], ea["head_dim"], ea["n_heads"]
    pos = torch.arange(S)
    for li in range(ea["n_layers"]):
        pre = f"{W}transformer.layers.{li}."
        n = rms_norm(x, sd[pre + "attention_norm.weight"], ea["norm_eps"])
        q = rope_interleaved(_lin(n, sd, pre + "attention.wq", True).view(S, H, hd), pos, ea["rope_theta"])
        k = rope_interleaved(_lin(n, sd, pre + "attention.wk").view(S, H, hd), pos, ea["rope_theta"])
        v = _lin(n, sd, pre + "attention.wv", True).view(S, H, hd)
        x = x + _lin(attention(q, k, v, ea["sliding_window"]), sd, pre + "attention.wo", True)
        m = rms_norm(x, sd[pre + "ffn_norm.weight"], ea["norm_eps"])
        g = F.silu(_lin(m, sd, pre + "feed_forward.w1")) * _lin(m, sd, pre + "feed_forward.w3")
        x = x + _lin(g, sd, pre + "feed_forward.w2", True)
    x = rms_norm(x, sd[W + "transformer.norm.weight"], ea["norm_eps"])
    x = x.reshape(S // ds, ds * x.shape[1])
    h = F.gelu(_lin(x, sd, E + "audio_language_projection.0"))
    return _lin(h, sd, E + "audio_language_projection.2")


def t_cond(dim, delay_tokens):
    half = dim // 2
    f = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float64) / half)
    return torch.cat([torch.cos(delay_tokens * f), torch.sin(delay_tokens * f)])


def decoder_logits(sd, p, audio_embeds, tokens, delay_tokens):
    """Full causal pass over positions 0..len(tokens)-1; input p = audio_embeds[p] + emb(tokens[p])."""
    emb = sd[E + "tok_embeddings.weight"]
    S, hd, H, Hkv = len(tokens), p["head_dim"], p["n_heads"], p["n_kv_heads"]
    h = audio_embeds[:S] + emb[torch.as_tensor(tokens)]
    pos = torch.arange(S)
    tc = t_cond(p["dim"], delay_tokens)
    for li in range(p["n_layers"]):
        pre = f"layers.{li}."
        n = rms_norm(h, sd[pre + "attention_norm.weight"], p["norm_eps"])
        q = rope_interleaved(_lin(n, sd, pre + "attention.wq").view(S, H, hd), pos, p["rope_theta"])
        k = rope_interleaved(_lin(n, sd, pre + "attention.wk").view(S, Hkv, hd), pos, p["rope_theta"])
        v = _lin(n, sd, pre + "attention.wv").view(S, Hkv, hd)
        h = h + _lin(attention(q, k, v, p["sliding_window"]), sd, pre + "attention.wo")
        ada = sd[pre + "ada_rms_norm_t_cond.2.weight"] @ F.gelu(sd[pre + "ada_rms_norm_t_cond.0.weight"] @ tc)
        n = rms_norm(h, sd[pre + "ffn_norm.weight"], p["norm_eps"]) * (1.0 + ada)
        g = F.silu(_lin(n, sd, pre + "feed_forward.w1")) * _lin(n, sd, pre + "feed_forward.w3")
        h = h + _lin(g, sd, pre + "feed_forward.w2")
    return rms_norm(h, sd["norm.weight"], p["norm_eps"]) @ emb.T
