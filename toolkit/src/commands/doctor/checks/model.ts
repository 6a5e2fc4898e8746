// model: the three files, the safetensors header by the format's rules, every tensor params.json
// implies present with its shape (the engine's own list, `voxtral --tensors`), and tekken.json usable.
import { engineErrorLine } from "../../../lib/engine.js";
import { parseParams, type ModelParams } from "../../../lib/model.js";
import { validateSafetensors } from "../../../lib/safetensors.js";
import { parseTensorTable, type TensorTable } from "../../../lib/tensors.js";
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

const NOT_CHECKED = "tensor names and shapes not checked";

/** The engine's list of the tensors params.json implies, or null after adding why it is missing. */
function engineTable(m: ModelFacts, findings: Verdict[], notes: string[]): TensorTable | null {
  const r = m.tensors;
  if (r === undefined) {
    notes.push(`${NOT_CHECKED}: this fact set was saved before vox-doctor asked the engine for its tensor list`);
    return null;
  }
  if (r === null) {
    findings.push(
      warn(
        `${NOT_CHECKED}: the list of tensors params.json implies comes from the engine, which is not built`,
        "Run npx vox build (or make -C engine), then vox-doctor again.",
      ),
    );
    return null;
  }
  if (r.exitCode === 3) {
    findings.push(
      fail(
        `the engine cannot read params.json: ${engineErrorLine(r.stderr) ?? r.error}`,
        `params.json is damaged: download it again. ${DOWNLOAD(m.dir)}`,
      ),
    );
    return null;
  }
  try {
    if (r.exitCode !== 0) throw new Error(r.error ?? engineErrorLine(r.stderr) ?? `exit ${r.exitCode}`);
    return parseTensorTable(r.stdout);
  } catch (e) {
    findings.push(
      warn(
        `${NOT_CHECKED}: ${r.cmd} failed (${(e as Error).message})`,
        "Rebuild the engine: npx vox build (an engine older than this toolkit has no --tensors).",
      ),
    );
    return null;
  }
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
  const want = engineTable(m, findings, notes);
  if (!want) return;
  const missing = [...want.keys()].filter((n) => !v.tensors.has(n));
  const wrong = [...want.entries()]
    .filter(([n, s]) => v.tensors.has(n) && v.tensors.get(n)!.shape.join("x") !== s.shape.join("x"))
    .map(([n, s]) => `${n} is [${v.tensors.get(n)!.shape}], params.json implies [${s.shape}]`);
  const wrongDtype = [...want.entries()]
    .filter(([n, s]) => v.tensors.has(n) && v.tensors.get(n)!.dtype !== s.dtype)
    .map(([n]) => n);
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
  if (wrongDtype.length) {
    const [n] = wrongDtype as [string];
    const dt = want.get(n)!.dtype;
    findings.push(
      fail(
        `${wrongDtype.length} tensors are not ${dt} (e.g. ${n}: ${v.tensors.get(n)!.dtype}); the engine reads ${dt} weights`,
        redo,
      ),
    );
  }
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
