/**
 * Imported first by the entry points: the AWS SDK emits a NodeVersionSupportWarning in every
 * process on Node 20 when it loads; the benchmark report states the Node version instead.
 * Every other warning is printed as usual.
 * @module
 */
const listeners = process.listeners('warning');
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name === 'NodeVersionSupportWarning') return;
  for (const listener of listeners) listener(warning);
});
export {};
