export { createModulePackage } from './create-module-package.mjs';
export { checkPackageName, checkModuleName, moduleNameFor } from './package-names.mjs';
export { ScaffoldError } from './scaffold-error.mjs';
export { VERSIONS } from './versions.mjs';
