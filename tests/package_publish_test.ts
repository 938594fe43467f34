/**
 * Every module reachable from the package's exports is in the published
 * files (deno.json `publish.include`): a folder left out would publish a
 * package whose imports fail at runtime, which no in-repository test sees.
 */

import assert from "node:assert";

const config = JSON.parse(
  await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
);

/** Local modules (repository-relative paths) reachable from `entry`. */
async function localModules(entry: string): Promise<string[]> {
  const root = new URL("../", import.meta.url);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout));
  return (info.modules as { specifier: string }[])
    .map((m) => m.specifier)
    .filter((s) => s.startsWith(root.href))
    .map((s) => s.slice(root.href.length));
}

function published(path: string): boolean {
  const include: string[] = config.publish.include;
  const exclude: string[] = config.publish.exclude ?? [];
  if (exclude.some((g) => g === "**/*_test.ts" && path.endsWith("_test.ts"))) {
    return false;
  }
  return include.some((p) => p.endsWith("/") ? path.startsWith(p) : path === p);
}

Deno.test("package: every module the exports reach is published", async () => {
  const entries = Object.values(config.exports as Record<string, string>);
  assert.ok(entries.length > 1);
  const missing = new Set<string>();
  for (const entry of entries) {
    for (const path of await localModules(entry)) {
      if (!published(path)) missing.add(path);
    }
  }
  assert.deepStrictEqual([...missing], []);
});
