/**
 * Another revision of this repository, checked out beside it so that `bench/gateway.ts --against REV`
 * can run that revision's gateway in the same run as the working tree's, their rounds interleaved.
 * Two runs of the bench on a shared VM differ by more than a small change's effect (the reference's
 * own CPU per payment moved by a fifth between runs); inside one run both gateways meet the same
 * drift, so their ratio shows the change.
 *
 * The checkout is a detached git worktree. Its `node_modules` links to this checkout's packages,
 * except the workspace packages (`@klarna-interop/*`), which link to the worktree's own, and each
 * workspace's own `node_modules` links to this checkout's; so the revision runs its own code
 * throughout, with today's dependencies.
 * @module
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SCOPE = "@klarna-interop";

/** A revision checked out for the bench: its short hash, where it is, and how to remove it. */
export interface Revision {
  label: string;
  dir: string;
  /** That revision's `bench/gateway.ts` (its `--serve-gateway` child mode). */
  script: string;
  remove(): void;
}

function git(args: string[]): string {
  return execFileSync("git", args, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/** Checks `rev` out into a temporary worktree (throws when git cannot resolve it). */
export function checkoutRevision(rev: string): Revision {
  const label = git(["rev-parse", "--short", `${rev}^{commit}`]);
  const dir = mkdtempSync(join(tmpdir(), "gw-rev-"));
  git(["worktree", "add", "--detach", "--force", dir, label]);
  const modules = join(dir, "node_modules");
  mkdirSync(join(modules, SCOPE), { recursive: true });
  for (const entry of readdirSync(join(ROOT, "node_modules"))) {
    if (entry !== SCOPE) symlinkSync(join(ROOT, "node_modules", entry), join(modules, entry));
  }
  // Workspace links are relative (../../packages/core): the same link inside the worktree names its copy.
  for (const entry of readdirSync(join(ROOT, "node_modules", SCOPE))) {
    symlinkSync(readlinkSync(join(ROOT, "node_modules", SCOPE, entry)), join(modules, SCOPE, entry));
  }
  // Dependencies npm kept inside a workspace (packages/gateway/node_modules/ioredis, …).
  for (const parent of ["packages", "tools"]) {
    for (const entry of readdirSync(join(ROOT, parent))) {
      const own = join(ROOT, parent, entry, "node_modules");
      if (existsSync(own) && existsSync(join(dir, parent, entry)))
        symlinkSync(own, join(dir, parent, entry, "node_modules"));
    }
  }
  return {
    label,
    dir,
    script: join(dir, "bench", "gateway.ts"),
    remove() {
      try {
        git(["worktree", "remove", "--force", dir]);
      } catch {
        rmSync(dir, { recursive: true, force: true });
        git(["worktree", "prune"]);
      }
    },
  };
}
