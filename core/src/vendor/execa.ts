// execa, bundled into one file by `npm run build` (scripts/bundle-vendor.mjs)
// for the same start-up reason as vendor/typebox.ts.
export { execa } from 'execa';
