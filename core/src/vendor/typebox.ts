// The parts of TypeBox the core uses at run time. `npm run build` replaces
// the compiled file with a single-file bundle (scripts/bundle-vendor.mjs):
// TypeBox is ~540 small ES modules, and loading them one by one cost the
// CLI about 160 ms of start-up on every job.
export { default as Type } from 'typebox';
export { Check, Compile, Errors } from 'typebox/schema';
