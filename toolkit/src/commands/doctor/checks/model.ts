// model: the three files, the safetensors header by the format's rules, every tensor params.json
// implies present with its shape, and tekken.json usable.
import { expectedTensors, parseParams, type ModelParams } from "../../../lib/model.js";
import { validateSafetensors } from "../../../lib/safetensors.js";
import type { ModelFacts } from "../facts.js";
import { combine, fail, warn, type Check, type Verdict } from "./types.js";

const DOWNLOAD = (dir: string) =>
  `Download the model: hf download mistralai/Voxtral-Mini-4B-Realtime-2602 params.json consolidated.safetensors tekken.json --local-dir ${dir} (or pass --model DIR). README: The real model.`;

const REQUIRED_SPECIALS: Array<[string, number]> = [
  ["<s>", 1],
  ["</s>", 2],
  ["[STREAMING_PAD]", 32],
];

function size(n: number): string {
  return n >= 1e9
    ? `${(n / 1e9).toFixed(2)} GB`
    : n >= 1e6
      ? `${(n / 1e6).toFixed(1)} MB`
      : `${(n / 1e3).toFixed(1)} KB`;
}

function list(names: string[], max = 3): string {
  return names.slice(0, max).join(", ") + (names.length > max ? ` and ${names.length - max} more` : "");
}

function tensorFindings(m: ModelFacts, params: ModelParams | null, findings: Verdict[], notes: string[]): void {
  if (!m.safetensors) return;
  const v = validateSafetensors(m.safetensors);
  const redo = `The file is damaged or incomplete: download it again. ${DOWNLOAD(m.dir)}`;
  if (!v.ok) {
    findings.push(fail(`consolidated.safetensors is invalid: ${list(v.errors)}`, redo));
    return;
  }
  notes.push(`consolidated.safetensors: ${v.tensors.size} tensors, header valid, ${size(v.dataBytes)} of data`);
  if (!params) return;
  const want = expectedTensors(params);
  const missing = [...want.keys()].filter((n) => !v.tensors.has(n));
  const wrong = [...want.entries()]
    .filter(([n, s]) => v.tensors.has(n) && v.tensors.get(n)!.shape.join("x") !== s.join("x"))
    .map(([n, s]) => `${n} is [${v.tensors.get(n)!.shape}], params.json implies [${s}]`);
  const notBf16 = [...want.keys()].filter((n) => v.tensors.has(n) && v.tensors.get(n)!.dtype !== "BF16");
  const extra = [...v.tensors.keys()].filter((n) => !want.has(n));
  if (missing.length)
    findings.push(
      fail(`${missing.length} of the ${want.size} tensors params.json implies are missing: ${list(missing)}`, redo),
    );
  if (wrong.length)
    findings.push(
      fail(
        `${wrong.length} tensors have the wrong shape: ${list(wrong, 2)}`,
        "params.json and consolidated.safetensors come from different models: download both again.",
      ),
    );
  if (notBf16.length)
    findings.push(
      fail(
        `${notBf16.length} tensors are not BF16 (e.g. ${notBf16[0]}: ${v.tensors.get(notBf16[0]!)!.dtype}); the engine reads BF16 weights`,
        redo,
      ),
    );
  if (extra.length)
    findings.push(
      warn(
        `${extra.length} tensors the engine does not use: ${list(extra)}`,
        "Check that this is the Voxtral Realtime checkpoint (mistralai/Voxtral-Mini-4B-Realtime-2602).",
      ),
    );
}

function tekkenFindings(m: ModelFacts, findings: Verdict[], notes: string[]): void {
  const t = m.tekken;
  if (!t) return;
  const redo = `tekken.json is damaged: download it again. ${DOWNLOAD(m.dir)}`;
  if (t.parseError) {
    findings.push(fail(`tekken.json: ${t.parseError}`, redo));
    return;
  }
  if (!t.vocabSize) findings.push(fail("tekken.json has no vocab", redo));
  if (t.defaultNumSpecialTokens === null)
    findings.push(fail("tekken.json has no config.default_num_special_tokens", redo));
  const absent = REQUIRED_SPECIALS.filter(
    ([s, r]) => !t.specialTokens.some((x) => x.token_str === s && x.rank === r),
  ).map(([s, r]) => `${s}=${r}`);
  if (absent.length) findings.push(fail(`tekken.json lacks special tokens ${absent.join(", ")}`, redo));
  notes.push(
    `tekken.json: vocab ${t.vocabSize ?? "?"}, ${t.specialTokens.length} special tokens (${t.defaultNumSpecialTokens ?? "?"} reserved)`,
  );
}

export const modelCheck: Check = {
  id: "model",
  title: "Model files",
  needs: "any",
  run(f) {
    const m = f.model;
    if (!m.exists) return fail(`model folder ${m.dir} not found`, DOWNLOAD(m.dir));
    if (m.isFile)
      return fail(
        `${m.dir} is a file, not a model folder`,
        `Pass --model DIR: the folder holding the three model files. ${DOWNLOAD("voxtral-model")}`,
      );
    const findings: Verdict[] = [];
    const notes: string[] = [];
    const absent = Object.entries(m.files)
      .filter(([, s]) => s === null)
      .map(([n]) => n);
    if (absent.length) findings.push(fail(`${m.dir} lacks ${absent.join(", ")}`, DOWNLOAD(m.dir)));
    notes.push(
      Object.entries(m.files)
        .filter(([, s]) => s !== null)
        .map(([n, s]) => `${n} ${size(s!)}`)
        .join(", "),
    );
    let params: ModelParams | null = null;
    if (m.paramsText !== null) {
      try {
        params = parseParams(m.paramsText);
      } catch (e) {
        findings.push(fail((e as Error).message, `params.json is damaged: download it again. ${DOWNLOAD(m.dir)}`));
      }
    }
    tensorFindings(m, params, findings, notes);
    tekkenFindings(m, findings, notes);
    return combine(findings, [notes[0] ? `${m.dir}: ${notes[0]}` : m.dir, ...notes.slice(1)].join("\n"));
  },
};
