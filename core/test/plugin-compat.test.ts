import { describe, expect, it } from 'vitest';
import { ConfigError, ErrorCodes, TOKENS, Type, defineModule, definePlugin, type Plugin } from '@sisyphus/core';
import { buildRegistry } from '@sisyphus/core/config';
import { CORE_VERSION, compatibleRange, coreVersionsCompatible } from '../src/version/version.js';

const [major, minor, patch] = CORE_VERSION.split('.').map(Number) as [number, number, number];

function refusal(plugin: Plugin, source = './p.mjs'): ConfigError {
  try {
    buildRegistry([{ plugin, source }]);
  } catch (error) {
    return error as ConfigError;
  }
  throw new Error('expected SIS_PLUGIN_INCOMPATIBLE');
}

const echo = defineModule({ name: 'echo', schema: Type.Object({}), setup: (ctx) => ({ run: () => ctx.logger.info('echo') }) });
const built = (coreVersion: string): Plugin => ({ ...definePlugin({ name: 'p', version: '1.0.0', modules: [echo] }), coreVersion });

describe('core version compatibility follows caret (^) semantics', () => {
  it.each([
    ['1.2.0', '1.9.3', true],
    ['1.9.3', '1.2.0', true],
    ['2.0.0', '1.0.0', false],
    ['0.1.0', '0.1.7', true],
    ['0.9.0', '0.1.0', false],
    ['0.1.0', '0.2.0', false],
    ['0.0.3', '0.0.3', true],
    ['0.0.3', '0.0.4', false],
    ['0.1.0-beta.2', '0.1.0', true],
    ['not a version', '0.1.0', false],
  ] as const)('built for %s, running %s: %s', (a, b, ok) => {
    expect(coreVersionsCompatible(a, b)).toBe(ok);
  });

  it('names the range a plugin must be rebuilt for', () => {
    expect([compatibleRange('1.4.2'), compatibleRange('0.3.1'), compatibleRange('0.0.4')]).toEqual(['1.x', '0.3.x', '0.0.4']);
  });

  it('a plugin built for another 0.x minor is refused at load; another patch of the same minor is accepted', () => {
    const other = major === 0 ? `0.${minor + 8}.0` : `${major + 1}.0.0`;
    const e = refusal(built(other));
    expect(e.code).toBe(ErrorCodes.PLUGIN_INCOMPATIBLE);
    expect(e.message).toBe(`plugin p (./p.mjs) was built for @sisyphus/core ${other}, but this is ${CORE_VERSION}: rebuild it against core ${compatibleRange(CORE_VERSION)}`);
    expect(buildRegistry([{ plugin: built(`${major}.${minor}.${patch + 7}`), source: './p.mjs' }]).names()).toEqual(['echo']);
  });
});

describe('a plugin defined with another copy of the core (another DI container)', () => {
  /** The stamps `definePlugin` of another copy leaves: its folder and its own DI root. */
  const fromOtherCopy = (modules: Plugin['modules']): Plugin => {
    const plugin = { ...definePlugin({ name: 'other', version: '1.0.0', modules }), coreLocation: '/elsewhere/node_modules/@sisyphus/core' };
    Object.defineProperty(plugin, Symbol.for('sisyphus:plugin-di'), { value: {}, enumerable: false });
    return plugin;
  };
  class Decorated {
    run() {}
  }
  class Listed {
    static inject = [TOKENS.Logger];
    run() {}
  }

  it('is refused when it has a decorated class module, naming the plugin, the module and both cores', () => {
    const e = refusal(fromOtherCopy([defineModule({ name: 'dec', schema: Type.Object({}), task: Decorated }), echo]), '/srv/plugins/other');
    expect(e.code).toBe(ErrorCodes.PLUGIN_INCOMPATIBLE);
    expect(e.message).toMatch(/^plugin other \(\/srv\/plugins\/other\) was defined with another copy of @sisyphus\/core \(\/elsewhere\/node_modules\/@sisyphus\/core\) than the one running \(\/.+\/core\); its class module "dec" uses decorators/);
    expect(e.message).toContain('npm dedupe');
    expect(e.message).toContain('static inject');
  });

  it('loads when its classes list their tokens in `static inject` and the rest are setup modules', () => {
    const registry = buildRegistry([{ plugin: fromOtherCopy([defineModule({ name: 'listed', schema: Type.Object({}), task: Listed }), echo]), source: './o' }]);
    expect(registry.names()).toEqual(['echo', 'listed']);
  });

  it('a plugin of this copy with a decorated class loads', () => {
    const registry = buildRegistry([{ plugin: definePlugin({ name: 'mine', version: '1.0.0', modules: [defineModule({ name: 'dec', schema: Type.Object({}), task: Decorated })] }), source: './m' }]);
    expect(registry.names()).toEqual(['dec']);
  });
});
