// Typed errors of the toolkit and the one table mapping them to process exit codes.
// Every error carries `fix`: what the user should do next (a command, a variable, a README section).
// One code per kind of mistake, the same in every command (README "Toolkit exit codes" lists them):
// a missing input file or model folder is 66 everywhere, an unwritable report folder 73 everywhere.

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
  /** An output file or folder cannot be created or written (EX_CANTCREAT). */
  cannotWrite: 73,
  /** Interrupted by Ctrl-C (SIGINT) / SIGTERM: 128 + the signal number, as shells report it. */
  interrupted: 130,
  terminated: 143,
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

/** An output (report folder, report file, matrix, fact set) cannot be written. */
export class OutputError extends VoxError {
  constructor(message: string, fix: string) {
    super(message, fix, EXIT.cannotWrite);
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

const READ_CALLS = new Set(["open", "read", "stat", "lstat", "scandir", "opendir", "access", "readlink"]);

/** A file-system error from Node (errno, syscall, path) that escaped the command's own checks, as
 *  the user's problem: reading a path that is missing or unreadable (66), or writing where one cannot (73).
 *  null for anything else (a bug). Opening for writing shows as "open" too: EROFS/ENOSPC/EISDIR mark it. */
export function fsErrorAsVox(err: unknown): VoxError | null {
  if (!(err instanceof Error)) return null;
  const e = err as NodeJS.ErrnoException & { dest?: string };
  if (typeof e.code !== "string" || typeof e.syscall !== "string" || typeof e.path !== "string") return null;
  const writing = !READ_CALLS.has(e.syscall) || ["EROFS", "ENOSPC", "EDQUOT", "EISDIR", "ETXTBSY"].includes(e.code);
  const what = `${e.syscall} ${e.path}${e.dest ? ` -> ${e.dest}` : ""} failed: ${e.code}`;
  if (writing)
    return new OutputError(
      `cannot write: ${what}`,
      "Check that the folder exists, is writable and has free space, or pass another path.",
    );
  return new InputError(`cannot read: ${what}`, "Check the path and its permissions.", true);
}

/** Exit code for anything thrown: typed errors carry theirs, anything else is internal. */
function exitCodeOf(err: unknown): ExitCode {
  if (err instanceof VoxError) return err.exitCode;
  return fsErrorAsVox(err)?.exitCode ?? EXIT.internal;
}

/** One line for stderr: `vox: error: <message>. <fix>` (same shape as the engine's). */
function formatError(err: unknown, prog = "vox"): string {
  const fsErr = err instanceof VoxError ? null : fsErrorAsVox(err);
  if (fsErr) return formatError(fsErr, prog);
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
    console.error(
      `${prog}: error: ${String(msg ?? "bad command line")
        .replace(/\s*\n\s*/g, " ")
        .replace(/\.$/, "")}. Run ${prog} --help.`,
    );
    process.exit(EXIT.usage);
  };
}
