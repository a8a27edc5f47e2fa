import { attachmentDisposition, cleanFileName, sniffEvidence } from './portal-files.js';

const bytes = (...b: number[]) => Uint8Array.from([...b, 0, 0, 0, 0]);

test('photos and PDFs are told by their magic bytes, not their names', () => {
  expect(sniffEvidence(bytes(0xff, 0xd8, 0xff, 0xe0))?.type).toBe('image/jpeg');
  expect(sniffEvidence(bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a))?.type).toBe('image/png');
  expect(sniffEvidence(Buffer.from('%PDF-1.7\n'))?.type).toBe('application/pdf');
  expect(sniffEvidence(Buffer.from('<html><script>'))).toBeNull();
  expect(sniffEvidence(Buffer.from('GIF89a......'))).toBeNull();
  // A PNG signature cut short is not a PNG.
  expect(sniffEvidence(Uint8Array.from([0x89, 0x50, 0x4e, 0x47]))).toBeNull();
  expect(sniffEvidence(new Uint8Array())).toBeNull();
});

test('file names lose directories, quotes and control characters', () => {
  expect(cleanFileName('../../etc/passwd')).toBe('passwd');
  expect(cleanFileName('C:\\x\\整改照片 1.jpg')).toBe('整改照片 1.jpg');
  expect(cleanFileName('a"b\r\n.pdf')).toBe('ab.pdf');
  expect(cleanFileName('..')).toBe('evidence');
  expect(cleanFileName('')).toBe('evidence');
  expect(attachmentDisposition('整改.pdf', 'evidence-1.pdf')).toBe(
    `attachment; filename="evidence-1.pdf"; filename*=UTF-8''${encodeURIComponent('整改.pdf')}`,
  );
});
