import { Command, CommanderError, Option } from 'commander';
import { CORE_VERSION } from '../version/version.js';
import { SisyphusError } from '../module/errors.js';
import { ExitCodes, isBadInput } from './exit-codes.js';
import { formatCliError } from './format-cli-error.js';
import { runCommand } from './commands/run-command.js';
import { validateCommand } from './commands/validate-command.js';
import { modulesCommand } from './commands/modules-command.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/**
 * The `sisyphus` command line. Resolves with the exit code: 0 done, 1 the
 * job failed, 2 bad input or usage, 130 cancelled.
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
    if (error instanceof SisyphusError) return isBadInput(error.code) ? ExitCodes.BAD_INPUT : ExitCodes.FAILED;
    return ExitCodes.FAILED;
  }
}
