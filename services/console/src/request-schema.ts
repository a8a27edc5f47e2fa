// Building blocks of the console's request schemas, with the validator options they are written for.
import { Type, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox';

/**
 * The console's Ajv options. Type coercion lets query strings carry numbers and booleans; it also
 * applies to bodies, which is why nullable fields are written with `Nullable` below.
 */
export const AJV_OPTIONS = { removeAdditional: false, coerceTypes: true, allErrors: false } as const;

/**
 * `t` or null, as one JSON Schema type list (`"type": ["number", "null"]`). Ajv coerces only when the
 * value is none of the listed types, so null stays null and 0 stays 0 (or is refused by `t`'s bounds).
 * An `anyOf` of `t` and null would not: under coercion its first branch turns null into 0 or "", and
 * a number its bounds refuse falls through to the null branch and becomes null.
 */
export function Nullable<T extends TSchema>(t: T): TUnsafe<Static<T> | null> {
  if (typeof t.type !== 'string') throw new TypeError('Nullable: wants a schema with one primitive type');
  const { [Symbol.for('TypeBox.Kind')]: _kind, ...rest } = t as Record<string | symbol, unknown>;
  return Type.Unsafe<Static<T> | null>({ ...rest, type: [t.type, 'null'] });
}

/** One of `values`, or null (the same reasoning as `Nullable`). */
export function NullableEnum<const V extends readonly string[]>(values: V): TUnsafe<V[number] | null> {
  return Type.Unsafe<V[number] | null>({ type: ['string', 'null'], enum: [...values, null] });
}

/** An object that refuses properties it does not name. */
export const Obj = <P extends Record<string, TSchema>>(p: P) =>
  Type.Object(p, { additionalProperties: false });
