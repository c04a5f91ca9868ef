/** Byte order of UTF-8 strings: how Redis orders equal scores by member; module data names are listed in it too. */
export const byteCompare = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
