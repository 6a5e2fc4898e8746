// Views of a validated accuracy report: the terminal table, CSV rows and the Markdown diff report.
import Table from "cli-table3";
import { basename } from "node:path";
import type { CaseRecord } from "./compare.js";
import type { AccuracyReport } from "./run.js";

const pct = (x: number | null | undefined) => (x === null || x === undefined ? "-" : `${(x * 100).toFixed(2)} %`);
const num = (x: number | null | undefined) => (x === null || x === undefined ? "-" : x.toExponential(2));
const mark = { pass: "✔ pass", fail: "✖ fail", error: "✖ error" } as const;

export function accuracyRows(r: AccuracyReport): Array<Record<string, string | number | boolean | null>> {
  return r.cases.map((c) => ({
    audio: c.audio,
    baseline: r.baseline.kind,
    candidate: c.candidate?.backend ?? r.candidate.backend,
    tier: r.tier,
    status: c.status,
    token_diff: c.tokens?.fraction ?? null,
    first_difference: c.tokens?.firstDifference ?? null,
    wer: c.wer?.rate ?? null,
    cer: c.cer?.rate ?? null,
    top1: c.logits?.top1Agreement ?? null,
    max_kl: c.logits?.maxKl ?? null,
    maxRelErr: c.logits?.maxRelErr ?? null,
    error: c.error,
  }));
}

export function accuracyTable(r: AccuracyReport): string {
  const t = new Table({
    head: ["audio", "tokens differ", "WER", "CER", "top-1", "max KL", "maxRelErr", "result"],
    style: { head: [], border: [] },
  });
  for (const c of r.cases) {
    t.push([
      basename(c.audio),
      c.tokens ? `${c.tokens.differing}/${c.tokens.baselineLength} (${pct(c.tokens.fraction)})` : "-",
      pct(c.wer?.rate),
      pct(c.cer?.rate),
      pct(c.logits?.top1Agreement),
      num(c.logits?.maxKl),
      num(c.logits?.maxRelErr),
      mark[c.status],
    ]);
  }
  return t.toString();
}

/** What went wrong in a failing or erroring case, as plain lines (the failing verdicts, diff, alignment). */
export function caseDetails(c: CaseRecord): string[] {
  if (c.status === "error") return [`${basename(c.audio)}: ${c.error}`];
  if (c.status === "pass") return [];
  const lines = [`${basename(c.audio)}:`];
  for (const v of c.verdicts.filter((x) => x.status === "fail"))
    lines.push(`  ${v.metric} = ${v.value} (limit ${v.op} ${v.limit})`);
  if (c.tokens?.diff.length)
    lines.push("  token diff ([-baseline-] {+candidate+}):", ...c.tokens.diff.slice(0, 10).map((d) => `    ${d}`));
  if (c.wer?.alignment) lines.push("  word alignment:", ...c.wer.alignment.split("\n").map((l) => `    ${l}`));
  return lines;
}

export function accuracyMarkdown(r: AccuracyReport): string {
  const out = [
    `# vox accuracy: ${r.status.toUpperCase()}`,
    "",
    `- model: \`${r.model}\``,
    `- baseline: ${r.baseline.kind} (\`${r.baseline.source}\`), candidate: ${r.candidate.backend}`,
    `- tier: **${r.tier}**: ${r.tierMeaning}`,
    `- engine: ${r.environment.engine.commit ?? "unknown"}, toolkit: ${r.environment.toolkit.commit ?? "unknown"}, GPU: ${r.environment.gpus.map((g) => g.name).join(", ") || "none"}`,
    "",
    "| audio | tokens differ | WER | CER | top-1 | max KL | maxRelErr | result |",
    "|---|---|---|---|---|---|---|---|",
    ...r.cases.map(
      (c) =>
        `| ${basename(c.audio)} | ${c.tokens ? `${c.tokens.differing}/${c.tokens.baselineLength}` : "-"} | ${pct(c.wer?.rate)} | ${pct(c.cer?.rate)} | ${pct(c.logits?.top1Agreement)} | ${num(c.logits?.maxKl)} | ${num(c.logits?.maxRelErr)} | ${c.status} |`,
    ),
    "",
  ];
  for (const c of r.cases) {
    out.push(`## ${basename(c.audio)}: ${c.status}`, "");
    if (c.error) out.push(`Error: ${c.error}`, "");
    if (c.verdicts.length) {
      out.push("| metric | value | limit | result |", "|---|---|---|---|");
      for (const v of c.verdicts) out.push(`| ${v.metric} | ${v.value ?? "-"} | ${v.op} ${v.limit} | ${v.status} |`);
      out.push("");
    }
    if (c.tokens?.diff.length)
      out.push("Token diff (`[-baseline-] {+candidate+}`):", "", "```", ...c.tokens.diff, "```", "");
    if (c.wer?.alignment) out.push("Word alignment:", "", "```", c.wer.alignment, "```", "");
    if (c.baseline && c.candidate && c.baseline.text !== c.candidate.text) {
      out.push("```diff", `- ${c.baseline.text}`, `+ ${c.candidate.text}`, "```", "");
    }
  }
  return `${out.join("\n")}\n`;
}
