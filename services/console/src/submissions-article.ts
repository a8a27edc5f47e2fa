// The article of a district's submission: rich text from the page's editor, sanitised on the server
// with sanitize-html (an allow-list of text, list, table and link markup; no scripts, styles, event
// handlers or classes). Images are embedded in the article as `data:` URLs, never fetched from
// elsewhere: each must be a PNG, JPEG, GIF or WebP whose bytes (not only its declared type) say so,
// at most MAX_IMAGE_BYTES each, MAX_IMAGES and MAX_IMAGES_BYTES in all. A link may only be http(s) or mailto. An
// article with no text and no image, or with an image that breaks these rules, is refused with a
// bilingual error naming the field; nothing is stripped silently from an image. sanitize-html is
// pinned at 2.17.0: 2.18 moved to an ES-module-only htmlparser2 that Jest's module VM cannot load.
import sanitizeHtml from 'sanitize-html';

export const MAX_IMAGE_BYTES = 1024 * 1024;
export const MAX_IMAGES = 8;
/** All images of one article together. */
export const MAX_IMAGES_BYTES = 4 * 1024 * 1024;
/** The sanitised article's size bound in characters, its images' base64 included (the table's check too). */
export const MAX_ARTICLE_CHARS = 6_000_000;

export class ArticleError extends Error {
  constructor(
    readonly zh: string,
    readonly en: string,
  ) {
    super(en);
  }
}

const IMAGE_TYPES: Record<string, (b: Buffer) => boolean> = {
  'image/png': (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  'image/jpeg': (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  'image/gif': (b) => /^GIF8[79]a$/.test(b.subarray(0, 6).toString('latin1')),
  'image/webp': (b) =>
    b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP',
};

const DATA_URL = /^data:(image\/[a-z]+);base64,([A-Za-z0-9+/]+={0,2})$/;

/** Checks one embedded image; returns its src unchanged or throws. */
function checkImage(src: string | undefined, n: number): { src: string; bytes: number } {
  const m = DATA_URL.exec((src ?? '').trim());
  if (!m)
    throw new ArticleError(
      `第 ${n} 张图片须为嵌入的 PNG/JPEG/GIF/WebP 图片（不可引用外部地址）`,
      `image ${n} must be an embedded PNG/JPEG/GIF/WebP (data: URL), not an outside address`,
    );
  const [, type, b64] = m as unknown as [string, string, string];
  const check = IMAGE_TYPES[type];
  if (!check)
    throw new ArticleError(`第 ${n} 张图片类型 ${type} 不允许`, `image ${n}: type ${type} is not allowed`);
  if ((b64.length * 3) / 4 > MAX_IMAGE_BYTES + 3)
    throw new ArticleError(
      `第 ${n} 张图片超过 ${MAX_IMAGE_BYTES / 1024} KiB`,
      `image ${n} is larger than ${MAX_IMAGE_BYTES / 1024} KiB`,
    );
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length > MAX_IMAGE_BYTES)
    throw new ArticleError(
      `第 ${n} 张图片超过 ${MAX_IMAGE_BYTES / 1024} KiB`,
      `image ${n} is larger than ${MAX_IMAGE_BYTES / 1024} KiB`,
    );
  if (!check(bytes))
    throw new ArticleError(`第 ${n} 张图片的内容不是 ${type}`, `image ${n}: its content is not ${type}`);
  return { src: `data:${type};base64,${b64}`, bytes: bytes.length };
}

/** The sanitised article and its plain text; throws ArticleError on what must be refused. */
export function sanitizeArticle(html: string): { html: string; text: string; images: number } {
  let images = 0;
  let imageBytes = 0;
  const clean = sanitizeHtml(html, {
    allowedTags: [
      'p',
      'br',
      'h2',
      'h3',
      'h4',
      'strong',
      'b',
      'em',
      'i',
      'u',
      's',
      'ul',
      'ol',
      'li',
      'blockquote',
      'a',
      'img',
      'table',
      'thead',
      'tbody',
      'tr',
      'th',
      'td',
      'figure',
      'figcaption',
      'hr',
      'div',
      'span',
    ],
    allowedAttributes: { a: ['href', 'title', 'rel'], img: ['src', 'alt', 'width', 'height'], th: ['scope'] },
    allowedSchemes: ['http', 'https', 'mailto'],
    allowedSchemesByTag: { img: ['data'] },
    allowProtocolRelative: false,
    disallowedTagsMode: 'discard',
    transformTags: {
      img: (tagName, attribs) => {
        images += 1;
        if (images > MAX_IMAGES)
          throw new ArticleError(`图片不能超过 ${MAX_IMAGES} 张`, `at most ${MAX_IMAGES} images`);
        const img = checkImage(attribs.src, images);
        imageBytes += img.bytes;
        if (imageBytes > MAX_IMAGES_BYTES)
          throw new ArticleError(
            `图片合计超过 ${MAX_IMAGES_BYTES / 1024 / 1024} MiB`,
            `the images together are larger than ${MAX_IMAGES_BYTES / 1024 / 1024} MiB`,
          );
        return { tagName, attribs: { ...attribs, src: img.src } };
      },
      a: (tagName, attribs) => ({ tagName, attribs: { ...attribs, rel: 'noopener noreferrer' } }),
    },
  });
  const text = sanitizeHtml(clean, { allowedTags: [], allowedAttributes: {} })
    .replace(/&nbsp;|\s+/g, ' ')
    .trim();
  if (text.length === 0 && images === 0)
    throw new ArticleError('须填写报送文章', 'the article is required (it has no text)');
  if (clean.length > MAX_ARTICLE_CHARS)
    throw new ArticleError('文章过长', `the article is longer than ${MAX_ARTICLE_CHARS} characters`);
  return { html: clean, text, images };
}
