/** Attributes as the store answers them: `disabled` always a boolean. */
export type Attributes = { disabled: boolean } & Record<string, unknown>;

/**
 * Attributes live in a Redis hash, one field per attribute holding its JSON
 * value, so a patch is a plain `HSET` (atomic, no read-modify-write).
 * The field/value pairs of a patch; `disabled` is stored as a boolean.
 */
export function patchFields(patch: Record<string, unknown>): string[] {
  const fields: string[] = [];
  for (const [name, value] of Object.entries(patch)) {
    const json = name === 'disabled' ? JSON.stringify(value === true) : JSON.stringify(value);
    if (json !== undefined) fields.push(name, json); // undefined values are dropped, as JSON would
  }
  return fields;
}

/** The attributes held by a hash written with {@link patchFields}. */
export function attributesOf(hash: Record<string, string>): Attributes {
  const attributes: Record<string, unknown> = {};
  for (const [name, json] of Object.entries(hash)) {
    Object.defineProperty(attributes, name, { value: JSON.parse(json) as unknown, enumerable: true, writable: true, configurable: true });
  }
  return { ...attributes, disabled: attributes['disabled'] === true };
}
