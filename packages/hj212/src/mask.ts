/**
 * Device passwords out of archived bytes: `PW=` (every header) and `NewPW=` (the centre's 1072
 * set-password request) values are replaced byte for byte with `*`. The length stays, so the
 * frame's declared length still matches and the frame splits and parses as before; its CRC is the
 * sender's, computed over the segment with the password in clear, so it no longer verifies against
 * the masked bytes (the CRC check was made on the bytes as received). The password's length is the
 * one thing the mask still shows.
 */

const STAR = 0x2a;

/** Bytes that can precede a field name: anything but a name character. */
function isNameByte(b: number | undefined): boolean {
  return (
    b !== undefined &&
    ((b >= 0x30 && b <= 0x39) ||
      (b >= 0x41 && b <= 0x5a) ||
      (b >= 0x61 && b <= 0x7a) ||
      b === 0x2d ||
      b === 0x5f)
  );
}

/** Whether `##dddd` (a frame's start and length) ends right before `at`. */
function afterLength(bytes: Buffer, at: number): boolean {
  if (at < 6 || bytes[at - 6] !== 0x23 || bytes[at - 5] !== 0x23) return false;
  for (let k = at - 4; k < at; k++) {
    const b = bytes[k] as number;
    if (b < 0x30 || b > 0x39) return false;
  }
  return true;
}

/** Bytes that end a field's value. */
function endsValue(b: number): boolean {
  return b === 0x3b /* ; */ || b === 0x2c /* , */ || b === 0x26 /* & */ || b === 0x0d || b === 0x0a;
}

/**
 * The bytes with every `PW=` / `NewPW=` value masked. Returns `bytes` itself (no copy) when there
 * is nothing to mask.
 */
export function maskPasswords(bytes: Buffer): Buffer {
  let out: Buffer | null = null;
  for (let i = bytes.indexOf('PW=', 0, 'latin1'); i >= 0; i = bytes.indexOf('PW=', i + 3, 'latin1')) {
    let keyStart = i;
    if (i >= 3 && bytes[i - 3] === 0x4e && bytes[i - 2] === 0x65 && bytes[i - 1] === 0x77) keyStart = i - 3; // New
    // `##dddd` ends in a digit, so a header field right after a frame's length (anywhere in the
    // bytes: garbage runs join several frames) counts too.
    if (isNameByte(bytes[keyStart - 1]) && !afterLength(bytes, keyStart)) continue;
    let j = i + 3;
    while (j < bytes.length && !endsValue(bytes[j] as number)) j++;
    if (j === i + 3) continue;
    out ??= Buffer.from(bytes);
    out.fill(STAR, i + 3, j);
  }
  return out ?? bytes;
}
