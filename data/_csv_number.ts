// Decimal numbers parsed straight from the bytes of a text file, correctly
// rounded (the same double as `Number(text)`), with no string per field.
//
// Grammar (the CSV reader's, surrounding blanks aside):
//   [+-]? (digits [. digits*] | . digits) ([eE] [+-]? digits)?
// Up to 15 significant digits with a decimal exponent within ±22 take
// Clinger's fast path: one exact double times (or over) an exact power of
// ten, rounded once. 16 to 19 digits (what `repr` and `%.17g` write) are
// carried as an exact double-double, scaled by the power of ten with an
// error below 2^-98 relative, and accepted where that error cannot change
// the rounding; the rare rest (longer mantissas, larger exponents, values
// within 2^-98 of a point halfway between two doubles) goes through
// `Number()`.

const P10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));
const SPLIT = 134217729; // 2^27 + 1, Dekker's splitter

/**
 * Parses the decimal number at `bytes[start, end)` (no blanks), stopping at
 * the first byte that cannot continue it, and writes its value to
 * `out[slot]`. Returns the index of that byte, or -1 when no number starts
 * at `start`. (The value goes to an array, not a return value: a double
 * returned from a function that is not inlined is boxed, and the garbage
 * of one box per field showed in profiles.)
 */
export function parseDecimal(
  bytes: Uint8Array,
  start: number,
  end: number,
  out: Float64Array,
  slot: number,
): number {
  let i = start;
  let c = i < end ? bytes[i] : 0;
  const negative = c === 45;
  if (c === 45 || c === 43) i++; // - +
  // Leading zeros are not significant (fraction zeros still scale).
  const intStart = i;
  while (i < end && bytes[i] === 48) i++;
  // The significant digits in one pass, in small integers: the first 9 in
  // h1, the next 6 in h2, the next 4 in lo (spilled at those counts).
  let acc = 0, n = 0, h1 = 0, h2 = 0, lo = 0, spill = 9;
  while (i < end && (c = bytes[i] - 48) >= 0 && c <= 9) {
    i++;
    acc = acc * 10 + c;
    if (++n === spill) {
      if (spill === 9) {
        h1 = acc;
        spill = 15;
      } else if (spill === 15) {
        h2 = acc;
        spill = 19;
      } else {
        lo = acc;
        spill = -1;
      }
      acc = 0;
    }
  }
  let digits = i - intStart;
  let fracLen = 0;
  // The fraction's loop repeats the integer's on purpose: one loop that also
  // tests for the dot parsed 2e6 fields at 187 MB/s against 235 (measured).
  if (i < end && bytes[i] === 46) { // .
    const fracStart = ++i;
    if (n === 0) { while (i < end && bytes[i] === 48) i++; }
    while (i < end && (c = bytes[i] - 48) >= 0 && c <= 9) {
      i++;
      acc = acc * 10 + c;
      if (++n === spill) {
        if (spill === 9) {
          h1 = acc;
          spill = 15;
        } else if (spill === 15) {
          h2 = acc;
          spill = 19;
        } else {
          lo = acc;
          spill = -1;
        }
        acc = 0;
      }
    }
    fracLen = i - fracStart;
    digits += fracLen;
  }
  if (digits === 0) return -1;
  let exp10 = -fracLen;
  if (i < end && ((c = bytes[i]) === 101 || c === 69)) { // e E
    let j = i + 1;
    let d = j < end ? bytes[j] : 0;
    const eNeg = d === 45;
    if (d === 45 || d === 43) d = ++j < end ? bytes[j] : 0;
    if (!(d >= 48 && d <= 57)) return -1;
    let e = 0;
    while (d >= 48 && d <= 57) {
      if (e < 100000) e = e * 10 + (d - 48);
      d = ++j < end ? bytes[j] : 0;
    }
    exp10 += eNeg ? -e : e;
    i = j;
  }
  if (n === 0) {
    out[slot] = negative ? -0 : 0;
    return i;
  }
  // The digits not yet spilled.
  let hi: number, nLo = 0;
  if (n < 9) hi = acc;
  else if (n < 15) hi = h1 * P10[n - 9] + acc;
  else {
    hi = h1 * 1e6 + h2;
    if (n < 19) {
      lo = acc;
      nLo = n - 15;
    } else nLo = 4;
  }
  const more = n > 19;
  exp10 += n > 19 ? n - 19 : 0;
  if (more || exp10 > 22 + 15 || exp10 < -22) {
    const v = slow(bytes, start, i);
    out[slot] = negative ? -v : v;
    return i;
  }
  if (nLo > 0) {
    doubleDouble(hi, lo, nLo, exp10, bytes, start, i, out, slot);
    if (negative) out[slot] = -out[slot];
    return i;
  }
  // Clinger: hi < 10^15 is exact, and so is 10^|e| up to 22: one rounding.
  let v: number;
  if (exp10 === 0) v = hi;
  else if (exp10 < 0) v = hi / P10[-exp10];
  else if (exp10 <= 22) v = hi * P10[exp10];
  else {
    // 10^e = 10^(e-22) * 10^22: exact while hi * 10^(e-22) is below 2^53.
    const scaled = hi * P10[exp10 - 22];
    v = scaled < 9007199254740992 ? scaled * P10[22] : slow(bytes, start, i);
  }
  out[slot] = negative ? -v : v;
  return i;
}

