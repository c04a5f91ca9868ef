/** Queue or worker attributes as every store answers them: `disabled` always a boolean (the original dashboard depends on it). */
export type Attributes = { disabled: boolean } & Record<string, unknown>;

/** `stored` with `disabled` made a boolean (`true` only when it is `true`). */
export function normaliseAttributes(stored: Record<string, unknown>): Attributes {
  return { ...stored, disabled: stored['disabled'] === true };
}
