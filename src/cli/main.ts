// Entry point of the `opencloak` command line: global options and the command groups.
//
// Registering the commands loads only commander and the command files; each action imports the
// parts it uses (the platform, the configuration's schema, the air) when it runs, so `--help`
// parses a few hundred kilobytes, not the server's megabytes (docs/cli.md, "Compiled, not
// interpreted"; test/cli/build.test.ts keeps it so).
import { Command, CommanderError } from 'commander';
import { AppError, diskFullError } from '../errors/index.ts';
import { registerAuditCommands } from './commands/audit.ts';
import { registerBackupCommands } from './commands/backup.ts';
import { registerBudgetCommand } from './commands/budget.ts';
import { registerDemoCommand } from './commands/demo.ts';
import { registerImportCommand } from './commands/import.ts';
import { registerKeyCommands } from './commands/key.ts';
import { registerOrgCommands } from './commands/org.ts';
import { registerServiceKeyCommands } from './commands/service-key.ts';
import { registerStartCommand } from './commands/start.ts';
import { registerTableCommands } from './commands/table.ts';
import { registerTaskCommands } from './commands/task.ts';
import { registerWorkerCommand } from './commands/worker.ts';
import { jsonOutput, printJsonOutput } from './output.ts';

/**
 * Exit codes, stable for scripts (docs/cli.md): 0 done; 1 an unexpected failure (a bug: the
 * stack trace is on stderr); 2 refused, the request or the configuration was wrong or not
 * allowed (one line saying what to fix; with --json an error object); 64 the command line
 * itself was wrong (unknown command or option, missing argument: EX_USAGE of sysexits.h).
 */
const EXIT_FAILURE = 1;
const EXIT_REFUSED = 2;
const EXIT_USAGE = 64;

const program = new Command()
  .name('opencloak')
  .description('OpenCloak: privacy-preserving analytics over per-user data')
  .option('--data-dir <dir>', 'data directory of the installation', process.env.OPENCLOAK_DATA_DIR)
  .option('--config <file>', 'JSON configuration file', process.env.OPENCLOAK_CONFIG)
  .option(
    '--store <address>',
    'database of the installation: postgres://... (server mode) or a SQLite file; default: the data directory',
    process.env.OPENCLOAK_STORE,
  )
  .option('--json', 'print the answer as one JSON document (and errors as JSON on stderr)')
  .showHelpAfterError()
  .exitOverride()
  .hook('preAction', (_program, action) => {
    printJsonOutput(action.optsWithGlobals().json === true);
  });

registerStartCommand(program);
registerWorkerCommand(program);
registerDemoCommand(program);
registerOrgCommands(program);
registerKeyCommands(program);
registerServiceKeyCommands(program);
registerTableCommands(program);
registerImportCommand(program);
registerTaskCommands(program);
registerBudgetCommand(program);
registerAuditCommands(program);
registerBackupCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (thrown) {
  // A full disk is the operator's to fix, not a bug: one line, like the catalogue's other errors.
  const error = diskFullError(thrown, 'OpenCloak could not write to its data directory.') ?? thrown;
  if (error instanceof CommanderError) {
    // Help and --version end here too, with exit code 0; commander has printed the message.
    process.exitCode = error.exitCode === 0 ? 0 : EXIT_USAGE;
  } else if (
    error instanceof AppError ||
    // The configuration's module (and its schema) loads here, on an error, not on every start.
    error instanceof (await import('../config/index.ts')).ConfigError
  ) {
    // A configuration error has no catalogue code: its message names the setting. An AppError
    // gets the catalogue's command-line form: it names commands to run, not HTTP endpoints.
    const code = error instanceof AppError ? { code: error.code } : {};
    const message = error instanceof AppError ? error.cliMessage : error.message;
    process.stderr.write(
      jsonOutput()
        ? `${JSON.stringify({ success: false, ...code, error: message })}\n`
        : `error: ${message}\n`,
    );
    process.exitCode = EXIT_REFUSED;
  } else {
    process.stderr.write(`error: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = EXIT_FAILURE;
  }
}
