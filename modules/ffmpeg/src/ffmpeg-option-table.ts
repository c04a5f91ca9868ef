/**
 * What ffmpeg does with the options a job may name, as far as files are
 * concerned. Read from FFmpeg's sources: fftools/ffmpeg_opt.c and
 * fftools/opt_common.h of 5.1 (the version Debian ships, 5.1.9) and of
 * master (8.0 era: the table with `print_graphs_file`, `readrate_catchup`),
 * libavformat/libavfilter/libavcodec option tables of 5.1, x264's
 * common/base.c, x265's source/common/param.cpp and libaom's arg_defs.c.
 * Entries marked "master" exist only in newer ffmpeg; they are kept so a
 * worker with a newer ffmpeg is covered too.
 *
 * Anything not listed here still goes through the safety net of
 * option-policy.ts (absolute paths, `..`, protocol prefixes).
 */

/** How a file-naming value is used. */
export type Access = 'read' | 'write' | 'readwrite';
/** What the value names: a file, a folder, or a prefix that ffmpeg appends to (`PREFIX-0.log`). */
export type FileKind = 'file' | 'folder' | 'prefix';

/** A value that names a file: checked against allowedRoots and passed as the resolved absolute path. */
export interface FileOption {
  access: Access;
  kind: FileKind;
  reason: string;
  /** Values that are keywords, not paths (x265 `scaling-list=default`). */
  keywords?: readonly string[];
  /**
   * ffmpeg opens the file as a media input with format detection (movie,
   * amovie, subtitles): the task probes it like a source, so a playlist
   * (HLS, concat) there cannot open other files.
   */
  media?: boolean;
}

const file = (access: Access, reason: string, kind: FileKind = 'file', keywords?: readonly string[]): FileOption => ({ access, kind, reason, ...(keywords ? { keywords } : {}) });

/**
 * ffmpeg options that stand bare: the OPT_BOOL OptionDefs without HAS_ARG
 * of fftools/ffmpeg_opt.c (5.1 and master, `OPT_TYPE_BOOL` there), plus the
 * two function options that take no argument (`vstats`, master's `qphist`).
 * `-noNAME` is the same flag turned off. Every other option (and every
 * AVOption of a codec, format or filter) needs a value.
 */
export const FLAG_OPTIONS: ReadonlyMap<string, string> = new Map([
  ['ignore_unknown', '5.1, master'],
  ['copy_unknown', '5.1, master'],
  ['recast_media', '5.1, master'],
  ['accurate_seek', '5.1, master'],
  ['benchmark', '5.1, master'],
  ['benchmark_all', '5.1, master'],
  ['dump', '5.1, master'],
  ['hex', '5.1, master'],
  ['re', '5.1, master'],
  ['copyts', '5.1, master'],
  ['start_at_zero', '5.1, master'],
  ['shortest', '5.1, master'],
  ['bitexact', '5.1, master'],
  ['xerror', '5.1, master'],
  ['copyinkf', '5.1, master'],
  ['auto_conversion_filters', '5.1, master'],
  ['debug_ts', '5.1, master'],
  ['find_stream_info', '5.1, master'],
  ['vn', '5.1, master'],
  ['an', '5.1, master'],
  ['sn', '5.1, master'],
  ['dn', '5.1, master'],
  ['force_fps', '5.1, master'],
  ['fix_sub_duration', '5.1, master'],
  ['psnr', '5.1 only (removed on master; use flags=+psnr)'],
  ['qphist', '5.1 OPT_BOOL; master: a deprecated no-argument function'],
  ['vstats', 'no-argument function (5.1, master): writes vstats_HHMMSS.log into the working folder, the job scratch folder'],
  ['print_graphs', 'master'],
  ['display_hflip', 'master'],
  ['display_vflip', 'master'],
  ['fix_sub_duration_heartbeat', 'master'],
  // Flags the module owns (refused in REFUSED_OPTIONS, listed so `noNAME` is recognised too).
  ['y', '5.1, master (refused)'],
  ['n', '5.1, master (refused)'],
  ['stdin', '5.1, master (refused)'],
  ['stats', '5.1, master (refused)'],
  ['hide_banner', '5.1, master (refused)'],
  ['report', 'no-argument function (refused)'],
]);

