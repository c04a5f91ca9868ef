/** A JSON Schema node as plain JSON (`true`/`false` are schemas too). */
export type JsonSchema = { [key: string]: unknown } | boolean;

/** The JSON Schema draft the exported schemas declare (what VS Code and the YAML language server check best). */
export const JSON_SCHEMA_DRAFT = 'http://json-schema.org/draft-07/schema#';

/** TypeBox types that have no JSON form (a file can never hold such a value). */
const NON_JSON_TYPES = new Set(['undefined', 'void', 'bigint', 'symbol', 'function', 'constructor', 'Uint8Array', 'Date', 'never']);
const JSON_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);

/** Keys whose value is a map of name -> schema. */
const SCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];
/** Keys whose value is a schema. */
const SCHEMA_KEYS = ['additionalProperties', 'items', 'additionalItems', 'contains', 'propertyNames', 'not', 'if', 'then', 'else', 'unevaluatedProperties', 'unevaluatedItems'];
/** Keys whose value is a list of schemas. */
const SCHEMA_LISTS = ['anyOf', 'oneOf', 'allOf', 'prefixItems'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON Pointer escaping of one key (`a/b` -> `a~1b`). */
export function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Call `visit` on every schema node under `node` (children first), with a replacer for the node. */
function mapSchemas(node: JsonSchema, visit: (node: Record<string, unknown>) => JsonSchema): JsonSchema {
  if (!isObject(node)) return node;
  for (const key of SCHEMA_MAPS) {
    const map = node[key];
    if (!isObject(map)) continue;
    for (const name of Object.keys(map)) map[name] = mapSchemas(map[name] as JsonSchema, visit);
  }
  for (const key of SCHEMA_KEYS) {
    const child = node[key];
    if (Array.isArray(child)) node[key] = child.map((c) => mapSchemas(c as JsonSchema, visit)); // draft-07 tuple items
    else if (isObject(child) || typeof child === 'boolean') node[key] = mapSchemas(child, visit);
  }
  for (const key of SCHEMA_LISTS) {
    const list = node[key];
    if (Array.isArray(list)) node[key] = list.map((c) => mapSchemas(c as JsonSchema, visit));
  }
  const deps = node.dependencies;
  if (isObject(deps)) for (const name of Object.keys(deps)) if (!Array.isArray(deps[name])) deps[name] = mapSchemas(deps[name] as JsonSchema, visit);
  return visit(node);
}

/** The node a `#/a/b` pointer names inside `root`, or undefined. */
function resolvePointer(root: JsonSchema, pointer: string): JsonSchema | undefined {
  let node: unknown = root;
  for (const raw of pointer.replace(/^#\/?/, '').split('/').filter((p) => p !== '')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) node = node[Number(key)];
    else if (isObject(node)) node = node[key];
    else return undefined;
  }
  return isObject(node) || typeof node === 'boolean' ? node : undefined;
}

/**
 * Turn a TypeBox (or any JSON) schema into a self-contained draft-07 piece
 * that can live inside a bigger document:
 *
 * - TypeBox's own markers (`~kind`, non-enumerable or `~`-prefixed keys) and
 *   any nested `$schema` are dropped;
 * - types with no JSON form (`undefined`, `bigint`, `Date`, ...) become
 *   `false` (a file cannot hold them);
 * - every `$id` is removed, and every `$ref` (to a `#/...` pointer of the
 *   schema, or to an `$id` inside it, as `Type.Ref`/`Type.Cyclic` make) is
 *   rewritten to `#/definitions/<key>` where `<key>` starts with `key`, the
 *   target stored in `definitions`. So two modules may both use `$id: 'Node'`
 *   or `$defs.Options` without clashing. A `$ref` that points outside the
 *   schema cannot be resolved offline: it becomes `{}` (anything) with a
 *   `$comment` saying so.
 *
 * Returns the root of the piece (also stored as `definitions[key]` when the
 * schema refers to its own root).
 */
export function portableSchema(schema: unknown, key: string, definitions: Record<string, JsonSchema>): JsonSchema {
  // A JSON round trip drops TypeBox's non-enumerable markers, functions and undefined values.
  const clone = JSON.parse(JSON.stringify(schema ?? {})) as JsonSchema;
  if (!isObject(clone)) return clone;
  delete clone.$schema;

  // Every $id inside the schema: refs by id (TypeBox's Type.Ref) are resolved through these.
  const byId = new Map<string, Record<string, unknown>>();
  mapSchemas(clone, (node) => {
    if (typeof node.$id === 'string') byId.set(node.$id, node);
    return node;
  });

  const wanted = new Map<string, () => JsonSchema | undefined>();
  const root = mapSchemas(clone, (node) => {
    for (const k of Object.keys(node)) if (k.startsWith('~') || (k === '$schema' && node !== clone)) delete node[k];
    delete node.$id;
    const type = node.type;
    if (typeof type === 'string' && !JSON_TYPES.has(type)) {
      if (NON_JSON_TYPES.has(type)) return false;
    }
    if (Array.isArray(type)) node.type = type.filter((t) => JSON_TYPES.has(String(t)));
    const ref = node.$ref;
    if (typeof ref === 'string') {
      let target: string | undefined;
      if (ref === '#' || ref.startsWith('#/')) {
        const path = ref.slice(2).split('/').filter(Boolean).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
        target = path.length ? `${key}.${path.join('.')}` : key;
        const pointer = ref;
        if (!wanted.has(target)) wanted.set(target, () => resolvePointer(clone, pointer));
      } else if (byId.has(ref)) {
        target = `${key}.${ref}`;
        const node = byId.get(ref)!;
        if (!wanted.has(target)) wanted.set(target, () => node);
      }
      if (target) {
        node.$ref = `#/definitions/${escapePointer(target)}`;
      } else {
        delete node.$ref;
        node.$comment = `${ref} is outside this schema and is not checked here`;
      }
    }
    return node;
  });
  // Definitions are kept only when referred to (their refs were rewritten above, in place).
  for (const [target, find] of wanted) {
    const node = target === key ? root : find();
    definitions[target] = node ?? {};
  }
  if (isObject(root)) {
    delete root.$defs;
    delete root.definitions;
  }
  mapSchemas(root, (node) => {
    delete node.$defs;
    delete node.definitions;
    return node;
  });
  for (const target of wanted.keys()) {
    mapSchemas(definitions[target]!, (node) => {
      delete node.$defs;
      delete node.definitions;
      return node;
    });
  }
  return root;
}
