import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { ErrorCodes } from '@sisyphus/core';

describe('docs/errors.md', () => {
  it('documents exactly the codes in ErrorCodes, once each', async () => {
    const doc = await readFile(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const documented = doc
      .split('\n')
      .map((line) => /^\|\s*`(SIS_[A-Z_]+)`\s*\|/.exec(line)?.[1])
      .filter((c): c is string => c !== undefined);
    expect([...documented].sort()).toEqual(Object.values(ErrorCodes).sort());
    expect(new Set(documented).size).toBe(documented.length);
  });

  it('every code is a distinct SIS_ string', () => {
    const codes = Object.values(ErrorCodes);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^SIS_[A-Z_]+$/);
  });
});
