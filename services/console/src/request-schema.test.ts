import Fastify from 'fastify';
import { Type } from '@sinclair/typebox';
import { AJV_OPTIONS, Nullable, NullableEnum, Obj } from './request-schema.js';

// The console's validator options, a real Fastify over HTTP, and what each body reaches the handler as.
async function accepted(body: unknown): Promise<{ status: number; seen: unknown }> {
  const app = Fastify({ ajv: { customOptions: AJV_OPTIONS } });
  let seen: unknown;
  app.post(
    '/t',
    {
      schema: {
        body: Obj({
          positive: Type.Optional(Nullable(Type.Number({ exclusiveMinimum: 0 }))),
          lower: Type.Optional(Nullable(Type.Number({ minimum: 0 }))),
          phone: Type.Optional(Nullable(Type.String({ maxLength: 21 }))),
          key: Type.Optional(Nullable(Type.String({ pattern: '^[0-9a-f]{4}$' }))),
          rating: Type.Optional(NullableEnum(['A', 'B'] as const)),
        }),
      },
    },
    async (req) => {
      seen = req.body;
      return {};
    },
  );
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const res = await fetch(`${url}/t`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, seen: res.ok ? seen : undefined };
  } finally {
    await app.close();
  }
}

test('null stays null and removes the value', async () => {
  const r = await accepted({ positive: null, lower: null, phone: null, key: null, rating: null });
  expect(r).toEqual({
    status: 200,
    seen: { positive: null, lower: null, phone: null, key: null, rating: null },
  });
});

test('0 stays 0 where the bounds allow it, and is refused where they do not', async () => {
  expect(await accepted({ lower: 0 })).toEqual({ status: 200, seen: { lower: 0 } });
  expect((await accepted({ positive: 0 })).status).toBe(400);
  expect((await accepted({ positive: -1 })).status).toBe(400);
});

test('values of the type pass unchanged; other values are refused', async () => {
  expect(await accepted({ positive: 2.5, phone: '13800000000', key: 'ab12', rating: 'B' })).toEqual({
    status: 200,
    seen: { positive: 2.5, phone: '13800000000', key: 'ab12', rating: 'B' },
  });
  expect((await accepted({ key: 'zz' })).status).toBe(400);
  expect((await accepted({ rating: 'E' })).status).toBe(400);
  expect((await accepted({ rating: '' })).status).toBe(400);
});

test('only a primitive-typed schema can be made nullable', () => {
  expect(() => Nullable(Type.Union([Type.Literal('a'), Type.Literal('b')]))).toThrow(TypeError);
});
