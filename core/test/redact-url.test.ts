import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { redactUrl } from '@sisyphus/core/transport';

const bin = fileURLToPath(new URL('../bin/sisyphus.js', import.meta.url));

describe('redactUrl: credentials in URLs never reach logs or messages', () => {
  it.each([
    ['redis://admin:secret@10.0.0.5:6379/0', 'redis://****@10.0.0.5:6379/0'],
    // A raw @ in the password: URL parsers take the last @ before the host as the end of the userinfo.
    ['redis://admin:TOP@SECRETPART@127.0.0.1:1/0', 'redis://****@127.0.0.1:1/0'],
    ['rediss://:only-a-password@host/1', 'rediss://****@host/1'],
    ['http://u:PASSWORD@127.0.0.1:5719/queue?x=a@b', 'http://****@127.0.0.1:5719/queue?x=a@b'],
    ['cannot reach redis://a:b@h:1 nor http://c:d@e/', 'cannot reach redis://****@h:1 nor http://****@e/'],
    ['redis://127.0.0.1:6379/0', 'redis://127.0.0.1:6379/0'],
    ['mail me at a@b.example', 'mail me at a@b.example'],
  ])('%s', (text, redacted) => {
    expect(redactUrl(text)).toBe(redacted);
    expect(new URL(redacted.split(' ').find((w) => w.includes('://')) ?? 'x://y').password).toBe('');
  });

  it('sisyphus server --store with a password holding @ names the store without any of it', async () => {
    const r = await execa(process.execPath, [bin, 'server', '--port', '0', '--store', 'redis://admin:TOP@SECRETPART@127.0.0.1:1/0'], { reject: false, timeout: 30_000 });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('redis://****@127.0.0.1:1/0');
    expect(r.stderr + r.stdout).not.toMatch(/SECRETPART|TOP@/);
  });
});
