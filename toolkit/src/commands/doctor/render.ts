// Human renderings of a validated report: a terminal table and Markdown for bug reports.
import Table from "cli-table3";
import type { DoctorReport } from "./report.js";

const SYMBOL: Record<string, string> = { pass: "✓", warn: "!", fail: "✗", skip: "-" };

function summaryLine(r: DoctorReport): string {
  const s = r.summary;
  return `${s.passed} passed, ${s.warnings} warning${s.warnings === 1 ? "" : "s"}, ${s.failed} failed${s.skipped ? `, ${s.skipped} skipped` : ""}`;
}

/** Wraps text to `width` columns at spaces; words longer than a line (paths) are cut. */
export function wrap(text: string, width: number): string {
  const out: string[] = [];
  for (const para of text.split("\n")) {
    let line = "";
    for (let word of para.split(" ")) {
      while (word.length > width) {
        if (line) out.push(line);
        out.push(word.slice(0, width));
        word = word.slice(width);
        line = "";
      }
      if (line && line.length + 1 + word.length > width) {
        out.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    out.push(line);
  }
  return out.join("\n");
}

export function renderTable(r: DoctorReport, width = process.stdout.columns ?? 120): string {
  const w = Math.max(80, Math.min(width, 160));
  const detailW = Math.floor((w - 19) * 0.55);
  const fixW = Math.floor((w - 19) * 0.45);
  const table = new Table({
    head: ["", "check", "finding", "fix"],
    colWidths: [3, 10, detailW, fixW],
    style: { head: [], border: [] },
  });
  for (const c of r.checks)
    table.push([SYMBOL[c.status] ?? "?", c.id, wrap(c.detail, detailW - 2), wrap(c.fix ?? "", fixW - 2)]);
  return `${table.toString()}\n${summaryLine(r)}`;
}

/** Removes what identifies the machine: host name, GPU UUIDs, PCI bus ids, the home folder. */
function redact(text: string, hostname: string, home: string | undefined): string {
  let out = text.replace(/GPU-[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}/g, "GPU-<uuid>");
  if (hostname && hostname.length >= 2) out = out.split(hostname).join("<host>");
  if (home && home.length > 1) out = out.split(home).join("~");
  return out;
}

function cell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\n/g, "<br>");
}

export function renderMarkdown(r: DoctorReport, hostname: string, home = process.env.HOME): string {
  const e = r.environment;
  const lines = [
    "## vox-doctor report",
    "",
    `- vox ${e.toolkit.version}${e.toolkit.commit ? ` (${e.toolkit.commit.slice(0, 12)})` : ""}, engine ${e.engine.commit ?? "not built"}${e.engine.backends.length ? ` [${e.engine.backends.join("+")}${e.engine.cudaArchs.length ? ` ${e.engine.cudaArchs.join(",")}` : ""}]` : ""}`,
    `- ${e.os.distro ?? e.os.platform}, kernel ${e.os.release}, ${e.os.arch}${e.os.wsl ? `, WSL${e.os.wsl}` : ""}, ${e.os.cores} cores, ${e.os.memoryMb} MiB, Node ${e.os.node}`,
    `- GPUs: ${e.gpus.length ? e.gpus.map((g) => `${g.name} (cc ${g.computeCapability ?? "?"}, ${g.totalMb ?? "?"} MiB)`).join("; ") : "none"}; driver ${e.driver.version ?? "-"} (CUDA ${e.driver.cudaVersion ?? "-"}); nvcc ${e.cuda.nvccVersion ?? "-"}`,
    "",
    "| | check | finding | fix |",
    "|---|---|---|---|",
    ...r.checks.map((c) => `| ${SYMBOL[c.status]} ${c.status} | ${c.id} | ${cell(c.detail)} | ${cell(c.fix ?? "")} |`),
    "",
    `**${summaryLine(r)}**`,
    "",
  ];
  return redact(lines.join("\n"), hostname, home);
}
