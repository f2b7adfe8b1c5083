#!/usr/bin/env node
// `kcl-local`: runs the local Kinesis + DynamoDB stack until interrupted.
import { CLI_USAGE, CliUsageError, formatStackBanner, parseCliArgs } from './cli-args.js';
import { startLocalStack } from './stack.js';

// The AWS SDK's notice that its 2027 releases need Node 22 would open every run on Node 20
// (the README says it once); its own switch, inherited by child processes, turns it off.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

async function main(argv: readonly string[]): Promise<number> {
  let command;
  try {
    command = parseCliArgs(argv);
  } catch (err) {
    if (err instanceof CliUsageError) {
      process.stderr.write(`kcl-local: ${err.message}\n\n${CLI_USAGE}`);
      return 2;
    }
    throw err;
  }
  if (command.command === 'help') {
    process.stdout.write(CLI_USAGE);
    return 0;
  }

  let stack;
  try {
    stack = await startLocalStack(command.options);
  } catch (err) {
    if (err instanceof TypeError) {
      process.stderr.write(`kcl-local: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`kcl-local: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  // The emulators do not keep this process alive on their own (they are unref'd), so hold
  // it open until a signal arrives. A second signal exits at once. The handlers are installed
  // before the banner tells anyone to press Ctrl-C: a signal sent as soon as the banner is
  // read must not meet the default handler (which kills the process without stopping).
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  process.stdout.write(`${formatStackBanner(stack)}\n`);
  const signal = await stopSignal;
  const forceExit = (): void => process.exit(130);
  process.once('SIGINT', forceExit);
  process.once('SIGTERM', forceExit);
  process.stdout.write(`\n${signal}: stopping the local stack...\n`);
  try {
    await stack.stop();
  } finally {
    clearInterval(keepAlive);
  }
  process.stdout.write('stopped\n');
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`kcl-local: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
