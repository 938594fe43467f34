// Writers of the data files the streaming and checkpoint tests fit: NPY and
// raw f64 tables, CSV, HDF5, and the synthetic data itself (deterministic).

/** A deterministic noisy exponential decay: y = a exp(-b x) + c + noise. */
export function decayData(
  n: number,
  options: { seed?: number; sigma?: boolean; outliers?: boolean } = {},
): { x: Float64Array; y: Float64Array; sigma: Float64Array | null } {
  let s = options.seed ?? 12345;
  // Park-Miller: reproducible across processes.
  const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647 - 0.5;
  const x = Float64Array.from({ length: n }, (_, i) => (10 * i) / n);
  const sigma = options.sigma
    ? Float64Array.from({ length: n }, () => 0.01 + 0.02 * (rnd() + 0.5))
    : null;
  const y = Float64Array.from(x, (t, i) => {
    let v = 3 * Math.exp(-0.7 * t) + 0.5 + 0.01 * rnd();
    if (options.outliers && i % 97 === 0) v += 2;
    return v;
  });
  return { x, y, sigma };
}

/** Interleaves columns row by row (C order). */
export function rows(columns: readonly Float64Array[]): Float64Array {
  const n = columns[0].length, k = columns.length;
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) out[i * k + j] = columns[j][i];
  }
  return out;
}

/** Writes a 2-D little-endian f64 NPY table (n rows, one column each). */
export async function writeNpyTable(
  path: string,
  columns: readonly Float64Array[],
): Promise<void> {
  const n = columns[0].length;
  const dict =
    `{'descr': '<f8', 'fortran_order': False, 'shape': (${n}, ${columns.length}), }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const header = dict.padEnd(total - 11) + "\n";
  const data = rows(columns);
  const bytes = new Uint8Array(total + data.byteLength);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(bytes.buffer).setUint16(8, header.length, true);
  bytes.set(new TextEncoder().encode(header), 10);
  bytes.set(new Uint8Array(data.buffer), total);
  await Deno.writeFile(path, bytes);
}

/** Writes a raw little-endian f64 file, rows interleaved. */
export async function writeRawF64(
  path: string,
  columns: readonly Float64Array[],
): Promise<void> {
  await Deno.writeFile(path, new Uint8Array(rows(columns).buffer));
}

/** Writes a CSV with a header; numbers in shortest round-trip form. */
export async function writeCsv(
  path: string,
  names: readonly string[],
  columns: readonly Float64Array[],
): Promise<void> {
  const lines = [names.join(",")];
  for (let i = 0; i < columns[0].length; i++) {
    lines.push(columns.map((c) => String(c[i])).join(","));
  }
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
}
