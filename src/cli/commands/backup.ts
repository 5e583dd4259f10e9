// CLI: back up a data directory while it runs, and restore a backup into a data directory.
import type { Command } from 'commander';
import path from 'node:path';
import type { BackupManifest } from '../../platform/index.ts';
import { configFrom, printNote } from '../context.ts';
import { printResult } from '../output.ts';

interface RestoreFlags {
  force?: boolean;
}

export function registerBackupCommands(program: Command): void {
  program
    .command('backup <dir>')
    .description(
      'back up the data directory into <dir> (new or empty): both databases as consistent snapshots, the CA (pki/) and the noise secret (secrets/); safe while the server runs and uploads arrive',
    )
    .action(async (dir: string, _flags: unknown, command: Command) => {
      const { dataDir } = await configFrom(command);
      const target = path.resolve(dir);
      const { backupDataDir } = await import('../../platform/index.ts');
      const manifest = await backupDataDir(dataDir, target);
      printResult(summary(target, manifest));
      printNote(
        `Backed up ${dataDir} into ${target}. It holds the noise secret and the CA key: keep it as private as the data directory.`,
      );
    });

  program
    .command('restore <dir>')
    .description(
      'restore a backup written by `opencloak backup` into the data directory; the server must be stopped',
    )
    .option(
      '--force',
      'restore into a data directory that is not empty: deletes its air.db, cloak.db, pki/ and secrets/ first',
    )
    .action(async (dir: string, flags: RestoreFlags, command: Command) => {
      const { dataDir } = await configFrom(command);
      const source = path.resolve(dir);
      const { restoreDataDir } = await import('../../platform/index.ts');
      const manifest = restoreDataDir(source, dataDir, { force: flags.force === true });
      printResult(summary(source, manifest));
      printNote(`Restored ${source} into ${dataDir}. Start the server with \`opencloak start\`.`);
    });
}

function summary(dir: string, manifest: BackupManifest) {
  const files = manifest.files.filter((f) => f.kind === 'file');
  return {
    backup: dir,
    created: manifest.created,
    source: manifest.source,
    files: files.length,
    bytes: files.reduce((sum, f) => sum + (f.bytes ?? 0), 0),
  };
}
