#!/usr/bin/env node
// vox-bench: placeholder until the benchmark lands (issue 6); says so instead of pretending to run.
import { EXIT } from "../lib/errors.js";

console.error("vox-bench: error: the benchmark is not implemented yet. Track issue 6.");
process.exit(EXIT.usage);
