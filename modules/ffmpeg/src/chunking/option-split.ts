import { selectStreams, type ProbedStream } from '../probe.js';
import type { ResolvedOutputMap } from '../build-args.js';
import type { FfmpegOptions } from '../ffmpeg-schema.js';

/**
 * Options that concern the file or the muxing of a stream, not the
 * encoding of the video: they go to the join only. Besides ffmpeg's own
 * muxing options, the private options of the usual muxers (a muxer option
 * left in a chunk's options would fail the chunk: its muxer is NUT).
 */
export const JOIN_ONLY_OPTIONS: ReadonlySet<string> = new Set([
  // ffmpeg's per-file and per-stream muxing options
  'f', 'metadata', 'map_metadata', 'map_chapters', 'disposition', 'tag', 'vtag', 'atag', 'bsf', 'absf', 'vbsf', 'sbsf', 'program', 'stream_group',
  'attach', 'timecode', 'max_muxing_queue_size', 'muxing_queue_data_threshold', 'copyinkf', 'copypriorss', 'copytb', 'fs', 'an', 'sn', 'dn',
  // generic muxer options (AVFormatContext)
  'fflags', 'avoid_negative_ts', 'muxdelay', 'muxpreload', 'max_interleave_delta', 'flush_packets', 'metadata_header_padding', 'packetsize', 'chunk_duration', 'chunk_size',
  // mov/mp4
  'movflags', 'brand', 'write_tmcd', 'use_editlist', 'frag_duration', 'min_frag_duration', 'frag_size', 'frag_interleave', 'video_track_timescale', 'moov_size',
  'write_btrt', 'write_prft', 'empty_hdlr_name', 'encryption_scheme', 'encryption_key', 'encryption_kid', 'mov_gamma', 'skip_iods', 'iods_audio_profile', 'iods_video_profile',
  'use_stream_ids_as_track_ids', 'skip_trailer', 'fragment_index', 'ism_lookahead',
  // matroska/webm
  'cues_to_front', 'reserve_index_space', 'default_mode', 'dash', 'dash_track_number', 'live', 'write_crc32', 'cluster_size_limit', 'cluster_time_limit', 'allow_raw_vfw', 'flipped_raw_rgb',
  // mpegts
  'mpegts_service_id', 'mpegts_pmt_start_pid', 'mpegts_start_pid', 'mpegts_flags', 'mpegts_copyts', 'mpegts_m2ts_mode', 'mpegts_original_network_id', 'mpegts_transport_stream_id',
  'pcr_period', 'pat_period', 'sdt_period', 'omit_video_pes_length', 'muxrate', 'pes_payload_size', 'mpegts_service_type', 'tables_version',
  // mp3, ogg, avi, flv
  'id3v2_version', 'write_id3v1', 'write_xing', 'page_duration', 'serial_offset', 'write_channelmask', 'flvflags', 'reserve_index_entries',
]);

/** Options ffmpeg applies to video streams only (whatever their specifier says), and to audio, subtitle, data only. */
const VIDEO_ONLY = new Set(['s', 'pix_fmt', 'aspect', 'r', 'fpsmax', 'vf', 'top', 'force_key_frames', 'fps_mode', 'vsync', 'autoscale', 'pass', 'passlogfile', 'intra_matrix', 'inter_matrix', 'chroma_intra_matrix', 'rc_override', 'vframes', 'vcodec', 'vtag', 'vbsf', 'vn']);
const AUDIO_ONLY = new Set(['ar', 'ac', 'af', 'sample_fmt', 'apad', 'aq', 'ab', 'acodec', 'atag', 'aframes', 'absf', 'ch_layout', 'channel_layout', 'guess_layout_max', 'an']);
const SUBTITLE_ONLY = new Set(['scodec', 'sbsf', 'canvas_size', 'fix_sub_duration', 'sn']);
const DATA_ONLY = new Set(['dcodec', 'dframes', 'dn']);

/** Aliases as their canonical name: `vcodec` is `codec` of video streams. */
const CANONICAL: Record<string, string> = { vcodec: 'codec', acodec: 'codec', scodec: 'codec', dcodec: 'codec', c: 'codec', vf: 'filter', af: 'filter', vframes: 'frames', aframes: 'frames', dframes: 'frames', ab: 'b', aq: 'q' };

/** The option's name without its own specifier (`codec:v:0` -> `codec`). */
export const optionBase = (key: string) => key.split(':')[0]!;

/** `codec`, `filter`, `frames`... for `c`, `vcodec`, `vf`... (the name an option has without alias). */
export const canonicalOption = (key: string) => CANONICAL[optionBase(key)] ?? optionBase(key);

