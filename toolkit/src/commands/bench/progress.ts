// Progress on stderr while the bench runs: one rewritten line on a terminal, plain lines otherwise
// (logs, CI; status lines throttled). Silent in --json mode (the caller passes enabled = false).

export class Progress {
  private readonly tty: boolean;
  private lastLen = 0;
  private lastPlain = 0;
  constructor(
    private readonly enabled: boolean,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  /** A transient status (overwritten by the next one on a terminal). */
  status(line: string): void {
    if (!this.enabled) return;
    if (this.tty) {
      const pad = " ".repeat(Math.max(0, this.lastLen - line.length));
      this.stream.write(`\r${line}${pad}`);
      this.lastLen = line.length;
    } else if (Date.now() - this.lastPlain >= 10_000) {
      // Logs get a status line at most every 10 s (a long write or run still shows it is alive).
      this.lastPlain = Date.now();
      this.stream.write(`${line}\n`);
    }
  }

  /** A line that stays. */
  log(line: string): void {
    if (!this.enabled) return;
    if (this.tty && this.lastLen > 0) this.stream.write(`\r${" ".repeat(this.lastLen)}\r`);
    this.lastLen = 0;
    this.stream.write(`${line}\n`);
  }

  /** A bar for a byte count: "[#####.....] 52% 4.6/8.9 GB". */
  static bar(done: number, total: number | null, width = 24): string {
    if (!total) return `${(done / 1e9).toFixed(2)} GB`;
    const f = Math.min(1, done / total);
    const filled = Math.round(f * width);
    return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${(100 * f).toFixed(0).padStart(3)}% ${(done / 1e9).toFixed(2)}/${(total / 1e9).toFixed(2)} GB`;
  }
}
