import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { asLogger, createCliLogger } from '../src/cli/logger.js';

/** A writable that keeps what it gets; `tty` makes it look like a terminal. */
function sink(tty = false): Writable & { text: () => string; isTTY?: boolean } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  if (tty) Object.assign(stream, { isTTY: true });
  return Object.assign(stream, { text: () => chunks.join('') });
}

const parsed = (text: string) => text.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);

describe('the CLI logger (pino)', () => {
  it('not a terminal: one JSON object per line with a level name, an ISO time, the component and the fields', async () => {
    const out = sink();
    const root = await createCliLogger({ stream: out }, {});
    const worker = root.child({ component: 'worker' });
    worker.info('started');
    asLogger(root.child({ component: 'transport' })).warn('server unreachable', { attempt: 3 });
    worker.debug('not at info');
    const lines = parsed(out.text());
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 'info', component: 'worker', msg: 'started', pid: process.pid });
    expect(new Date(lines[0]!.time as string).toISOString()).toBe(lines[0]!.time);
    expect(lines[1]).toMatchObject({ level: 'warn', component: 'transport', msg: 'server unreachable', attempt: 3 });
  });

  it('--verbose logs debug lines; LOG_LEVEL sets the level otherwise; a bad one is refused, naming the variable', async () => {
    const verbose = sink();
    (await createCliLogger({ stream: verbose, verbose: true }, { LOG_LEVEL: 'error' })).debug('detail');
    expect(parsed(verbose.text())).toEqual([expect.objectContaining({ level: 'debug', msg: 'detail' })]);

    const quiet = sink();
    const log = await createCliLogger({ stream: quiet }, { LOG_LEVEL: 'warn' });
    log.info('hidden');
    log.warn('shown');
    expect(parsed(quiet.text()).map((l) => l.msg)).toEqual(['shown']);

    await expect(createCliLogger({ stream: sink() }, { LOG_LEVEL: 'verbose' })).rejects.toThrow(
      'LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent (got "verbose")',
    );
    await expect(createCliLogger({ stream: sink(), format: 'text' }, {})).rejects.toThrow('--log-format must be one of json, pretty (got "text")');
  });

  it('a terminal gets pretty lines: time, level, component, job and task, message; --log-format and LOG_FORMAT choose', async () => {
    const tty = sink(true);
    const root = await createCliLogger({ stream: tty }, {});
    root.child({ component: 'worker' }).child({ jobId: 'j1', task: 2, module: 'ffmpeg' }).info('40%');
    root.child({ component: 'worker' }).warn('allowedRoots is not set');
    // eslint-disable-next-line no-control-regex
    const text = tty.text().replace(/\x1B\[[0-9;]*m/g, '');
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[worker\] job j1 task 2 ffmpeg: 40%\n\[\d\d:\d\d:\d\d\.\d{3}\] WARN: \[worker\] allowedRoots is not set\n$/);

    const forcedJson = sink(true);
    (await createCliLogger({ stream: forcedJson, format: 'json' }, { LOG_FORMAT: 'pretty' })).info('x');
    expect(parsed(forcedJson.text())).toEqual([expect.objectContaining({ msg: 'x' })]);

    const forcedPretty = sink();
    (await createCliLogger({ stream: forcedPretty }, { LOG_FORMAT: 'pretty' })).info('y');
    expect(forcedPretty.text()).toMatch(/^\[[\d:.]+\] INFO: y\n$/);
  });
});