/**
 * The output streams (indices into `output`) one option of one output map
 * reaches: the map's own addressing, narrowed by the key's own specifier
 * (`codec:v`, `b:a:1`) and by the option's type (`s` and `vf` reach only
 * video, `ar` only audio). `metadata` keys carry metadata specifiers, not
 * stream specifiers: `metadata:s:v:0` reaches the stream, `metadata:g`
 * none. A specifier this reader does not know reaches every stream the map
 * does.
 */
export function optionReach(map: Pick<ResolvedOutputMap, 'specifier' | 'stream'>, key: string, output: readonly ProbedStream[]): number[] {
  const indexed = output.map((s, index) => ({ ...s, index }));
  const base = optionBase(key);
  let own: string | undefined = key.includes(':') ? key.slice(base.length + 1) : undefined;
  let reached = selectStreams(indexed, map.specifier, map.stream);
  if (base === 'metadata') {
    // Metadata specifiers: none (per map addressing: the stream's; else the file's), g, c:N, p:N, s[:stream specifier].
    if (own === undefined) return map.specifier !== undefined || map.stream !== undefined ? reached.map((s) => s.index) : [];
    if (own !== 's' && !own.startsWith('s:')) return [];
    own = own === 's' ? undefined : own.slice(2);
    reached = indexed;
  }
  if (own !== undefined) {
    // A key's own specifier addresses the output's streams (build-args refuses it in a map that addresses streams itself).
    const m = /^(?:([vVasdt])(?::(\d+))?|(\d+))$/.exec(own);
    if (m) reached = m[3] !== undefined ? indexed.filter((s) => s.index === Number(m[3])) : selectStreams(indexed, m[1], m[2] === undefined ? undefined : Number(m[2]));
  }
  const type = VIDEO_ONLY.has(base) ? 'video' : AUDIO_ONLY.has(base) ? 'audio' : SUBTITLE_ONLY.has(base) ? 'subtitle' : DATA_ONLY.has(base) ? 'data' : undefined;
  if (type) reached = reached.filter((s) => s.codec_type === type);
  return reached.map((s) => s.index);
}

/** One option of the task that reaches the chunked video, where the job wrote it. */
export interface VideoOption {
  /** Index into the output maps. */
  map: number;
  key: string;
  /** `codec` for `c:v`, `filter` for `vf`. */
  canonical: string;
  value: FfmpegOptions[string];
  /** It also reaches other streams. */
  shared: boolean;
}

/** The task's output maps split between the chunk encodes and the join. */
export interface SplitMaps {
  /** Options of the video encode, in the task's order, as a chunk's maps (its one stream is `v:0`). */
  chunk: ResolvedOutputMap[];
  /** The task's maps without what only the video encode needs, then `codec: copy` for the video. */
  join: ResolvedOutputMap[];
  /** Every option that reaches the video (for the refusals). */
  video: VideoOption[];
}

/**
 * Split the task's output maps (option sets merged, file values resolved)
 * between the chunk encodes and the join, for the video at index `video`
 * of `output` (the output's streams in order). An option that reaches the
 * video (see {@link optionReach}) goes to the chunks, under its canonical
 * name and addressed to the chunk's only stream, unless it is a muxing
 * option ({@link JOIN_ONLY_OPTIONS}); the join keeps every option that
 * reaches another stream or is a muxing option, and copies the video.
 * Order is kept, so "the last one wins" stays true on both sides.
 */
export function splitOutputMaps(maps: readonly ResolvedOutputMap[], output: readonly ProbedStream[], video: number): SplitMaps {
  const chunk: ResolvedOutputMap[] = [];
  const join: ResolvedOutputMap[] = [];
  const found: VideoOption[] = [];
  for (const [i, map] of maps.entries()) {
    const chunkOptions: FfmpegOptions = {};
    const joinOptions: FfmpegOptions = {};
    for (const [key, value] of Object.entries(map.options ?? {})) {
      const reach = optionReach(map, key, output);
      const toVideo = reach.includes(video);
      const muxing = JOIN_ONLY_OPTIONS.has(optionBase(key));
      if (toVideo) found.push({ map: i, key, canonical: canonicalOption(key), value, shared: reach.length > 1 });
      if (toVideo && !muxing) chunkOptions[canonicalOption(key)] = value;
      if (muxing || reach.some((s) => s !== video) || (!toVideo && reach.length === 0)) joinOptions[key] = value;
    }
    if (Object.keys(chunkOptions).length) chunk.push({ specifier: 'v', stream: 0, options: chunkOptions });
    if (Object.keys(joinOptions).length) join.push({ ...(map.specifier !== undefined ? { specifier: map.specifier } : {}), ...(map.stream !== undefined ? { stream: map.stream } : {}), options: joinOptions });
  }
  join.push({ stream: video, options: { codec: 'copy' } });
  return { chunk, join, video: found };
}
