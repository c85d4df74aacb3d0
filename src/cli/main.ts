// The `opera` binary: every role and every user command, through clipanion.
// Exit codes: 0 success, 1 a failed operation, 2 bad usage.
import { Builtins, Cli } from 'clipanion';
import { commands } from './commands/index.js';

const [, , ...args] = process.argv;
const cli = new Cli({ binaryLabel: 'Space Opera', binaryName: 'opera', binaryVersion: '0.1.0', enableCapture: false });
cli.register(Builtins.HelpCommand);
cli.register(Builtins.VersionCommand);
for (const c of commands) cli.register(c);

let command;
try {
  command = cli.process(args);
} catch (err) {
  process.stderr.write(cli.error(err as Error));
  process.exit(2);
}
if (command.help) {
  process.stdout.write(cli.usage(command, { detailed: true }));
  process.exit(0);
}
command.context = { ...Cli.defaultContext, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, colorDepth: 1, env: process.env };
command.cli = cli;
command.validateAndExecute().then(
  (code) => { process.exitCode = code; },
  (err: Error) => {
    process.stderr.write(cli.error(err));
    process.exitCode = 2;
  },
);
