// The `vox` command line: declares the commands only; each lives in src/commands/<name>/.
// To add a command: create src/commands/<name>/index.ts exporting an options builder and a
// `run...(args): Promise<number>` returning the exit code, then add one `.command(...)` below.
import yargs from "yargs";
import { doctorOptions, runDoctor } from "./commands/doctor/index.js";
import { EXIT, formatError, exitCodeOf } from "./lib/errors.js";

/** Runs a command body and exits with its code; typed errors print their one-line message and fix. */
export async function exitWith(prog: string, body: () => Promise<number>): Promise<never> {
  try {
    process.exit(await body());
  } catch (err) {
    console.error(formatError(err, prog));
    process.exit(exitCodeOf(err));
  }
}

export async function main(argv: string[]): Promise<void> {
  await yargs(argv)
    .scriptName("vox")
    .command("doctor", "check that this machine can run the engine; print what to fix", doctorOptions, (a) =>
      exitWith("vox doctor", () => runDoctor(a)),
    )
    .demandCommand(1, "Name a command (see --help).")
    .strict()
    .fail((msg, err) => {
      if (err) throw err;
      console.error(`vox: error: ${msg} Run vox --help.`);
      process.exit(EXIT.usage);
    })
    .help()
    .parseAsync();
}