/**
 * OPT_BOOL options that differ between versions: in 5.1 they are
 * `HAS_ARG | OPT_BOOL` (need a value, `-autorotate 0`), on master plain
 * bools that take none (a value would become an output file name). Only
 * `false` (left out) and the version-neutral `noNAME: true` are accepted.
 */
export const VERSION_DEPENDENT_BOOLS: ReadonlyMap<string, string> = new Map([
  ['autorotate', 'on by default; 5.1 needs a value, newer ffmpeg takes none: use noautorotate: true to turn it off'],
  ['autoscale', 'on by default; 5.1 needs a value, newer ffmpeg takes none: use noautoscale: true to turn it off'],
]);

const OWNED = 'the module sets it itself';
const INFO = 'prints information and exits instead of encoding';
const SCRIPT = 'reads options or a filter graph from a file whose content cannot be checked';
const MULTI = 'names extra output files of a multi-file muxer; the module names output files itself';

/** Options refused outright, with the reason given in the error. */
export const REFUSED_OPTIONS: ReadonlyMap<string, string> = new Map([
  // Module-owned (fftools/ffmpeg_opt.c, fftools/opt_common.h; libavformat options_table.h for the lists).
  ['i', 'inputs come from sources'],
  ['dec', 'a loopback-decoder group separator (master); the module builds the argv groups itself'],
  ['y', `overwrite is a field of the task (${OWNED})`],
  ['n', `overwrite is a field of the task (${OWNED})`],
  ['progress', `${OWNED}: progress goes to pipe:1`],
  ['stats', OWNED],
  ['stats_period', `${OWNED}: progress cadence`],
  ['stdin', OWNED],
  ['loglevel', OWNED],
  ['v', OWNED],
  ['hide_banner', OWNED],
  ['report', `${OWNED}; it would also write a report file`],
  ['protocol_whitelist', `${OWNED}: protocols are allowed by the worker config (settings.ffmpeg.allowed_protocols)`],
  ['protocol_blacklist', `${OWNED}: protocols are allowed by the worker config (settings.ffmpeg.allowed_protocols)`],
  ['format_whitelist', OWNED],
  ['codec_whitelist', OWNED],
  // OPT_EXIT options of opt_common.h and ffmpeg_opt.c.
  ...['h', 'help', 'L', 'version', 'buildconf', 'formats', 'muxers', 'demuxers', 'devices', 'codecs', 'decoders', 'encoders', 'bsfs', 'protocols', 'filters', 'pix_fmts', 'layouts', 'sample_fmts', 'dispositions', 'colors', 'hwaccels', 'sources', 'sinks'].map(
    (name) => [name, INFO] as [string, string],
  ),
  // Content we cannot check.
  ['filter_script', `${SCRIPT} (use filter / vf / af)`],
  ['filter_complex_script', `${SCRIPT} (use filter_complex)`],
  ['pre', `${SCRIPT} (a preset file)`],
  ['vpre', `${SCRIPT} (a preset file)`],
  ['apre', `${SCRIPT} (a preset file)`],
  ['spre', `${SCRIPT} (a preset file)`],
  ['fpre', `${SCRIPT} (a preset file)`],
  ['graph_file', `${SCRIPT} (lavfi device)`],
  ['hls_key_info_file', `${SCRIPT} (it names the key file and key URI)`],
  ['sdp_file', 'writes an SDP description for RTP outputs, which are refused'],
  // Code loaded from a file (OpenMAX encoders/decoders; libmfx plugins).
  ['omx_libname', 'loads a shared library'],
  ['omx_libprefix', 'loads a shared library from a folder'],
  ['load_plugins', 'loads encoder plugins'],
  // concat demuxer: its unsafe mode follows absolute paths and .. (the demuxer itself is refused; this keeps it so).
  ['safe', 'turns off the concat demuxer\'s path checks'],
  // Options that make a demuxer open files named inside the input (mov).
  ['enable_drefs', 'makes the mov demuxer open files named inside the input'],
  ['use_absolute_path', 'makes the mov demuxer open absolute paths named inside the input'],
  // Multi-file muxers: hls, segment, dash, webm_chunk.
  ['hls_segment_filename', MULTI],
  ['hls_fmp4_init_filename', MULTI],
  ['hls_subtitle_path', MULTI],
  ['master_pl_name', MULTI],
  ['segment_list', MULTI],
  ['segment_header_filename', MULTI],
  ['init_seg_name', MULTI],
  ['media_seg_name', MULTI],
  ['single_file_name', MULTI],
  ['hls_master_name', MULTI],
  ['header', `${MULTI} (webm_chunk header)`],
]);

