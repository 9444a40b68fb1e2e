// saliencam's command line. Every failure a user can cause ends as one line on stderr and a documented exit
// code (README: Exit codes); a stack trace means a bug.
import { Command, CommanderError } from 'commander';
import { EXIT, UserError, oneLine } from '../errors.js';
import { terminalSafe, terminalSafeLines } from '../terminal-text.js';
import { auditCommand } from './audit.js';
import { benchCommand } from './bench.js';
import { explainCommand } from './explain.js';
import { fleetCommand } from './fleet.js';
import { exportCommand } from './export.js';
import { infoCommand } from './info.js';
import { serveCommand } from './serve.js';
import { soakCommand } from './soak.js';

/** Commander's own errors (bad flags) in the same one-line form as ours. */
// Commander quotes the user's words (an unknown command, a bad value): escaped like every echoed input.
const OUTPUT = { writeErr: (s: string) => process.stderr.write(terminalSafeLines(s.startsWith('error:') ? `saliencam: ${s}` : s)) };

export function buildProgram(): Command {
  const program = new Command('saliencam')
    .description('Real-time, explainable perception for driving footage')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput(OUTPUT);
  for (const make of COMMANDS) program.addCommand(make().exitOverride().configureOutput(OUTPUT));
  return program;
}

const COMMANDS: (() => Command)[] = [
  auditCommand,
  benchCommand,
  explainCommand,
  exportCommand,
  fleetCommand,
  infoCommand,
  serveCommand,
  soakCommand,
];

export async function run(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return process.exitCode === undefined ? EXIT.ok : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version "fail" with exit code 0; commander already printed the message.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof UserError) {
      // The message names files, topics and classes from the input: escaped whole, one line however named.
      process.stderr.write(`saliencam: ${terminalSafe(err.message.trim()) || 'unknown error'}\n`);
      return err.exitCode;
    }
    process.stderr.write(`saliencam: internal error: ${terminalSafe(oneLine(err))}\n`);
    if (process.env['SALIENCAM_DEBUG']) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    return EXIT.internal;
  }
}
