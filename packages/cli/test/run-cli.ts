import { describeFailure, main } from '../src/main.js';

/** Runs the CLI in-process as bin.ts does: the exit code and the text printed (output or error). */
export async function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  try {
    const code = await main(args, (s) => lines.push(s), env);
    return { code, out: lines.join('\n') };
  } catch (error) {
    const { message, exitCode } = describeFailure(error);
    return { code: exitCode, out: message };
  }
}