/** Options whose value names a file or folder: checked like path fields and rewritten to the resolved path. */
export const FILE_OPTIONS: ReadonlyMap<string, FileOption> = new Map([
  ['attach', file('read', 'attaches the file to the output')],
  ['dump_attachment', file('write', 'writes the attachment to this file')],
  ['passlogfile', file('readwrite', 'two-pass log prefix: ffmpeg writes and reads PREFIX-N.log beside it', 'prefix')],
  ['vstats_file', file('write', 'writes video statistics')],
  ['print_graphs_file', file('write', 'writes the filter graph description (master)')],
  ['stats_enc_pre', file('write', 'writes encoder statistics (master)')],
  ['stats_enc_post', file('write', 'writes encoder statistics (master)')],
  ['stats_mux_pre', file('write', 'writes muxer statistics (master)')],
  ['ifo_palette', file('read', 'dvdsub decoder: reads the palette from an IFO file')],
  ['aribb24-base-path', file('read', 'libaribb24 decoder: its data folder', 'folder')],
  ['sub_name', file('read', 'mpeg (VobSub) demuxer: the .sub file')],
  ['ca_file', file('read', 'TLS: certificate authorities')],
  ['cafile', file('read', 'TLS: certificate authorities')],
  ['cert_file', file('read', 'TLS: certificate')],
  ['key_file', file('read', 'TLS: private key')],
  ['private_key', file('read', 'sftp: private key')],
]);

/** Options that name a hardware device: a name or index, a path under /dev/dri/, or else a checked path. */
export const DEVICE_OPTIONS: ReadonlyMap<string, string> = new Map([
  ['init_hw_device', 'type[=name][:device[,key=value...]] or type[=name]@source'],
  ['hwaccel_device', 'a device name or index'],
  ['vaapi_device', 'a DRM path or X11 display'],
  ['qsv_device', 'an adapter index or DRM path'],
  ['filter_hw_device', 'the name of an initialised device'],
]);

/** Options whose value is a filter graph (parsed with filtergraph.ts). */
export const FILTERGRAPH_OPTIONS: ReadonlySet<string> = new Set(['filter', 'vf', 'af', 'filter_complex', 'lavfi']);

/** Options whose value is free text stored in the output, never opened: exempt from the safety net. */
export const TEXT_OPTIONS: ReadonlySet<string> = new Set(['metadata', 'program', 'stream_group']);

/** A `k=v:k=v` option: how it is split and which keys name files. */
export interface KvOption {
  /** Separator between pairs (`:`; kvazaar uses `,`). */
  pairSep: string;
  /** Parsed with av_dict_parse_string (backslash and quote escapes), or split raw with sscanf (x264opts). */
  escapes: boolean;
  fileKeys: ReadonlyMap<string, FileOption>;
  refusedKeys: ReadonlyMap<string, string>;
  /** Entries are options of a nested muxer/demuxer/protocol: review each like an option of the same place. */
  nestedOptions?: boolean;
}

const X264_FILES = new Map([
  ['stats', file('readwrite', 'x264 two-pass statistics')],
  ['cqmfile', file('read', 'x264 custom quantiser matrices')],
  ['dump-yuv', file('write', 'x264 writes reconstructed frames')],
]);
const X264_REFUSED = new Map([['opencl-clbin', 'loads and writes a compiled OpenCL program']]);
const none = new Map<string, never>();

