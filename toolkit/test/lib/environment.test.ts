// The toolkit's identity (version + commit) every report carries: read from .git without a git binary,
// in a plain checkout (loose or packed ref), a linked worktree (.git file + commondir) and outside git.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { toolkitIdentity } from "../../src/lib/environment.js";

const tmp = mkdtempSync(join(tmpdir(), "vox-identity-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function put(path: string, text: string): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
}

function checkout(name: string): string {
  const root = join(tmp, name);
  put(join(root, "package.json"), JSON.stringify({ name: "vox", version: "9.8.7" }));
  return root;
}

test("plain checkout: a loose ref, then a packed one, then a detached HEAD", () => {
  const root = checkout("plain");
  put(join(root, ".git", "HEAD"), "ref: refs/heads/main\n");
  put(join(root, ".git", "packed-refs"), `# pack-refs\n${"b".repeat(40)} refs/heads/main\n`);
  assert.deepEqual(toolkitIdentity(root), { version: "9.8.7", commit: "b".repeat(40) });
  put(join(root, ".git", "refs", "heads", "main"), `${"a".repeat(40)}\n`);
  assert.equal(toolkitIdentity(root).commit, "a".repeat(40));
  put(join(root, ".git", "HEAD"), `${"c".repeat(40)}\n`);
  assert.equal(toolkitIdentity(root).commit, "c".repeat(40));
});

test("linked worktree: .git is a file naming the worktree's git folder; refs live in the common folder", () => {
  const root = checkout("worktree");
  const common = join(tmp, "main.git");
  put(join(common, "worktrees", "wt", "HEAD"), "ref: refs/heads/feature\n");
  put(join(common, "worktrees", "wt", "commondir"), "../..\n");
  put(join(common, "refs", "heads", "feature"), `${"d".repeat(40)}\n`);
  put(join(root, ".git"), `gitdir: ${join(common, "worktrees", "wt")}\n`);
  assert.equal(toolkitIdentity(root).commit, "d".repeat(40));
});

test("outside git: the commit is null, the version still read", () => {
  assert.deepEqual(toolkitIdentity(checkout("no-git")), { version: "9.8.7", commit: null });
});
