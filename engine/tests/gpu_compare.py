#!/usr/bin/env python3
"""gpu_compare.py — the comparisons of engine/tests/gpu.sh (numpy only).

  gpu_compare.py golden FIXTURE_DIR DUMP_DIR LABEL
      engine dump vs the fixture's golden arrays: per-step logits normRelErr within the CUDA limit of
      checks/tolerances.json (up to the first token divergence), tokens identical except where the
      golden top-2 logit margin is below its tokenMargin (such a step is listed; the sequences may
      differ after it, so the comparison stops there).
  gpu_compare.py pair DUMP_A DUMP_B LABEL
      two engine dumps (e.g. CUDA vs CPU): same rules, B taken as the reference.
  gpu_compare.py tokens LABEL REF_JSON OTHER_JSON...
      token lists equal; each file holds engine --json output or two_streams JSON lines.
Prints one line "PASS|FAIL <label>: <details>"; exit status 0 on PASS.
"""
import json
import os
import sys

import numpy as np

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "checks", "tolerances.json")) as _f:
    _CUDA = json.load(_f)["golden"]["cuda"]["limits"]
LOGITS_REL = _CUDA["logits"]["normRelErr"]
MARGIN = _CUDA["tokenMargin"]


def rel(a, b):
    """normRelErr: ||a - b|| / ||b||, b the reference."""
    d = np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / d) if d > 0 else float(np.linalg.norm(a))


def tokens_of(path):
    """Token lists in a file: one JSON object per line (tokens.json, --json output, two_streams)."""
    with open(path) as f:
        return [json.loads(line)["tokens"] for line in f if line.strip().startswith("{")]


def compare_dumps(label, got_dir, ref_logits, ref_tokens):
    got = np.load(f"{got_dir}/logits.npy").astype(np.float64)
    got_tokens = tokens_of(f"{got_dir}/tokens.json")[0]
    ref = ref_logits.astype(np.float64)
    top2 = np.sort(ref, axis=1)[:, -2:]
    margin = top2[:, 1] - top2[:, 0]
    low = [int(i) for i in np.nonzero(margin < MARGIN)[0]]
    n = min(len(got_tokens), len(ref_tokens))
    first_diff = next((i for i in range(n) if got_tokens[i] != ref_tokens[i]), None)
    problems = []
    if first_diff is None and len(got_tokens) != len(ref_tokens):
        first_diff = n
    if first_diff is not None and first_diff not in low:
        problems.append(f"tokens differ at step {first_diff} (golden margin "
                        f"{margin[first_diff] if first_diff < len(margin) else float('nan'):.3g})")
    upto = (first_diff + 1) if first_diff is not None else min(len(got), len(ref))
    upto = min(upto, len(got), len(ref))
    if got.shape[1:] != ref.shape[1:]:
        problems.append(f"logits shape {got.shape} vs {ref.shape}")
        worst = float("nan")
    else:
        per = [rel(got[i], ref[i]) for i in range(upto)]
        worst = max(per) if per else 0.0
        if not worst <= LOGITS_REL:
            problems.append(f"logits normRelErr {worst:.3g} > {LOGITS_REL} at step {int(np.argmax(per))}")
    note = f"{len(got_tokens)} tokens, logits max per-step normRelErr {worst:.2e} over {upto} steps"
    if first_diff is not None:
        note += f", diverges at step {first_diff}"
    if low:
        note += f", low-margin steps (< {MARGIN}) {low[:20]}"
    status = "FAIL" if problems else "PASS"
    print(f"{status} {label}: {note}" + ("; " + "; ".join(problems) if problems else ""))
    return not problems


def main(argv):
    mode = argv[1]
    if mode == "golden":
        fx, dump, label = argv[2], argv[3], argv[4]
        ref_logits = np.load(f"{fx}/golden/logits.npy")
        ref_tokens = tokens_of(f"{fx}/golden/tokens.json")[0]
        ok = compare_dumps(label, dump, ref_logits, ref_tokens)
        ae, ae_ref = np.load(f"{dump}/audio_embeds.npy"), np.load(f"{fx}/golden/audio_embeds.npy")
        if ae.shape == ae_ref.shape:
            print(f"     {label}: audio_embeds normRelErr {rel(ae.astype(np.float64), ae_ref.astype(np.float64)):.2e}")
        else:
            print(f"FAIL {label}: audio_embeds shape {ae.shape} vs golden {ae_ref.shape}")
            ok = False
        return 0 if ok else 1
    if mode == "pair":
        a, b, label = argv[2], argv[3], argv[4]
        ok = compare_dumps(label, a, np.load(f"{b}/logits.npy"), tokens_of(f"{b}/tokens.json")[0])
        return 0 if ok else 1
    if mode == "tokens":
        label, ref_path, others = argv[2], argv[3], argv[4:]
        ref = tokens_of(ref_path)[0]
        lists = [t for p in others for t in tokens_of(p)]
        bad = [i for i, t in enumerate(lists) if t != ref]
        if not lists:
            bad = ["none"]
        status = "FAIL" if bad else "PASS"
        print(f"{status} {label}: {len(lists)} run(s) vs reference of {len(ref)} tokens"
              + (f"; differing runs {bad}" if bad else ", all identical"))
        return 0 if not bad else 1
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