/** Encoder parameter strings and nested option dictionaries. */
export const KV_OPTIONS: ReadonlyMap<string, KvOption> = new Map<string, KvOption>([
  ['x264-params', { pairSep: ':', escapes: true, fileKeys: X264_FILES, refusedKeys: X264_REFUSED }],
  ['x264opts', { pairSep: ':', escapes: false, fileKeys: X264_FILES, refusedKeys: X264_REFUSED }],
  [
    'x265-params',
    {
      pairSep: ':',
      escapes: true,
      refusedKeys: none,
      fileKeys: new Map([
        ['stats', file('readwrite', 'x265 multi-pass statistics')],
        ['csv', file('write', 'x265 per-frame CSV log')],
        ['analysis-save', file('write', 'x265 analysis data')],
        ['analysis-load', file('read', 'x265 analysis data')],
        ['analysis-reuse-file', file('readwrite', 'x265 multi-pass analysis data')],
        ['scaling-list', file('read', 'x265 scaling lists', 'file', ['default', 'off'])],
        ['lambda-file', file('read', 'x265 lambda tables')],
        ['dhdr10-info', file('read', 'x265 dynamic HDR10+ metadata (JSON)')],
        ['nalu-file', file('read', 'x265 NAL units to insert')],
        ['film-grain', file('read', 'x265 film grain model (newer x265)')],
        ['aom-film-grain', file('read', 'x265 AOM film grain table (newer x265)')],
      ]),
    },
  ],
  [
    'aom-params',
    {
      pairSep: ':',
      escapes: true,
      refusedKeys: none,
      fileKeys: new Map([
        ['film-grain-table', file('read', 'libaom film grain table')],
        ['vmaf-model-path', file('read', 'libaom VMAF model')],
        ['partition-info-path', file('readwrite', 'libaom partition information')],
      ]),
    },
  ],
  ['svtav1-params', { pairSep: ':', escapes: true, fileKeys: none, refusedKeys: none }],
  ['rav1e-params', { pairSep: ':', escapes: true, fileKeys: none, refusedKeys: none }],
  ['xavs2-params', { pairSep: ':', escapes: true, fileKeys: none, refusedKeys: none }],
  ['vvenc-params', { pairSep: ':', escapes: true, fileKeys: none, refusedKeys: none }],
  ['kvazaar-params', { pairSep: ',', escapes: true, fileKeys: none, refusedKeys: none }],
  // Nested option dictionaries (AV_OPT_TYPE_DICT): their entries are options of an inner muxer/demuxer/protocol.
  ['segment_format_options', { pairSep: ':', escapes: true, fileKeys: none, refusedKeys: none, nestedOptions: true }],
  ['hls_segment_options', { pairSep: ':', escapes: true, fileKeys: none, refusedKeys: none, nestedOptions: true }],
  ['hls_ts_options', { pairSep: ':', escapes: true, fileKeys: none, refusedKeys: none, nestedOptions: true }],
  ['format_options', { pairSep: ':', escapes: true, fileKeys: none, refusedKeys: none, nestedOptions: true }],
  ['format_opts', { pairSep: ':', escapes: true, fileKeys: none, refusedKeys: none, nestedOptions: true }],
  ['protocol_opts', { pairSep: ':', escapes: true, fileKeys: none, refusedKeys: none, nestedOptions: true }],
  ['http_opts', { pairSep: ':', escapes: true, fileKeys: none, refusedKeys: none, nestedOptions: true }],
]);

/** A filter option that names a file. */
export interface FilterFileOption extends FileOption {
  /** The option's names (aliases included). */
  names: readonly string[];
  /** Its place among positional args in FFmpeg 5.1 (0-based), when it can be given positionally. */
  position?: number;
}

const ff = (names: string[], access: Access, reason: string, position?: number, kind: FileKind = 'file'): FilterFileOption => ({
  names,
  access,
  kind,
  reason,
  ...(position !== undefined ? { position } : {}),
});

/**
 * Filters that read or write files, with the options that name them
 * (libavfilter option tables of 5.1; positions counted as process_options
 * does: options in declaration order, aliases and constants skipped).
 */
