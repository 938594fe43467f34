/**
 * The page's Web Worker: it holds the data and runs every fit, so the page
 * never waits on a computation. Messages in: `load`, `select`, `guess`,
 * `fit`, `view`, `csv`; out: the answer with the request's `id`, or
 * `progress` during a fit. The page cancels a fit by ending this worker and
 * starting another (a fit does not return to the event loop between
 * iterations).
 *
 * @module
 */

import { Session } from "./_session.ts";

const session = new Session();
const scope = globalThis as unknown as {
  postMessage(message: unknown): void;
  onmessage: ((ev: MessageEvent<Request>) => void) | null;
};

interface Request {
  id: number;
  type: "load" | "select" | "guess" | "fit" | "view" | "csv" | "svg" | "script";
  // deno-lint-ignore no-explicit-any
  args: any;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function answer(req: Request): Promise<unknown> {
  switch (req.type) {
    case "load":
      return session.load(req.args.name, new Uint8Array(req.args.bytes));
    case "select":
      session.select(req.args);
      return session.view();
    case "guess":
      return session.guess(req.args.model);
    case "fit": {
      const summary = await session.fit(req.args, (p) =>
        scope.postMessage({
          type: "progress",
          id: req.id,
          nit: p.nit,
          nfev: p.nfev,
          cost: p.cost,
          elapsedMs: p.elapsedMs,
        }));
      return { summary, view: session.view() };
    }
    case "view":
      return session.view(req.args.range);
    case "csv":
      return session.csv();
    case "svg":
      return session.svg();
    case "script":
      return session.script(req.args);
  }
}

scope.onmessage = async (ev: MessageEvent<Request>) => {
  const req = ev.data;
  try {
    scope.postMessage({ type: "answer", id: req.id, out: await answer(req) });
  } catch (e) {
    scope.postMessage({ type: "answer", id: req.id, error: errorText(e) });
  }
};
