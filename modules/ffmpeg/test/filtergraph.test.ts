import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { escapeToken, getToken, parseFilterArgs, parseFilterGraph } from '../src/filtergraph.js';

describe('getToken (av_get_token)', () => {
  it.each<[string, string, string, number]>([
    ['  abc  ,x', ',', 'abc', 7],
    ['a\\,b,c', ',', 'a,b', 4],
    ["'a,b'c,d", ',', 'a,bc', 6],
    ["'a\\b'", ',', 'a\\b', 5],
    ['a\\ ', ',', 'a ', 3],
    ["a' '", ',', 'a ', 4],
    ["'unterminated", ',', 'unterminated', 13],
    ['x\\', ',', 'x\\', 2],
  ])('%j up to %j', (s, term, value, end) => {
    expect(getToken(s, 0, term)).toEqual({ value, end });
  });
});

describe('parseFilterArgs (process_options)', () => {
  it('splits key=value and positional values, counting positions only before the first key', () => {
    expect(parseFilterArgs('/x.png:f=png:3').map(({ key, value, position }) => ({ key, value, position }))).toEqual([
      { key: undefined, value: '/x.png', position: 0 },
      { key: 'f', value: 'png', position: -1 },
      { key: undefined, value: '3', position: -1 },
    ]);
  });

  it('reads keys the way get_key does: key characters, spaces, then =', () => {
    expect(parseFilterArgs(' filename = a').map((i) => [i.key, i.value])).toEqual([['filename', 'a']]);
    // A value with = after non-key characters is positional.
    expect(parseFilterArgs('a b=c')[0]).toMatchObject({ value: 'a b=c', position: 0 });
    expect(parseFilterArgs('a b=c')[0]!.key).toBeUndefined();
    // A path followed by = is a key (ffmpeg reads it so too).
    expect(parseFilterArgs('/x/y=z')[0]).toMatchObject({ key: '/x/y', value: 'z' });
    expect(parseFilterArgs('text=a\\:b:x=1').map((i) => [i.key, i.value])).toEqual([['text', 'a:b'], ['x', '1']]);
  });

  it('remembers where each value sits so it can be replaced', () => {
    const args = "a=1:file='x y':3";
    const items = parseFilterArgs(args);
    expect(items.map((i) => args.slice(i.start, i.end))).toEqual(['1', "'x y'", '3']);
  });
});

describe('parseFilterGraph (avfilter_graph_parse2)', () => {
  it('reads chains, graphs, labels, instance names and the sws_flags prefix', () => {
    const graph = "sws_flags=bicubic;[0:v][1:v] overlay=x=1 [o]; [o]split[a][b],movie@logo='/m.png' ; nullsrc";
    const parsed = parseFilterGraph(graph);
    expect(parsed.map((f) => [f.filter, f.args, f.inputs, f.outputs])).toEqual([
      ['overlay', 'x=1', ['0:v', '1:v'], ['o']],
      ['split', undefined, ['o'], ['a', 'b']],
      ['movie', '/m.png', [], []],
      ['nullsrc', undefined, [], []],
    ]);
    expect(parsed[2]!.name).toBe('movie@logo');
    expect(graph.slice(parsed[2]!.argsStart, parsed[2]!.argsEnd)).toBe("'/m.png' ");
  });

  it('unquotes and unescapes names as ffmpeg does, so quoting cannot hide a filter', () => {
    expect(parseFilterGraph("'mov'ie=/a").map((f) => f.filter)).toEqual(['movie']);
    expect(parseFilterGraph('mo\\vie=/a').map((f) => f.filter)).toEqual(['movie']);
    expect(parseFilterGraph(' movie =/a')[0]!.items[0]!.value).toBe('/a');
  });

  it('unescapes twice: once for the graph, once for the args', () => {
    const [f] = parseFilterGraph("movie='/x\\,y':si=0");
    expect(f!.args).toBe('/x\\,y:si=0');
    expect(f!.items[0]!.value).toBe('/x,y');
    // Graph-level escapes hide , and ; and [ from the graph splitter.
    const [g] = parseFilterGraph('drawtext=text=a\\,b\\;c\\[d');
    expect(g!.items[0]!.value).toBe('a,b;c[d');
  });

  it('refuses what ffmpeg refuses', () => {
    expect(() => parseFilterGraph('[]null')).toThrow(/empty link label/);
    expect(() => parseFilterGraph('[a null')).toThrow(/unmatched/);
    expect(() => parseFilterGraph('sws_flags=x')).toThrow(/sws_flags/);
    expect(() => parseFilterGraph('null=a]b')).toThrow(/unable to parse/);
  });

  it('escapeToken round-trips through both levels', () => {
    for (const value of ["/a b/c:d,e;f[g]'h'\\i=j", ' lead', 'trail ']) {
      const args = `filename=${escapeToken(value)}:si=0`;
      const graph = `movie=${escapeToken(args)}`;
      expect(parseFilterGraph(graph)[0]!.items[0]!.value).toBe(value);
    }
  });
});

/** What ffmpeg sets, per parsed filter (Parsed_NAME_N), read from its debug log. */
async function ffmpegSettings(graph: string): Promise<Array<[string, string, string]>> {
  const { stderr } = await execa('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'debug', '-f', 'lavfi', '-i', graph, '-t', '0.1', '-f', 'null', '-'], { reject: false });
  return [...stderr.matchAll(/\[Parsed_(\w+?)_\d+ @ 0x[0-9a-f]+\] Setting '([^']*)' to value '(.*)'$/gm)].map((m) => [m[1]!, m[2]!, m[3]!]);
}

describe('the parser reads graphs as the real ffmpeg does', () => {
  it.each([
    "color=s=16x16:d=0.1,drawtext=text='a\\:b':fontfile=/nonexistent/f.ttf",
    "movie='/nonexistent/x\\,y'",
    "'mov'ie = /nonexistent/a.png",
    "movie=filename='/nonexistent/q r.png':si=0",
    'movie=/nonexistent/b\\\\\\:c.png',
    "color=s=16x16:d=0.1 [v]; [v] drawtext=fontfile='/nonexistent/a,b;c':text=x\\'y",
    "color=s=16x16:d=0.1,subtitles=filename=/nonexistent/s\\'.srt",
    'color=c=red:s=16x16:d=0.1,lut3d=/nonexistent/l.cube',
  ])('%s', async (graph) => {
    const theirs = await ffmpegSettings(graph);
    expect(theirs.length).toBeGreaterThan(0);
    const ours = parseFilterGraph(graph).flatMap((f) => f.items.map((i) => [f.filter, i.key, i.value] as const));
    // Positional items: ffmpeg prints the option name it chose; compare the filter and the value, and keys where given.
    expect(ours.map(([f, , v]) => [f, v])).toEqual(theirs.map(([f, , v]) => [f, v]));
    for (const [i, [, key]] of ours.entries()) if (key !== undefined) expect(theirs[i]![1]).toBe(key);
  });
});
