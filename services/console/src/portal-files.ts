// What an uploaded rectification-evidence file is, decided by its first bytes (never by its name or
// the type the browser claims): a JPEG or PNG photo, or a PDF.

export type EvidenceType = 'image/jpeg' | 'image/png' | 'application/pdf';

const SIGNATURES: readonly { type: EvidenceType; ext: string; magic: readonly number[] }[] = [
  { type: 'image/jpeg', ext: 'jpg', magic: [0xff, 0xd8, 0xff] },
  { type: 'image/png', ext: 'png', magic: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  // "%PDF-"
  { type: 'application/pdf', ext: 'pdf', magic: [0x25, 0x50, 0x44, 0x46, 0x2d] },
];

/** The file's type by its magic bytes, or null for anything else. */
export function sniffEvidence(bytes: Uint8Array): { type: EvidenceType; ext: string } | null {
  for (const s of SIGNATURES)
    if (bytes.length > s.magic.length && s.magic.every((b, i) => bytes[i] === b))
      return { type: s.type, ext: s.ext };
  return null;
}

/** The extension a stored file of this type is served with. */
export function extensionOf(type: string): string {
  return SIGNATURES.find((s) => s.type === type)?.ext ?? 'bin';
}

/**
 * A file name safe to keep and to echo in a header: no directories, no control characters, at most
 * 200 characters; blank becomes "evidence".
 */
export function cleanFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const clean = [...base]
    .filter((ch) => ch !== '"' && ch.charCodeAt(0) >= 0x20 && ch.charCodeAt(0) !== 0x7f)
    .join('')
    .trim()
    .slice(0, 200);
  return clean === '' || clean === '.' || clean === '..' ? 'evidence' : clean;
}

/** `Content-Disposition` for a download: an ASCII fallback and the UTF-8 name (RFC 6266 / 5987). */
export function attachmentDisposition(name: string, fallback: string): string {
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}
