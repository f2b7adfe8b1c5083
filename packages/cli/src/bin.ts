#!/usr/bin/env node
import { describeFailure, main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const { message, exitCode } = describeFailure(error);
    process.stderr.write(`kcl: ${message}\n`);
    process.exit(exitCode);
  },
);
