import { execa } from 'execa';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Subtitle lines of the generated source (track 3). */
export const SUBTITLES = ['It was a dark and stormy night.', 'The extraction went on.'];
/** A few bytes with a TrueType signature: the attachment (id 1). */
export const FONT = Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x80]), Buffer.from('a tiny font for mkvextract tests')]);

const CHAPTERS = `<?xml version="1.0"?>
<Chapters><EditionEntry>
<ChapterAtom><ChapterTimeStart>00:00:00.000</ChapterTimeStart><ChapterDisplay><ChapterString>Opening</ChapterString><ChapterLanguage>eng</ChapterLanguage></ChapterDisplay></ChapterAtom>
<ChapterAtom><ChapterTimeStart>00:00:01.000</ChapterTimeStart><ChapterDisplay><ChapterString>Storm</ChapterString><ChapterLanguage>eng</ChapterLanguage></ChapterDisplay></ChapterAtom>
</EditionEntry></Chapters>
`;
const TAGS = `<?xml version="1.0"?>
<Tags><Tag><Targets><TargetTypeValue>50</TargetTypeValue></Targets><Simple><Name>ARTIST</Name><String>Sisyphus test</String></Simple></Tag></Tags>
`;

/**
 * Make the test source in `dir` (ffmpeg lavfi + mkvmerge): 0 video (h264),
 * 1 audio (Opus, eng), 2 audio (AAC, jpn), 3 subtitles (SRT, eng); a font
 * attachment (id 1), two chapters, global tags. Also `plain.mkv`: the same
 * streams without chapters, attachments or added tags. Returns both paths.
 */
export async function makeSource(dir: string, seconds = 2): Promise<{ source: string; plain: string }> {
  await mkdir(dir, { recursive: true });
  const srt = join(dir, 'in.srt');
  await writeFile(srt, `1\n00:00:00,000 --> 00:00:00,900\n${SUBTITLES[0]}\n\n2\n00:00:01,000 --> 00:00:01,900\n${SUBTITLES[1]}\n`);
  const plain = join(dir, 'plain.mkv');
  const sine = (f: number) => ['-f', 'lavfi', '-i', `sine=frequency=${f}:sample_rate=48000:duration=${seconds}`];
  await execa('ffmpeg', [
    '-v', 'error', '-nostdin', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=64x48:rate=10:duration=${seconds}`, ...sine(440), ...sine(660), '-i', srt,
    '-map', '0:v', '-map', '1:a', '-map', '2:a', '-map', '3:s',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '5', '-c:a:0', 'libopus', '-b:a:0', '48k', '-c:a:1', 'aac', '-b:a:1', '48k', '-c:s', 'srt',
    '-metadata:s:a:0', 'language=eng', '-metadata:s:a:1', 'language=jpn', '-metadata:s:s:0', 'language=eng',
    plain,
  ]);
  const chapters = join(dir, 'in-chapters.xml');
  const tags = join(dir, 'in-tags.xml');
  const font = join(dir, 'in-font.ttf');
  await writeFile(chapters, CHAPTERS);
  await writeFile(tags, TAGS);
  await writeFile(font, FONT);
  const source = join(dir, 'source.mkv');
  await execa('mkvmerge', ['-q', '-o', source, '--chapters', chapters, '--global-tags', tags, '--attachment-mime-type', 'font/ttf', '--attach-file', font, plain]);
  return { source, plain };
}

/** What `mkvmerge -J` says about a file (the parts the tests look at). */
export interface Identification {
  container: { recognized: boolean; type?: string };
  tracks: Array<{ id: number; type: string; codec: string; properties: { language?: string } }>;
}
export async function identify(file: string): Promise<Identification> {
  const { stdout } = await execa('mkvmerge', ['-J', file]);
  return JSON.parse(stdout) as Identification;
}
