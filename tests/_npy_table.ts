/**
 * Writes tables as NPY files (float64, C order) without Python, for the
 * tests that stream from files.
 *
 * @module
 */

/** The bytes of an NPY file holding `columns` side by side (n x k). */
export function npyTable(...columns: Float64Array[]): Uint8Array {
  const n = columns[0].length, k = columns.length;
  let header =
    `{'descr': '<f8', 'fortran_order': False, 'shape': (${n}, ${k}), }`;
  const total = 10 + header.length + 1;
  header += " ".repeat((64 - (total % 64)) % 64) + "\n";
  const head = new Uint8Array(10 + header.length);
  head.set([0x93, ...new TextEncoder().encode("NUMPY"), 1, 0]);
  new DataView(head.buffer).setUint16(8, header.length, true);
  head.set(new TextEncoder().encode(header), 10);
  const body = new Float64Array(k * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) body[k * i + j] = columns[j][i];
  }
  const out = new Uint8Array(head.length + body.byteLength);
  out.set(head);
  out.set(new Uint8Array(body.buffer), head.length);
  return out;
}
