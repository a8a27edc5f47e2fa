import { ArticleError, MAX_IMAGE_BYTES, sanitizeArticle } from './submissions-article.js';

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);
const png = (b: Buffer = PNG, type = 'image/png') => `data:${type};base64,${b.toString('base64')}`;
const refused = (html: string, en: RegExp) => {
  let err: unknown;
  try {
    sanitizeArticle(html);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ArticleError);
  expect((err as ArticleError).en).toMatch(en);
  expect((err as ArticleError).zh).toMatch(/[\u4e00-\u9fff]/);
};

describe('submission article sanitiser', () => {
  it('keeps text markup, links and embedded images; drops scripts, handlers and styles', () => {
    const out = sanitizeArticle(
      `<h2 onclick="x()">亮点</h2><p style="color:red">正面清单 <strong>成效</strong><script>alert(1)</script>` +
        `<a href="javascript:alert(1)">x</a><a href="https://example.org/a">链接</a></p>` +
        `<img src="${png()}" alt="现场" onerror="alert(2)"><iframe src="https://x"></iframe>`,
    );
    expect(out.html).not.toMatch(/script|onclick|onerror|style=|javascript:|iframe/);
    expect(out.html).toContain('<h2>亮点</h2>');
    expect(out.html).toContain('<strong>成效</strong>');
    expect(out.html).toContain('href="https://example.org/a"');
    expect(out.html).toContain(`<img src="${png()}" alt="现场" />`);
    expect(out.text).toContain('正面清单 成效');
    expect(out.images).toBe(1);
  });

  it('refuses an empty article (markup only, or only what is stripped)', () => {
    refused('<p> </p><script>alert(1)</script>', /article is required/);
  });

  it('checks each image by its content, type and size, and refuses outside addresses', () => {
    refused('<p>x</p><img src="https://evil.example/track.png">', /embedded/);
    refused(`<p>x</p><img src="${png(PNG, 'image/svg+xml')}">`, /embedded|not allowed/);
    refused(
      `<p>x</p><img src="${png(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))}">`,
      /content is not image\/png/,
    );
    refused(`<p>x</p><img src="${png(PNG, 'image/jpeg')}">`, /content is not image\/jpeg/);
    const big = Buffer.concat([PNG, Buffer.alloc(MAX_IMAGE_BYTES)]);
    refused(`<p>x</p><img src="${png(big)}">`, /larger than/);
  });
});
