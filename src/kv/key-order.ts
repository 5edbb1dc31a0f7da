/**
 * Key order: UTF-8 byte order (memcmp of the encoded keys), which is Unicode code point order.
 * JavaScript's `<` compares UTF-16 code units, which puts U+E000..U+FFFF after the astral
 * characters (their surrogates are 0xD800..0xDFFF); this compares code points without encoding.
 * @module
 */

/** Negative, zero or positive as `a` sorts before, equal to or after `b` in UTF-8 byte order. */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0
  const length = Math.min(a.length, b.length)
  for (let index = 0; index < length; index += 1) {
    const x = a.charCodeAt(index)
    const y = b.charCodeAt(index)
    if (x === y) continue
    // Below 0xD800 code units are code points; above it, move the surrogates past 0xFFFF
    // (the preceding units are equal, so only this pair decides).
    if (x >= 0xd800 && y >= 0xd800) return codePointRank(x) - codePointRank(y)
    return x - y
  }
  return a.length - b.length
}

function codePointRank(unit: number): number {
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000
}

/** UTF-8 length of a key without encoding it. A lone surrogate counts as U+FFFD (3 bytes), as Buffer encodes it. */
export function utf8Length(text: string): number {
  let bytes = 0
  for (let index = 0; index < text.length; index += 1) {
    const unit = text.charCodeAt(index)
    if (unit < 0x80) bytes += 1
    else if (unit < 0x800) bytes += 2
    else if (unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length && (text.charCodeAt(index + 1) & 0xfc00) === 0xdc00) {
      bytes += 4
      index += 1
    } else bytes += 3
  }
  return bytes
}
