// Entry point of the `opencloak` command line: global options and the command groups.
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/index.ts';
import { AppError, diskFullError } from '../errors/index.ts';
import { registerAuditCommands } from './commands/audit.ts';
import { registerBackupCommands } from './commands/backup.ts';
import { registerBudgetCommand } from './commands/budget.ts';
import { registerDemoCommand } from './commands/demo.ts';
import { registerImportCommand } from './commands/import.ts';
import { registerKeyCommands } from './commands/key.ts';
import { registerOrgCommands } from './commands/org.ts';
import { registerStartCommand } from './commands/start.ts';
import { registerTableCommands } from './commands/table.ts';
import { registerTaskCommands } from './commands/task.ts';
import { stopWhenParentEnds } from './parent-watch.ts';

const program = new Command()
  .name('opencloak')
  .description('OpenCloak: privacy-preserving analytics over per-user data')
  .option('--data-dir <dir>', 'data directory of the installation', process.env.OPENCLOAK_DATA_DIR)
  .option('--config <file>', 'JSON configuration file', process.env.OPENCLOAK_CONFIG)
  .showHelpAfterError()
  .exitOverride();

stopWhenParentEnds();

registerStartCommand(program);
registerDemoCommand(program);
registerOrgCommands(program);
registerKeyCommands(program);
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
    process.exitCode = error.exitCode;
  } else if (error instanceof AppError) {
    // The catalogue's command-line form: it names commands to run, not HTTP endpoints.
    process.stderr.write(`error: ${error.cliMessage}\n`);
    process.exitCode = 2;
  } else if (error instanceof ConfigError) {
    process.stderr.write(`error: ${error.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`error: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  }
}
