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

  it('pretty lines cannot be forged: newlines and escapes in titles, module names, fields and stacks are shown escaped', async () => {
    const tty = sink(true);
    const root = await createCliLogger({ stream: tty, format: 'pretty' }, {});
    const worker = root.child({ component: 'worker' });
    worker.info('job title "t\n[worker] FAKE TITLE"');
    worker.child({ jobId: 'j1', task: 1, module: 'ff\u001b[31mRED\u001b]0;owned\u0007' }).info('started\r[worker] overwritten');
    worker.warn({ file: 'a\u009b2Jb\u202ec' }, 'field');
    worker.error({ err: new Error('boom\u001b[2K\r[worker] forged') }, 'failed');
    // Colours are pino-pretty's own; strip them, then no control character but the line ends may remain.
    // eslint-disable-next-line no-control-regex
    const text = tty.text().replace(/\x1B\[[0-9;]*m/g, '');
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^\[[\d:.]+\] INFO: \[worker\] job title "t\\x0a\[worker\] FAKE TITLE"$/);
    expect(lines[1]).toMatch(/^\[[\d:.]+\] INFO: \[worker\] job j1 task 1 ff\\x1b\[31mRED\\x1b\]0;owned\\x07: started\\x0d\[worker\] overwritten$/);
    expect(lines[2]).toMatch(/^\[[\d:.]+\] WARN: \[worker\] field .*a\\x9b2Jb\\u202ec/);
    // Every line that looks like an entry is one the program wrote: four entries, the stack indented under the last.
    expect(lines.filter((l) => /^\[\d\d:/.test(l))).toHaveLength(4);
    expect(text).toContain('boom\\x1b[2K\\x0d[worker] forged');

    // JSON lines are left as they are: JSON escapes control characters itself, and the values stay exact.
    const json = sink();
    const log = await createCliLogger({ stream: json }, {});
    log.child({ jobId: 'j1', module: 'm\u001b[31m' }).info('t\n[worker] FAKE TITLE');
    const [line] = parsed(json.text());
    expect(line).toMatchObject({ msg: 't\n[worker] FAKE TITLE', module: 'm\u001b[31m' });
    expect(json.text().trim().split('\n')).toHaveLength(1);
  });
});
