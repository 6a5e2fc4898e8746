// Shared by tests: paths to the source-tree fixtures (tests run from dist/, fixtures stay in the tree).
import { join } from "node:path";
import { packageRoot } from "../src/lib/paths.js";

export function fixture(...parts: string[]): string {
  return join(packageRoot(), "toolkit", "test", "fixtures", ...parts);
}
