import { Command, CommanderError, Option } from 'commander';
import { CORE_VERSION } from '../version/version.js';
import { ExitCodes, exitCodeForError } from './exit-codes.js';
import { formatCliError } from './format-cli-error.js';
import { runCommand } from './commands/run-command.js';
import { validateCommand } from './commands/validate-command.js';
import { modulesCommand } from './commands/modules-command.js';
import { addNewCommand } from './commands/new-command.js';
import { addWatchCommand } from './commands/watch-command.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/**
 * The `sisyphus` command line. Resolves with the exit code: 0 done, 1 the
 * job failed, 2 bad input or usage, 3 the server cannot be reached, 130 cancelled.
 */
export async function main(argv: readonly string[]): Promise<number> {
  let code: number = ExitCodes.OK;
  let verbose = argv.includes('--verbose');
  const program = new Command('sisyphus')
    .description('Sisyphus: run media encoding jobs made of task modules')
    .version(CORE_VERSION, '-V, --version')
    .option('-c, --config <path>', 'worker config file (default: search for sisyphus.config.* / .sisyphusrc*)')
    .option('--verbose', 'more output; stack traces on errors')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text.split('\n')[0] + '\n') })
    .showHelpAfterError('(sisyphus --help for usage)');

  const jobOptions = (cmd: Command) =>
    cmd
      .addOption(new Option('--var <key=value>', 'fill {{ key }} in the job (repeatable)').argParser(collect))
      .option('--vars <file>', 'JSON or YAML file of variables');

  jobOptions(program.command('run').argument('<job>', 'job file (JSON or YAML)').description('run a job locally'))
    .option('--json', 'print events as JSON lines')
    .action(async (job: string, opts, cmd: Command) => {
      code = await runCommand(job, { ...cmd.optsWithGlobals(), ...opts });
    });

  jobOptions(program.command('validate').argument('<job>', 'job file (JSON or YAML)').description('check a job and print what it would do, without running it'))
    .option('--json', 'print the plan as JSON')
    .action(async (job: string, opts, cmd: Command) => {
      code = await validateCommand(job, { ...cmd.optsWithGlobals(), ...opts });
    });

  program
    .command('modules')
    .argument('[name]', 'show one module')
    .description('list the available task modules')
    .option('--schema', "print the module's data JSON Schema")
    .option('--json', 'print as JSON')
    .action(async (name: string | undefined, opts, cmd: Command) => {
      code = await modulesCommand(name, { ...cmd.optsWithGlobals(), ...opts });
    });

  program
    .command('schema')
    .argument('<kind>', 'job | config')
    .description('print the JSON Schema of job files or config files (for editors), for the modules the config provides')
    .option('--out <file>', 'write it to this file')
    .option('--allow-unknown-modules', 'job: accept modules not provided here (their data is not checked)')
    .action(async (kind: string, opts, cmd: Command) => {
      const { schemaCommand } = await import('./commands/schema-command.js');
      code = await schemaCommand(kind, { ...cmd.optsWithGlobals(), ...opts });
    });

  addNewCommand(program, (c) => (code = c));
  addWatchCommand(program, (c) => (code = c));

  program
    .command('worker')
    .description('take jobs from the server and run them until SIGTERM/SIGINT (twice: abort running jobs)')
    .option('--api <url>', 'API URL (default: $API_URL, the config, http://localhost:5000)')
    .option('--token <token>', 'bearer token (default: $SISYPHUS_TOKEN, the config)')
    .option('--concurrency <n>', 'jobs at once; each slot shows as worker ID-1, ID-2, ...')
    .addOption(new Option('--tag <tag>', 'advertise this tag (repeatable; added to worker.tags): jobs requiring it may run here').argParser(collect))
    .option('--log-format <format>', 'json | pretty (default: pretty on a terminal, else JSON lines; or $LOG_FORMAT)')
    .action(async (opts, cmd: Command) => {
      const { workerCommand } = await import('./commands/worker-command.js');
      code = await workerCommand({ ...cmd.optsWithGlobals(), ...opts });
    });

  program
    .command('server')
    .description('run the job server (embedded SQLite store, or Redis with --store) until SIGTERM/SIGINT')
    .option('--host <host>', 'interface to bind (default 127.0.0.1)')
    .option('--port <port>', 'port (default 5000; 0 = any free port)')
    .option('--db <file>', 'SQLite file (default ~/.local/share/sisyphus/server.db)')
    .option('--store <url>', 'sqlite (default), or redis://HOST:PORT/DB for the Redis/BullMQ store')
    .option('--store-prefix <prefix>', 'key prefix in Redis (default sisyphus): one installation per prefix')
    .option('--insecure', 'allow a non-loopback host without tokens')
    .option('--log-format <format>', 'json | pretty (default: pretty on a terminal, else JSON lines; or $LOG_FORMAT)')
    .action(async (opts, cmd: Command) => {
      const { serverCommand } = await import('./commands/server-command.js');
      code = await serverCommand({ ...cmd.optsWithGlobals(), ...opts });
    });

  const apiOptions = (cmd: Command) =>
    cmd
      .option('--api <url>', 'server URL (default: config api.url, $SISYPHUS_API, $API_URL, http://localhost:5000)')
      .option('--token <token>', 'bearer token (default: config api.token, $SISYPHUS_TOKEN)')
      .option('--json', 'print JSON');
  const withApi = async (cmd: Command, opts: Record<string, unknown>) => {
    const { apiOptionsFrom } = await import('./commands/api-options.js');
    return apiOptionsFrom({ ...cmd.optsWithGlobals(), ...opts });
  };

  apiOptions(jobOptions(program.command('submit').argument('<job>', 'job file (JSON or YAML)').description('submit a job to the server and print its id')))
    .option('--priority <n>', 'higher runs first (default 0)')
    .option('--wait', 'follow the job to its end; exit 0 done, 1 failed, 3 server unreachable, 130 cancelled (Ctrl-C only stops following)')
    .action(async (job: string, opts, cmd: Command) => {
      const { submitCommand } = await import('./commands/submit-command.js');
      code = await submitCommand(job, await withApi(cmd, opts));
    });

  apiOptions(program.command('queue').argument('[action]', 'ls | pause | resume | clear', 'ls').description('show or change the queue'))
    .action(async (action: string, opts, cmd: Command) => {
      const { queueCommand } = await import('./commands/admin-commands.js');
      code = await queueCommand(action, await withApi(cmd, opts));
    });

  apiOptions(program.command('jobs').argument('[action]', 'ls | show | cancel | retry', 'ls').argument('[id]', 'job id').description('list, show, cancel or retry jobs'))
    .option('--state <state>', 'queued | running | waiting-children | completed | failed | cancelled | finished (the last three) (retry --all: failed or cancelled, default failed)')
    .option('--title <text>', 'only jobs whose title contains this (any case)')
    .option('--worker <id>', 'only jobs run by this worker id')
    .option('--since <time>', 'only jobs finished (or, unfinished, added) at or after this ISO time')
    .option('--until <time>', 'only jobs finished (or added) before this ISO time')
    .option('--all', 'retry: every failed job the filters select (not retried yet), instead of one id')
    .option('--limit <n>', 'at most this many (ls: default 50; retry --all: default 1000)')
    .action(async (action: string, id: string | undefined, opts, cmd: Command) => {
      const { jobsCommand } = await import('./commands/admin-commands.js');
      code = await jobsCommand(action, id, await withApi(cmd, opts));
    });

  apiOptions(program.command('workers').argument('[action]', 'ls | disable | enable', 'ls').argument('[id]', 'worker id').description('list workers, disable or enable one'))
    .action(async (action: string, id: string | undefined, opts, cmd: Command) => {
      const { workersCommand } = await import('./commands/admin-commands.js');
      code = await workersCommand(action, id, await withApi(cmd, opts));
    });

  apiOptions(
    program
      .command('data')
      .argument('<action>', 'ls | get | set | rm')
      .argument('<module>', 'module, e.g. ffmpeg')
      .argument('[name]', 'record name, e.g. an option set')
      .argument('[file]', 'for set: JSON or YAML file (- for stdin)')
      .description('server-side module data, e.g. ffmpeg option sets'),
  ).action(async (action: string, module: string, name: string | undefined, file: string | undefined, opts, cmd: Command) => {
    const { dataCommand } = await import('./commands/admin-commands.js');
    code = await dataCommand(action, module, name, file, await withApi(cmd, opts));
  });

  try {
    await program.parseAsync(argv, { from: 'user' });
    verbose = !!program.opts().verbose;
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return ExitCodes.OK;
      return ExitCodes.BAD_INPUT;
    }
    process.stderr.write(`${formatCliError(error, verbose)}\n`);
    return exitCodeForError(error);
  }
}
