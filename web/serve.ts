/**
 * `deno task serve [--port 8000] [--data DIR] [--no-build]`: builds the
 * page's bundles and serves web/ on 127.0.0.1 only (never other hosts) with
 * Deno's own HTTP server; `--data DIR` also serves that folder's files under
 * /data/ (for `?data=/data/file.csv`). Prints `listening on <url>`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { buildWeb } from "./build.ts";

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  json: "application/json",
  csv: "text/csv; charset=utf-8",
  tsv: "text/tab-separated-values; charset=utf-8",
  txt: "text/plain; charset=utf-8",
  dat: "text/plain; charset=utf-8",
  npy: "application/octet-stream",
};

const WEB = new URL("./", import.meta.url);

/** The file a request path names under `root`, or undefined (outside it, hidden, a folder). */
export function fileUnder(root: URL, path: string): URL | undefined {
  const parts = decodeURIComponent(path).split("/").filter((p) => p !== "");
  if (parts.some((p) => p === ".." || p.startsWith(".") || p.includes("\\"))) {
    return undefined;
  }
  return new URL(parts.join("/") || "index.html", root);
}

async function respond(file: URL | undefined): Promise<Response> {
  if (file === undefined) return new Response("not found", { status: 404 });
  try {
    const body = await Deno.readFile(file);
    const ext = file.pathname.split(".").pop() ?? "";
    return new Response(body, {
      headers: {
        "content-type": TYPES[ext] ?? "application/octet-stream",
        "cache-control": "no-store",
      },
    });
  } catch {
    return new Response("not found", { status: 404 });
  }
}

/** Serves the page (and `dataDir` under /data/) on 127.0.0.1:`port`. */
export function servePage(
  port: number,
  dataDir?: string,
): Deno.HttpServer<Deno.NetAddr> {
  const data = dataDir === undefined
    ? undefined
    : new URL(`file://${Deno.realPathSync(dataDir)}/`);
  return Deno.serve({
    hostname: "127.0.0.1",
    port,
    onListen: ({ hostname, port }) =>
      console.log(`listening on http://${hostname}:${port}/`),
  }, (req) => {
    const path = new URL(req.url).pathname;
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("method not allowed", { status: 405 });
    }
    if (path.startsWith("/data/")) {
      return respond(data && fileUnder(data, path.slice("/data/".length)));
    }
    return respond(fileUnder(WEB, path));
  });
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      port: { type: "string", default: "8000" },
      data: { type: "string" },
      "no-build": { type: "boolean", default: false },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port: ${values.port} is not a port number (0 to 65535)`);
    Deno.exit(2);
  }
  if (!values["no-build"]) await buildWeb();
  servePage(port, values.data);
}
