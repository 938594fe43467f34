/**
 * The figures of docs/images: fits drawn by `plotSvg` with a band, error
 * bars, logarithmic axes and the components of a composite model. Writes
 * one SVG per figure to the folder given (default docs/images); render them
 * to PNG with any SVG renderer (docs/images/README.md says how they were).
 *
 *     deno run --allow-write examples/plot_figures.ts docs/images
 *
 * @module
 */

import { fit, models, plotSvg } from "../mod.ts";
import { Xoshiro128 } from "../sampling/prng.ts";

/** Standard normal deviates from a seeded generator (Box-Muller). */
function normal(seed: number): () => number {
  const g = new Xoshiro128(seed);
  const u = () => g.nextFloat();
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** The figures by file name. */
export async function figures(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const z = normal(7);

  // A decay with error bars that grow as the signal falls, its 95%
  // confidence band, linear axes.
  {
    const x = Array.from({ length: 40 }, (_, i) => 0.25 + i * 0.25);
    const sigma = x.map((t) => 0.04 + 0.02 * t);
    const y = x.map((t, i) => 5 * Math.exp(-0.6 * t) + 0.3 + sigma[i] * z());
    const r = await fit("a * exp(-b * x) + c", x, y, {
      p0: [1, 1, 0],
      sigma,
    });
    out["decay_band.svg"] = plotSvg(r, {
      band: "confidence",
      xLabel: "t (s)",
      yLabel: "signal (V)",
    });
  }

  // A power law over three decades on log-log axes: the data has two
  // points at x <= 0 and, where additive noise swamps the tail, values
  // y <= 0, none of which a log axis can show (a note says so); the fit
  // used the points with x > 0.
  {
    const x = [
      -0.5,
      0,
      ...Array.from({ length: 60 }, (_, i) => 10 ** (-1 + i / 20)),
    ];
    const sigma = x.map((t) => 0.003 + 0.05 * 3 * Math.abs(t || 1) ** -1.5);
    const y = x.map((t, i) =>
      t > 0 ? 3 * t ** -1.5 + sigma[i] * z() : 80 + sigma[i] * z()
    );
    const keep = (_: unknown, i: number) => x[i] > 0;
    const r = await fit("a * x^b", x.filter(keep), y.filter(keep), {
      p0: [1, -1],
      sigma: sigma.filter(keep),
    });
    out["power_law_loglog.svg"] = plotSvg(r, {
      data: { x, y, sigma },
      band: "confidence",
      logX: true,
      logY: true,
      residuals: "normalized",
    });
  }

  // Two Gaussian peaks on a constant background: each component dashed.
  {
    const m = models.gaussian({ prefix: "g1_" })
      .add(models.gaussian({ prefix: "g2_" }))
      .add(models.constant());
    const x = Array.from({ length: 200 }, (_, i) => i / 20);
    const y = x.map((t) =>
      4 * Math.exp(-((t - 3.5) ** 2) / (2 * 0.4 ** 2)) +
      2.5 * Math.exp(-((t - 6) ** 2) / (2 * 0.7 ** 2)) + 0.5 + 0.15 * z()
    );
    const g = m.guess(x, y);
    const r = await fit(m, x, y, {
      p0: m.params.map((n) => g[n]),
      bounds: m.defaultBounds,
    });
    out["two_peaks_components.svg"] = plotSvg(r, {
      band: "prediction",
      components: true,
    });
  }

  // A decay measured with 10% relative errors over three decades of
  // signal: on a log y axis a straight line, and the prediction band (the
  // points' sigma interpolated between them) of constant relative width.
  {
    const x = Array.from({ length: 40 }, (_, i) => i * 0.2);
    const truth = x.map((t) => 100 * Math.exp(-0.9 * t));
    const sigma = truth.map((v) => 0.1 * v);
    const y = truth.map((v, i) => v + sigma[i] * z());
    const r = await fit("a * exp(-b * x)", x, y, { p0: [50, 0.5], sigma });
    out["decay_logy_prediction.svg"] = plotSvg(r, {
      band: "prediction",
      logY: true,
      residuals: "normalized",
    });
  }
  return out;
}

if (import.meta.main) {
  const dir = Deno.args[0] ?? "docs/images";
  for (const [name, svg] of Object.entries(await figures())) {
    await Deno.writeTextFile(`${dir}/${name}`, svg);
    console.log(`${dir}/${name}`);
  }
}