export const FILTER_FILE_OPTIONS: ReadonlyMap<string, readonly FilterFileOption[]> = new Map([
  ['movie', [{ ...ff(['filename'], 'read', 'opens the file as an extra input', 0), media: true }]],
  ['amovie', [{ ...ff(['filename'], 'read', 'opens the file as an extra input', 0), media: true }]],
  ['subtitles', [{ ...ff(['filename', 'f'], 'read', 'reads subtitles (through a demuxer, with format detection)', 0), media: true }, ff(['fontsdir'], 'read', 'reads fonts', 2, 'folder')]],
  ['ass', [ff(['filename', 'f'], 'read', 'reads subtitles', 0), ff(['fontsdir'], 'read', 'reads fonts', 2, 'folder')]],
  ['drawtext', [ff(['fontfile'], 'read', 'reads a font', 0), ff(['textfile'], 'read', 'reads the text', 2)]],
  ['lut3d', [ff(['file'], 'read', 'reads a 3D LUT', 0)]],
  ['lut1d', [ff(['file'], 'read', 'reads a 1D LUT', 0)]],
  ['curves', [ff(['psfile'], 'read', 'reads a Photoshop curves file', 6), ff(['plot'], 'write', 'writes a gnuplot script', 7)]],
  ['selectivecolor', [ff(['psfile'], 'read', 'reads a Photoshop selective color file')]],
  ['psnr', [ff(['stats_file', 'f'], 'write', 'writes per-frame statistics', 0)]],
  ['ssim', [ff(['stats_file', 'f'], 'write', 'writes per-frame statistics', 0)]],
  ['vmafmotion', [ff(['stats_file'], 'write', 'writes per-frame statistics', 0)]],
  ['libvmaf', [ff(['model_path'], 'read', 'reads a VMAF model', 0), ff(['log_path'], 'write', 'writes the VMAF log', 1)]],
  ['vidstabdetect', [ff(['result'], 'write', 'writes the transforms', 0)]],
  ['vidstabtransform', [ff(['input'], 'read', 'reads the transforms', 0)]],
  ['signature', [ff(['filename'], 'write', 'writes signatures (a %d pattern per input)', 2)]],
  ['metadata', [ff(['file'], 'write', 'prints metadata to the file', 5)]],
  ['ametadata', [ff(['file'], 'write', 'prints metadata to the file', 5)]],
  ['removelogo', [ff(['filename', 'f'], 'read', 'reads the logo mask', 0)]],
  ['find_rect', [ff(['object'], 'read', 'reads the object image', 0)]],
  ['cover_rect', [ff(['cover'], 'read', 'reads the cover image', 0)]],
  ['dnn_processing', [ff(['model'], 'read', 'reads a model')]],
  ['dnn_detect', [ff(['model'], 'read', 'reads a model'), ff(['labels'], 'read', 'reads labels', 2)]],
  ['dnn_classify', [ff(['model'], 'read', 'reads a model'), ff(['labels'], 'read', 'reads labels', 2)]],
  ['sr', [ff(['model'], 'read', 'reads a model', 2)]],
  ['derain', [ff(['model'], 'read', 'reads a model', 2)]],
  ['arnndn', [ff(['model', 'm'], 'read', 'reads a model', 0)]],
  ['ocr', [ff(['datapath'], 'read', 'tesseract data folder', 0, 'folder')]],
  ['lensfun', [ff(['db_path'], 'read', 'lens database folder', 3, 'folder')]],
  ['libplacebo', [ff(['custom_shader_path'], 'read', 'reads a GPU shader'), ff(['lut'], 'read', 'reads a LUT (master)')]],
  ['paletteuse', [ff(['debug_kdtree'], 'write', 'writes a Graphviz file', 6)]],
  ['firequalizer', [ff(['dumpfile'], 'write', 'writes a dump', 9)]],
  ['deshake', [ff(['filename'], 'write', 'writes a motion log', 10)]],
  ['fieldhint', [ff(['hint'], 'read', 'reads field hints', 0)]],
  ['nnedi', [ff(['weights'], 'read', 'reads network weights', 0)]],
  ['sofalizer', [ff(['sofa'], 'read', 'reads a SOFA file', 0)]],
  ['flite', [ff(['textfile'], 'read', 'reads the text to speak', 3)]],
  ['showcqt', [ff(['fontfile'], 'read', 'reads a font'), ff(['axisfile'], 'read', 'reads the axis image')]],
  ['life', [ff(['filename', 'f'], 'read', 'reads the initial grid', 0)]],
  ['cellauto', [ff(['filename', 'f'], 'read', 'reads the initial pattern', 0)]],
  [
    'asr',
    [
      ff(['hmm'], 'read', 'acoustic model folder', 1, 'folder'),
      ff(['dict'], 'read', 'pronunciation dictionary', 2),
      ff(['lm'], 'read', 'language model', 3),
      ff(['lmctl'], 'read', 'language model set', 4),
      ff(['logfn'], 'write', 'log output', 6),
    ],
  ],
  ['whisper', [ff(['model'], 'read', 'reads a model (master)'), ff(['destination'], 'write', 'writes the transcription (master)')]],
  ['qrencode', [ff(['textfile'], 'read', 'reads the text (master)')]],
]);

