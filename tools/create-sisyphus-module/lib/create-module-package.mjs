import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScaffoldError } from './scaffold-error.mjs';
import { VERSIONS } from './versions.mjs';
import { camelCase, checkModuleName, checkPackageName, moduleNameFor, pascalCase } from './package-names.mjs';

const TEMPLATES = fileURLToPath(new URL('../templates/', import.meta.url));

/** Where a template file goes: `.tmpl` dropped, `__MODULE_NAME__` filled, `gitignore` -> `.gitignore` (npm drops `.gitignore` from tarballs). */
function targetName(templatePath, moduleName) {
  const path = templatePath.replace(/\.tmpl$/, '').split('__MODULE_NAME__').join(moduleName);
  return path === 'gitignore' ? '.gitignore' : path;
}

function fill(text, values) {
  return text.replace(/__(PACKAGE_NAME|MODULE_NAME|PASCAL_NAME|CAMEL_NAME|CORE_VERSION)__/g, (_, key) => values[key]);
}

/** The generated package.json (built as an object so versions stay exact). */
function packageJson(packageName, moduleName, devDependencies) {
  return {
    name: packageName,
    version: '0.1.0',
    description: `Sisyphus task module "${moduleName}"`,
    type: 'module',
    main: './dist/index.js',
    types: './dist/index.d.ts',
    exports: {
      '.': { types: './dist/index.d.ts', default: './dist/index.js' },
      './package.json': './package.json',
    },
    files: ['dist', 'tool'],
    keywords: ['sisyphus-plugin'],
    scripts: {
      build: 'tsc',
      test: 'tsc -p test && vitest run',
      prepack: 'npm run build',
    },
    dependencies: { typebox: VERSIONS.typebox },
    peerDependencies: { '@sisyphus/core': `^${VERSIONS.core}` },
    devDependencies: {
      '@sisyphus/core': `^${VERSIONS.core}`,
      '@types/node': VERSIONS.typesNode,
      typescript: VERSIONS.typescript,
      vitest: VERSIONS.vitest,
      ...devDependencies,
    },
    engines: { node: VERSIONS.node },
    devEngines: { runtime: { name: 'node', version: VERSIONS.devNode, onFail: 'warn' } },
  };
}

async function templateFiles(dir = TEMPLATES) {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(TEMPLATES, join(e.parentPath ?? e.path, e.name)).split(sep).join('/'))
    .sort();
}

/**
 * Write a new module package `packageName` into `parentDir` (folder: the
 * name without its scope, or `options.dir`): package.json, tsconfig, a
 * module with its schema, a test through `@sisyphus/core/testing`, a
 * README, a worker config that loads the package and a sample job. Refuses
 * a bad package or module name and an existing non-empty folder with a
 * {@link ScaffoldError}.
 *
 * @param {string} parentDir folder to create the package in
 * @param {string} packageName npm package name, e.g. `sisyphus-module-thumbs`
 * @param {import('./index.d.mts').CreateModuleOptions} [options]
 * @returns {Promise<import('./index.d.mts').CreatedModulePackage>}
 */
export async function createModulePackage(parentDir, packageName, options = {}) {
  checkPackageName(packageName);
  const moduleName = options.moduleName ?? moduleNameFor(packageName);
  checkModuleName(moduleName);
  const dir = resolve(parentDir, options.dir ?? basename(packageName));
  const existing = await readdir(dir).catch((error) => {
    if (error.code === 'ENOENT') return [];
    throw new ScaffoldError(`cannot use ${dir}: ${error.code === 'ENOTDIR' ? 'it is a file' : error.message}`);
  });
  if (existing.length) throw new ScaffoldError(`${dir} already exists and is not empty: choose another NAME or --dir`);

  const values = {
    PACKAGE_NAME: packageName,
    MODULE_NAME: moduleName,
    PASCAL_NAME: pascalCase(moduleName),
    CAMEL_NAME: camelCase(moduleName),
    CORE_VERSION: VERSIONS.core,
  };
  const files = [];
  const put = async (rel, content) => {
    await mkdir(dirname(join(dir, rel)), { recursive: true });
    await writeFile(join(dir, rel), content, { flag: 'wx' });
    files.push(rel);
  };
  await put('package.json', `${JSON.stringify(packageJson(packageName, moduleName, options.devDependencies ?? {}), null, 2)}\n`);
  for (const template of await templateFiles()) {
    await put(targetName(template, moduleName), fill(await readFile(join(TEMPLATES, template), 'utf8'), values));
  }
  return { dir, packageName, moduleName, files: files.sort() };
}
