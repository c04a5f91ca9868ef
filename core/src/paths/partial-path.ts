import { basename, dirname, extname, join } from 'node:path';

/**
 * The name a file is written under until it is complete: hidden, next to
 * the target (so the final rename is atomic), keeping the extension (so
 * muxers still pick the format from it). `out/film.mkv` ->
 * `out/.film.sisyphus-part.mkv`.
 */
export function partialPathFor(target: string): string {
  const name = basename(target);
  const ext = extname(name);
  return join(dirname(target), `.${name.slice(0, name.length - ext.length)}.sisyphus-part${ext}`);
}