/** Filter options refused inside otherwise accepted filters. */
export const FILTER_REFUSED_OPTIONS: ReadonlyMap<string, ReadonlyMap<string, string>> = new Map([
  ['xfade_opencl', new Map([['source', 'loads an OpenCL program from a file']])],
  ['movie', new Map([['format_opts', 'passes options to the opened input that cannot all be checked']])],
  ['amovie', new Map([['format_opts', 'passes options to the opened input that cannot all be checked']])],
]);

/** Filters that load code, run commands or take commands from outside. */
export const REFUSED_FILTERS: ReadonlyMap<string, string> = new Map([
  ['ladspa', 'loads a shared library'],
  ['lv2', 'loads a plugin'],
  ['frei0r', 'loads a shared library'],
  ['frei0r_src', 'loads a shared library'],
  ['sendcmd', 'sends commands that can set any filter option (file names too) while running'],
  ['asendcmd', 'sends commands that can set any filter option (file names too) while running'],
  ['zmq', 'takes filter commands from the network'],
  ['azmq', 'takes filter commands from the network'],
  ['program_opencl', 'runs an OpenCL program from a file'],
  ['openclsrc', 'runs an OpenCL program from a file'],
  ['coreimage', 'runs Core Image filters (macOS)'],
  ['coreimagesrc', 'runs Core Image filters (macOS)'],
]);

/** Filters that open a (de)muxer by name: the same format rules as `-f` on an input. */
export const FILTER_FORMAT_OPTIONS: ReadonlyMap<string, readonly string[]> = new Map([
  ['movie', ['format_name', 'f']],
  ['amovie', ['format_name', 'f']],
]);

/**
 * Protocols of ffmpeg (`ffmpeg -protocols` of Debian's 5.1 build, plus
 * those of other builds and of master: librtmp's, libsmbclient's smb,
 * fd, android_content, dtls, applehttp).
 */
export const PROTOCOLS: ReadonlySet<string> = new Set([
  'amqp', 'android_content', 'applehttp', 'async', 'bluray', 'cache', 'concat', 'concatf', 'crypto', 'data', 'dtls', 'fd', 'ffrtmpcrypt',
  'ffrtmphttp', 'file', 'ftp', 'gopher', 'gophers', 'hls', 'http', 'httpproxy', 'https', 'icecast', 'ipfs', 'ipns', 'librtmp', 'md5',
  'mmsh', 'mmst', 'pipe', 'prompeg', 'rist', 'rtmp', 'rtmpe', 'rtmps', 'rtmpt', 'rtmpte', 'rtmpts', 'rtp', 'sctp', 'sftp', 'smb', 'srt',
  'srtp', 'subfile', 'tcp', 'tee', 'tls', 'udp', 'udplite', 'unix', 'zmq',
]);

const DEVICE = 'a capture/playback device';
const INDIRECT = 'opens further inputs named inside it or in its options';

/**
 * Demuxers refused for `-f` on an input, and for what a source is probed as
 * (libavformat picks a demuxer by content: a playlist named `x.mkv` is read
 * as one): devices, network inputs, scripts, and formats that open further
 * files named inside them. The handbrake module refuses the same set (HandBrake
 * reads files with the same libavformat).
 */
