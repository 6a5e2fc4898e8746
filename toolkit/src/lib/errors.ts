// Typed errors of the toolkit and the one table mapping them to process exit codes.
// Every error carries `fix`: what the user should do next (a command, a variable, a README section).

/** Toolkit exit codes (the engine's own codes are described in engine.ts). */
export const EXIT = {
  ok: 0,
  /** Warnings under --strict, or a regression/tolerance check that only warns. */
  warnings: 1,
  /** A check failed (doctor fail, gate over tolerance). */
  failed: 2,
  /** Bad command line (BSD sysexits EX_USAGE). */
  usage: 64,
  /** An input file exists but its content is invalid (EX_DATAERR). */
  badInput: 65,
  /** An input file is missing or unreadable (EX_NOINPUT). */
  missingInput: 66,
  /** The engine is missing or could not be started (EX_UNAVAILABLE). */
  engineUnavailable: 69,
  /** A bug in vox itself, e.g. a report that violates its own schema (EX_SOFTWARE). */
  internal: 70,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class VoxError extends Error {
  readonly exitCode: ExitCode;
  readonly fix: string;
  constructor(message: string, fix: string, exitCode: ExitCode) {
    super(message);
    this.name = new.target.name;
    this.fix = fix;
    this.exitCode = exitCode;
  }
}

export class UsageError extends VoxError {
  constructor(message: string, fix = "Run the command with --help to see its options.") {
    super(message, fix, EXIT.usage);
  }
}

export class InputError extends VoxError {
  constructor(message: string, fix: string, missing = false) {
    super(message, fix, missing ? EXIT.missingInput : EXIT.badInput);
  }
}

export class EngineUnavailableError extends VoxError {
  constructor(message: string, fix = "Build the engine: make -C engine (or npx vox build).") {
    super(message, fix, EXIT.engineUnavailable);
  }
}

/** A report failed validation against its own schema: always a vox bug. */
export class SchemaError extends VoxError {
  readonly errors: string[];
  constructor(schema: string, errors: string[]) {
    super(
      `report does not match ${schema}: ${errors.slice(0, 5).join("; ")}`,
      "This is a bug in vox; please file it with the command line you ran.",
      EXIT.internal,
    );
    this.errors = errors;
  }
}

/** Exit code for anything thrown: typed errors carry theirs, anything else is internal. */
function exitCodeOf(err: unknown): ExitCode {
  return err instanceof VoxError ? err.exitCode : EXIT.internal;
}

/** One line for stderr: `vox: error: <message>. <fix>` (same shape as the engine's). */
function formatError(err: unknown, prog = "vox"): string {
  if (err instanceof VoxError) return `${prog}: error: ${err.message.replace(/\.$/, "")}. ${err.fix}`;
  const msg = err instanceof Error ? (err.stack ?? err.message) : String(err);
  return `${prog}: internal error: ${msg}`;
}

/** Runs a command body and exits with its code; typed errors print their one-line message and fix.
 *  Every bin and every `vox <command>` handler ends through this. */
export async function exitWith(prog: string, body: () => Promise<number>): Promise<never> {
  try {
    process.exit(await body());
  } catch (err) {
    console.error(formatError(err, prog));
    process.exit(exitCodeOf(err));
  }
}

/** The yargs `.fail()` handler of every bin: a bad command line is one line
 *  `<prog>: error: <yargs message, newlines folded>. Run <prog> --help.` and exit 64. */
export function usageFailure(prog: string): (msg: string | null | undefined, err: Error | undefined) => never {
  return (msg, err) => {
    if (err) throw err;
    console.error(`${prog}: error: ${String(msg ?? "bad command line").replace(/\s*\n\s*/g, " ").replace(/\.$/, "")}. Run ${prog} --help.`);
    process.exit(EXIT.usage);
  };
}
