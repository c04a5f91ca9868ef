#!/usr/bin/env node
import { main } from './main.js';

const code = await main(process.argv.slice(2));
process.exitCode = code;
// Nothing should keep us alive now; if something does, do not hang the shell.
setTimeout(() => process.exit(code), 3000).unref();