export const REFUSED_INPUT_FORMATS: ReadonlyMap<string, string> = new Map([
  ...['alsa', 'android_camera', 'avfoundation', 'bktr', 'decklink', 'dshow', 'dv1394', 'fbdev', 'gdigrab', 'iec61883', 'jack', 'kmsgrab', 'libcdio', 'libdc1394', 'openal', 'oss', 'pulse', 'sndio', 'v4l2', 'video4linux2', 'vfwcap', 'x11grab', 'xcbgrab'].map(
    (name) => [name, DEVICE] as [string, string],
  ),
  ['lavfi', 'a virtual input built from a filter graph (use filter_complex)'],
  ['concat', INDIRECT],
  ['hls', INDIRECT],
  ['applehttp', INDIRECT],
  ['dash', INDIRECT],
  ['imf', INDIRECT],
  ['webm_dash_manifest', INDIRECT],
  ['sdp', 'opens network streams described in it'],
  ['rtp', 'a network input'],
  ['rtsp', 'a network input'],
  ['sap', 'a network input'],
  ['vapoursynth', 'runs a script'],
  ['avisynth', 'runs a script'],
]);

/** Muxers refused for `-f` on the output. */
export const REFUSED_OUTPUT_FORMATS: ReadonlyMap<string, string> = new Map([
  ...['alsa', 'audiotoolbox', 'caca', 'decklink', 'fbdev', 'opengl', 'oss', 'pulse', 'sdl', 'sdl2', 'sndio', 'v4l2', 'video4linux2', 'xv'].map(
    (name) => [name, 'an output device'] as [string, string],
  ),
  ['tee', 'writes to outputs named inside its file name'],
  ['fifo', 'wraps another muxer chosen by its options'],
  ['rtp', 'a network muxer'],
  ['rtp_mpegts', 'a network muxer'],
  ['rtsp', 'a network muxer'],
  ['sap', 'a network muxer'],
  ['whip', 'a network muxer (master)'],
  ['smoothstreaming', 'writes a folder of fragments the module does not name'],
  ['webm_chunk', 'writes chunk and header files named by options'],
]);

/** Muxers that write a playlist or list plus segment files beside it. */
export const SEGMENT_MUXERS: ReadonlySet<string> = new Set(['segment', 'ssegment', 'stream_segment', 'hls', 'dash']);

/**
 * Muxers that keep no per-frame times (raw elementary streams, AVI's decode
 * times only), by name and by the extensions ffmpeg picks them for
 * (libavformat/rawenc.c, yuv4mpegenc.c, avienc.c). mpeg1video's `mpg` is
 * the MPEG program stream's too, and left out.
 */
export const UNTIMED_MUXERS: ReadonlyMap<string, readonly string[]> = new Map([
  ['avi', ['avi']],
  ['h261', ['h261']],
  ['h263', ['h263']],
  ['h264', ['h264', '264']],
  ['hevc', ['hevc', 'h265', '265']],
  ['m4v', ['m4v']],
  ['mjpeg', ['mjpg', 'mjpeg']],
  ['mpeg1video', ['m1v']],
  ['mpeg2video', ['m2v']],
  ['cavsvideo', ['cavs']],
  ['dirac', ['drc']],
  ['vc1', ['vc1']],
  ['obu', ['obu']],
  ['rawvideo', ['yuv', 'rgb']],
  ['yuv4mpegpipe', ['y4m']],
  ['data', []],
]);

/** Extensions of the image2 muxer (libavformat/img2enc.c). */
export const IMAGE2_EXTENSIONS: ReadonlySet<string> = new Set(
  'bmp,dpx,exr,jls,jpeg,jpg,jxl,ljpg,pam,pbm,pcx,pfm,pgm,pgmyuv,phm,png,ppm,sgi,tga,tif,tiff,jp2,j2c,j2k,xwd,sun,ras,rs,im1,im8,im24,sunras,vbn,xbm,xface,pix,y,avif,qoi'.split(','),
);
