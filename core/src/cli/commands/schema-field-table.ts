import { portableSchema, type JsonSchema } from '../../job/portable-schema.js';

/** One row of a field table: a field of a schema, named by its path. */
export interface SchemaField {
  /** Dotted path: `a.b` for nested objects, `a[]` for array items, `a.<key>` for map values. */
  name: string;
  /** `string`, `integer >= 0`, `"v"|"a"`, `object[]`, ... */
  type: string;
  /** `yes`/`no` for object fields; empty for array items and map values. */
  required: string;
  /** The default as JSON, or empty. */
  default: string;
  description: string;
}

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

function resolve(node: unknown, defs: Record<string, JsonSchema>, stack: readonly string[]): { node: Node | undefined; ref?: string } {
  if (!isNode(node)) return { node: node === true ? {} : undefined };
  if (typeof node.$ref !== 'string') return { node };
  const ref = node.$ref;
  if (stack.includes(ref)) return { node: undefined, ref };
  const key = ref.replace(/^#\/definitions\//, '').replace(/~1/g, '/').replace(/~0/g, '~');
  const target = resolve(defs[key], defs, [...stack, ref]);
  // Annotations beside the $ref (description) win over the target's.
  return { node: target.node ? { ...target.node, ...Object.fromEntries(Object.entries(node).filter(([k]) => k !== '$ref')) } : undefined, ref };
}

function bounds(node: Node): string {
  const parts: string[] = [];
  if (typeof node.minimum === 'number') parts.push(`>= ${node.minimum}`);
  if (typeof node.exclusiveMinimum === 'number') parts.push(`> ${node.exclusiveMinimum}`);
  if (typeof node.maximum === 'number') parts.push(`<= ${node.maximum}`);
  if (typeof node.exclusiveMaximum === 'number') parts.push(`< ${node.exclusiveMaximum}`);
  return parts.length ? ` ${parts.join(' ')}` : '';
}

function typeLabel(raw: unknown, defs: Record<string, JsonSchema>, stack: readonly string[], inUnion = false): string {
  const { node, ref } = resolve(raw, defs, stack);
  if (!node) return ref ? ref.split(/[/.:]/).pop()! : 'never';
  const next = ref ? [...stack, ref] : stack;
  if ('const' in node) return JSON.stringify(node.const);
  if (Array.isArray(node.enum)) return node.enum.map((v) => JSON.stringify(v)).join('|');
  for (const k of ['anyOf', 'oneOf'] as const) {
    if (Array.isArray(node[k])) return [...new Set((node[k] as unknown[]).map((b) => typeLabel(b, defs, next, true)))].join('|');
  }
  const types = typeof node.type === 'string' ? [node.type] : Array.isArray(node.type) ? node.type.map(String) : [];
  if (!types.length) return 'any';
  const labels = types.map((t) => {
    if (t === 'array') {
      if (node.items === undefined || Array.isArray(node.items)) return 'array';
      const item = typeLabel(node.items, defs, next, true);
      return item.includes('|') ? `(${item})[]` : `${item}[]`;
    }
    return t === 'integer' || t === 'number' ? `${t}${inUnion || types.length > 1 ? '' : bounds(node)}` : t;
  });
  return labels.join('|');
}

/** Object shapes a value may take: the node itself and the object branches of its unions. */
function shapes(node: Node, defs: Record<string, JsonSchema>, stack: readonly string[]): Array<{ node: Node; stack: readonly string[] }> {
  const out: Array<{ node: Node; stack: readonly string[] }> = [{ node, stack }];
  for (const k of ['anyOf', 'oneOf', 'allOf'] as const) {
    if (!Array.isArray(node[k])) continue;
    for (const branch of node[k] as unknown[]) {
      const r = resolve(branch, defs, stack);
      if (r.node) out.push(...shapes(r.node, defs, r.ref ? [...stack, r.ref] : stack));
    }
  }
  return out;
}

function walk(raw: unknown, path: string, required: string, defs: Record<string, JsonSchema>, stack: readonly string[], rows: SchemaField[], row = true): void {
  const { node, ref } = resolve(raw, defs, stack);
  if (path && row) {
    rows.push({
      name: path,
      type: typeLabel(raw, defs, stack),
      required,
      default: node && 'default' in node ? JSON.stringify(node.default) : '',
      description: typeof node?.description === 'string' ? node.description : '',
    });
  }
  if (!node) return;
  const here = ref ? [...stack, ref] : stack;
  const join = (key: string) => (path ? `${path}.${key}` : key);
  for (const shape of shapes(node, defs, here)) {
    const n = shape.node;
    const req = new Set(Array.isArray(n.required) ? n.required.map(String) : []);
    if (isNode(n.properties)) {
      for (const [key, child] of Object.entries(n.properties)) walk(child, join(key), req.has(key) ? 'yes' : 'no', defs, shape.stack, rows);
    }
    if (isNode(n.patternProperties)) {
      for (const child of Object.values(n.patternProperties)) walk(child, join('<key>'), '', defs, shape.stack, rows);
    }
    if (isNode(n.additionalProperties)) walk(n.additionalProperties, join('<key>'), '', defs, shape.stack, rows);
    if (isNode(n.items)) {
      const item = resolve(n.items, defs, shape.stack);
      const itemStack = item.ref ? [...shape.stack, item.ref] : shape.stack;
      // Rows for the fields of object items (the list's own row says object[]); a list of plain values is said by its type (string[]).
      if (item.node && shapes(item.node, defs, itemStack).some((s) => isNode(s.node.properties) || isNode(s.node.patternProperties))) {
        const objectsOnly = typeLabel(n.items, defs, shape.stack) === 'object';
        walk(n.items, `${path}[]`, '', defs, shape.stack, rows, !objectsOnly);
      }
    }
  }
}

/** The fields of a (TypeBox or JSON) schema, depth first, for `sisyphus modules NAME`. */
export function schemaFields(schema: unknown): SchemaField[] {
  const defs: Record<string, JsonSchema> = {};
  const root = portableSchema(schema, 'root', defs);
  const rows: SchemaField[] = [];
  walk(root, '', '', { ...defs, root }, [], rows);
  // A union may list the same field twice (two object branches): keep the first.
  const seen = new Set<string>();
  return rows.filter((r) => (seen.has(r.name) ? false : (seen.add(r.name), true)));
}

/** Greedy word wrap to `width`; `breakAfter` also allows breaks after these characters. Long words are cut. */
export function wrapText(text: string, width: number, breakAfter = ''): string[] {
  if (width <= 0 || text.length <= width) return [text];
  const pieces: string[] = [];
  let word = '';
  for (const ch of text) {
    word += ch;
    if (ch === ' ' || breakAfter.includes(ch)) {
      pieces.push(word);
      word = '';
    }
  }
  if (word) pieces.push(word);
  const lines: string[] = [];
  let line = '';
  for (let piece of pieces) {
    if ((line + piece).trimEnd().length <= width) {
      line += piece;
      continue;
    }
    if (line.trim()) lines.push(line.trimEnd());
    line = '';
    while (piece.trimEnd().length > width) {
      lines.push(piece.slice(0, width));
      piece = piece.slice(width);
    }
    line = piece;
  }
  if (line.trim()) lines.push(line.trimEnd());
  return lines;
}

/**
 * The fields as a table fitted to `width` columns: NAME, TYPE, REQUIRED,
 * DEFAULT, DESCRIPTION. Long types wrap at `|`, descriptions at spaces; when
 * the description column would be narrower than 24, descriptions go on their
 * own indented line under each row.
 */
export function formatFieldTable(fields: readonly SchemaField[], width: number): string {
  if (!fields.length) return '(no fields)\n';
  const head: SchemaField = { name: 'FIELD', type: 'TYPE', required: 'REQUIRED', default: 'DEFAULT', description: 'DESCRIPTION' };
  const all = [head, ...fields];
  const nameW = Math.max(...all.map((f) => f.name.length));
  const typeW = Math.min(Math.max(...all.map((f) => f.type.length)), 28);
  const reqW = head.required.length;
  const defW = Math.min(Math.max(...all.map((f) => f.default.length)), 16);
  const gap = '  ';
  const fixed = nameW + typeW + reqW + defW + gap.length * 4;
  const descW = width - fixed;
  const below = descW < 24;
  const out: string[] = [];
  for (const f of all) {
    const cells = [[f.name], wrapText(f.type, typeW, '|'), [f.required], wrapText(f.default, defW, ',')];
    const desc = f === head && below ? [] : wrapText(f.description, below ? Math.max(width - 6, 20) : descW);
    if (!below) cells.push(desc);
    const height = Math.max(...cells.map((c) => c.length), 1);
    const widths = [nameW, typeW, reqW, defW];
    for (let i = 0; i < height; i++) {
      const parts = cells.map((c, j) => (j < widths.length ? (c[i] ?? '').padEnd(widths[j]!) : c[i] ?? ''));
      out.push(parts.join(gap).trimEnd());
    }
    if (below) for (const line of desc) if (line) out.push(`      ${line}`);
  }
  return `${out.join('\n')}\n`;
}
