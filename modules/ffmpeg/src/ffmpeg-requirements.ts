import type { RequiresContext } from '@sisyphus/core';
import { FILTERGRAPH_OPTIONS } from './ffmpeg-option-table.js';
import { parseFilterGraph } from './filtergraph.js';

/** Options whose value names a codec: `-c`, `-codec` (each with any stream specifier), `-vcodec`, `-acodec`, `-scodec`, `-dcodec`. */
const CODEC_OPTIONS: ReadonlySet<string> = new Set(['c', 'codec', 'vcodec', 'acodec', 'scodec', 'dcodec']);
/** Codec values that name no encoder: `copy` passes the stream through. */
const NO_CODEC: ReadonlySet<string> = new Set(['copy', 'none', 'auto']);
/** Global options that open a device of one type. */
const DEVICE_TYPE_OPTIONS: Readonly<Record<string, string>> = { vaapi_device: 'vaapi', qsv_device: 'qsv' };
/** Hardware decoders an input codec option may name, and the device they run on. */
const DECODER_DEVICES: ReadonlyArray<[RegExp, string]> = [
  [/_cuvid$/, 'cuda'],
  [/_qsv$/, 'qsv'],
];
/** Hardware filters (by name) and the device type they need. */
const FILTER_DEVICES: ReadonlyArray<[RegExp, string]> = [
  [/_(cuda|npp)$/, 'cuda'],
  [/_vaapi$/, 'vaapi'],
  [/_qsv$/, 'qsv'],
  [/_vulkan$/, 'vulkan'],
  [/_opencl$/, 'opencl'],
];

type Options = Record<string, unknown>;
const isObject = (v: unknown): v is Options => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `-hwaccel NAME`: none/auto use no particular device; ffmpeg reads nvdec and cuvid as cuda. */
function hwaccelOf(value: string): string | undefined {
  if (value === 'none' || value === 'auto' || value === '') return undefined;
  return value === 'nvdec' || value === 'cuvid' ? 'cuda' : value;
}

/** `-init_hw_device TYPE[=NAME][:DEVICE...]` or `TYPE[=NAME]@SOURCE`: the device type (`list` prints and exits). */
function initHwDeviceType(value: string): string | undefined {
  if (value === 'list') return undefined;
  const type = value.slice(0, value.search(/[=:@]|$/));
  return type === '' ? undefined : type;
}

/** Hardware filters of a graph (one ffmpeg cannot parse requires nothing here: validation refuses it). */
function filterDevices(graph: string, needs: Set<string>): void {
  let filters;
  try {
    filters = parseFilterGraph(graph);
  } catch {
    return;
  }
  for (const { filter } of filters) {
    const device = FILTER_DEVICES.find(([pattern]) => pattern.test(filter))?.[1];
    if (device) needs.add(`hwaccel:${device}`);
  }
}

/** What the options of one place (`input` options, or an output map's) require. */
function scanOptions(options: Options, place: 'input' | 'output', needs: Set<string>): void {
  for (const [key, value] of Object.entries(options)) {
    if (typeof value !== 'string') continue; // numbers and flags name nothing; false leaves an option out
    const colon = key.indexOf(':');
    const base = colon < 0 ? key : key.slice(0, colon);
    if (CODEC_OPTIONS.has(base)) {
      if (NO_CODEC.has(value) || value === '') continue;
      if (place === 'output') needs.add(`encoder:${value}`);
      else {
        // Before the inputs a codec option names a decoder: only hardware ones need something of the worker.
        const device = DECODER_DEVICES.find(([pattern]) => pattern.test(value))?.[1];
        if (device) needs.add(`hwaccel:${device}`);
      }
    } else if (base === 'hwaccel') {
      // An input option (ffmpeg refuses it on an output).
      const hwaccel = place === 'input' ? hwaccelOf(value) : undefined;
      if (hwaccel) needs.add(`hwaccel:${hwaccel}`);
    } else if (base === 'init_hw_device') {
      const type = initHwDeviceType(value);
      if (type) needs.add(`hwaccel:${type}`);
    } else if (DEVICE_TYPE_OPTIONS[base]) {
      needs.add(`hwaccel:${DEVICE_TYPE_OPTIONS[base]}`);
    } else if (FILTERGRAPH_OPTIONS.has(base)) {
      filterDevices(value, needs);
    }
  }
}

/**
 * The ffmpeg module's `requires` hook: what a task needs of its worker.
 * Always `binary:ffmpeg` and `binary:ffprobe`; `encoder:NAME` for every
 * codec option of an output map (`c`, `codec`, `c:v`, `codec:a:0`,
 * `vcodec`, `acodec`, `scodec`, `dcodec`; `copy` names none), with the
 * map's option set laid over its options as at run time (read through
 * `getData`; a missing or malformed set adds nothing, validation reports
 * it); `hwaccel:TYPE` for `-hwaccel` (input options; `none`/`auto` name
 * none, `nvdec`/`cuvid` are `cuda`), `-init_hw_device TYPE...`,
 * `-vaapi_device`, `-qsv_device`, a hardware decoder named in the input
 * options (`h264_cuvid`, `hevc_qsv`) and hardware filters in filter graphs
 * (`scale_cuda`, `scale_npp`, `*_vaapi`, `*_qsv`, `*_vulkan`, `*_opencl`).
 * Data it cannot read adds nothing; it never throws on bad data.
 */
export async function ffmpegRequirements(data: unknown, context: RequiresContext): Promise<string[]> {
  const needs = new Set<string>(['binary:ffmpeg', 'binary:ffprobe']);
  if (!isObject(data)) return [...needs];
  if (isObject(data.input_options)) scanOptions(data.input_options, 'input', needs);
  const maps = Array.isArray(data.output_maps) ? data.output_maps : [];
  for (const map of maps) {
    if (!isObject(map)) continue;
    let options: Options = isObject(map.options) ? map.options : {};
    if (typeof map.option_set === 'string' && map.option_set !== '') {
      const record = await context.getData('ffmpeg', map.option_set);
      // The set's options win over the map's own (see resolveOptionSets).
      if (isObject(record) && isObject(record.options)) options = { ...options, ...record.options };
    }
    scanOptions(options, 'output', needs);
  }
  return [...needs].sort();
}
