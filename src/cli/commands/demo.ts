// CLI: the one-command demo (fresh installation, synthetic users, example tasks, curl command).
import type { Command } from 'commander';

interface DemoFlags {
  users: string;
  webPort: string;
  cloakPort: string;
  exit?: boolean;
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('start a fresh demo installation with synthetic users and example tasks')
    .option('--users <n>', 'number of synthetic users', '10000')
    .option('--web-port <port>', 'web REST API port', '8443')
    .option('--cloak-port <port>', 'cloak API port', '8444')
    .option('--exit', 'stop after printing the results instead of serving until Ctrl-C')
    .action(async (flags: DemoFlags, command: Command) => {
      const globals = command.optsWithGlobals() as { dataDir?: string };
      const { runDemo } = await import('../../demo/run-demo.ts');
      const running = await runDemo({
        dataDir: globals.dataDir ?? './demo-data',
        users: Number(flags.users),
        webPort: Number(flags.webPort),
        cloakPort: Number(flags.cloakPort),
        password: 'demo-password',
        log: (line) => process.stdout.write(`${line}\n`),
      });
      if (flags.exit) {
        await running.stop();
        return;
      }
      process.stdout.write('Serving until Ctrl-C.\n');
      const stop = () => void running.stop().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