// hi * 10^nLo + lo (up to 19 digits) times 10^e, |e| <= 22; writes the
// magnitude to out[slot].
function doubleDouble(
  hi: number,
  lo: number,
  nLo: number,
  e: number,
  bytes: Uint8Array,
  start: number,
  end: number,
  out: Float64Array,
  slot: number,
): void {
  if (e > 22) {
    out[slot] = slow(bytes, start, end);
    return;
  }
  // The mantissa, exactly: hi * 10^nLo (a product and its error) plus lo.
  const p = hi * P10[nLo];
  const pe = productError(hi, nLo, p);
  const s = p + lo;
  const t = lo - (s - p); // exact: |lo| < |p|
  let mh = s + (t + pe);
  let ml = (t + pe) - (mh - s);
  // fl(s + (t + pe)) is the mantissa correctly rounded.
  if (e === 0) {
    out[slot] = mh;
    return;
  }
  if (e > 0) {
    const h = mh * P10[e];
    const l = ml * P10[e] + productError(mh, e, h);
    mh = h + l;
    ml = l - (mh - h);
  } else {
    const P = P10[-e];
    const q1 = mh / P;
    const ph = q1 * P;
    const q2 = ((mh - ph) - productError(q1, -e, ph) + ml) / P;
    mh = q1 + q2;
    ml = q2 - (mh - q1);
  }
  // The exact value is within 2^-98 |mh| of mh + ml. Rounding is monotonic:
  // when both ends of that interval round to mh, so does the value.
  const margin = Math.abs(mh) * 3.1554436208840472e-30; // 2^-98
  out[slot] = mh + (ml - margin) === mh && mh + (ml + margin) === mh
    ? mh
    : slow(bytes, start, end);
}

// 10^k split in halves of 26 bits (Dekker), for exact products by 10^k.
const P10_HI = P10.map((v) => {
  const c = SPLIT * v;
  return c - (c - v);
});
const P10_LO = P10.map((v, k) => v - P10_HI[k]);

// The rounding error of p = a * 10^k (Dekker, without a fused multiply-add).
function productError(a: number, k: number, p: number): number {
  const c = SPLIT * a;
  const ah = c - (c - a), al = a - ah;
  const bh = P10_HI[k], bl = P10_LO[k];
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

// The number's text through Number(): correct, slower, rarely needed.
function slow(bytes: Uint8Array, start: number, end: number): number {
  let text = "";
  for (let k = start; k < end; k++) text += String.fromCharCode(bytes[k]);
  return Math.abs(Number(text)); // the caller applies the sign
}
