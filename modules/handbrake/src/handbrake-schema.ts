import { Type, type Static, type TSchema } from '@sisyphus/core';

/*
 * The data shape of the original Sisyphus `handbrake` task (sisyphus-handbrake's
 * schema, based on HandBrakeCLI 1.6.1), written with TypeBox. It accepts and
 * refuses what the original's JSON schema accepts and refuses, including its
 * quirks (see docs/modules.md, "handbrake"): the module's `validate` then
 * refuses what the original accepted but HandBrakeCLI cannot run.
 */

const str = (description: string, options: Record<string, unknown> = {}) => Type.String({ description, ...options });
const int = (description: string, options: Record<string, unknown> = {}) => Type.Integer({ description, ...options });
const num = (description: string, options: Record<string, unknown> = {}) => Type.Number({ description, ...options });
const bool = (description: string) => Type.Boolean({ description });
const opt = <T extends TSchema>(schema: T) => Type.Optional(schema);
const oneOf = (values: string[], description: string) => Type.Enum(values, { description });
const list = <T extends TSchema>(item: T, description: string, options: Record<string, unknown> = {}) => Type.Array(item, { description, ...options });

/** `{seconds: 10}`, `{frames: 300}` or `{pts: 900000}`: exactly one unit. */
const StartAt = Type.Union(
  [
    Type.Object({ frames: int('Frame number') }, { additionalProperties: false }),
    Type.Object({ seconds: num('Seconds') }, { additionalProperties: false }),
    Type.Object({ pts: int('Presentation timestamp on a 90 kHz clock') }, { additionalProperties: false }),
  ],
  { description: 'Start at an offset: exactly one of frames, seconds, pts (--start-at UNIT:VALUE)' },
);

/** The original schema leaves `stop_at` open (no unit rule, other keys allowed); `validate` asks for exactly one unit. */
const StopAt = Type.Object(
  { frames: opt(int('Frames')), seconds: opt(num('Seconds')), pts: opt(int('Duration on a 90 kHz clock')) },
  { description: 'Stop after a duration, counted from start_at: one of frames, seconds, pts (--stop-at UNIT:VALUE); same unit as start_at' },
);

/** Options of the source (HandBrakeCLI "Source Options"). */
export const SourceOptionsSchema = Type.Object(
  {
    title: opt(int('Title to encode (--title; 1 for a plain file)', { default: 1 })),
    min_duration: opt(num('Shortest title to consider, in seconds (--min-duration)', { default: 10 })),
    main_feature: opt(bool('Detect and select the main feature title (--main-feature)')),
    chapters: opt(str('Chapters to encode: "3" or "1-3" (--chapters)')),
    angle: opt(int('Video angle, DVD or Blu-ray only (--angle)')),
    previews: opt(int('Preview images made while scanning (--previews)', { default: 10 })),
    start_at_preview: opt(int('Start encoding at this preview (--start-at-preview)')),
    start_at: opt(StartAt),
    stop_at: opt(StopAt),
  },
  { additionalProperties: false, description: 'HandBrakeCLI source options' },
);

/** Options of the output file (HandBrakeCLI "Destination Options"). */
export const DestinationOptionsSchema = Type.Object(
  {
    format: opt(oneOf(['av_mp4', 'av_mkv', 'av_webm'], 'Container (--format); default: from output_file\'s extension')),
    markers: opt(bool('Chapter markers (--markers / --no-markers)')),
    optimize: opt(bool('MP4 fast start (--optimize / --no-optimize)')),
    ipod_atom: opt(bool('iPod 5G atom in MP4 (--ipod-atom / --no-ipod-atom)')),
    align_av: opt(bool('Pad stream starts so they all start together (--align-av)')),
    inline_parameter_sets: opt(bool('SPS/PPS before each IDR, for adaptive streaming (--inline-parameter-sets)')),
  },
  { additionalProperties: false, description: 'HandBrakeCLI destination options' },
);

/** The video encoders the original schema names (HandBrakeCLI 1.6.1's list, plus NVENC; `VP9_10bit` is not in it). */
export const VIDEO_ENCODERS = [
  'svt_av1', 'svt_av1_10bit', 'x264', 'x264_10bit', 'nvenc_h264', 'x265', 'x265_10bit', 'x265_12bit', 'nvenc_h265',
  'nvenv_h265_10bit', 'nvenc_h265_12bit', 'mpeg2', 'mpeg4', 'VP8', 'VP9', 'theora',
];

/** Video options (HandBrakeCLI "Video Options"). */
export const VideoOptionsSchema = Type.Object(
  {
    encoder: opt(oneOf(VIDEO_ENCODERS, 'Video encoder (--encoder)')),
    encoder_preset: opt(str('Encoder speed preset, e.g. x264 "slow" (--encoder-preset)')),
    encoder_tune: opt(str('Encoder tune (--encoder-tune)')),
    encopts: opt(Type.Record(Type.String(), Type.Unknown(), { description: 'Advanced encoder options {key: value}; null: a key without value (--encopts k=v:k2)' })),
    encoder_profile: opt(str('Encoder profile (--encoder-profile)')),
    encoder_level: opt(str('Encoder level (--encoder-level)')),
    quality: opt(num('Constant quality, e.g. 22 (--quality)')),
    vb: opt(int('Video bitrate in kbit/s (--vb)')),
    two_pass: opt(bool('Two-pass encode (--two-pass / --no-two-pass)')),
    turbo: opt(bool('Fast first pass (--turbo / --no-turbo)')),
    rate: opt(num('Frame rate, 1 to 1000 (--rate)')),
    vfr: opt(bool('Variable frame rate (--vfr)')),
    cfr: opt(bool('Constant frame rate (--cfr)')),
    pfr: opt(bool('Peak-limited frame rate (--pfr)')),
    enable_hw_decoding: opt(bool('NVDEC hardware decoding (--enable-hw-decoding nvdec)')),
    disable_hw_decoding: opt(bool('Software decoding only (--disable-hw-decoding)')),
  },
  { additionalProperties: false, description: 'HandBrakeCLI video options' },
);

export const AUDIO_ENCODERS = [
  'none', 'fdk_aac', 'fdk_haac', 'av_aac', 'copy:aac', 'ac3', 'copy:ac3', 'eac3', 'copy:eac3', 'copy:truehd', 'copy:dts',
  'copy:dtshd', 'copy:mp2', 'mp3', 'copy:mp3', 'vorbis', 'flac16', 'flac24', 'copy:flac', 'opus', 'copy:opus', 'copy',
];
export const MIXDOWNS = ['mono', 'left_only', 'right_only', 'stereo', 'dpl1', 'dpl2', '5point1', '6point1', '7point1', '5_2_lfe'];

/** Audio options (HandBrakeCLI "Audio Options"): lists are per output track (HandBrake's comma lists). */
export const AudioOptionsSchema = Type.Object(
  {
    audio_lang_list: opt(list(Type.String(), 'Languages to select (ISO 639-2, "und" for any) (--audio-lang-list)')),
    all_audio: opt(bool('Every track of the listed languages (--all-audio)')),
    first_audio: opt(bool('The first track of the listed languages (--first-audio)')),
    audio: opt(Type.Union([list(Type.Integer(), 'Source audio tracks, 1-based; one output track each'), Type.Null()], { description: 'Audio tracks (--audio 1,2); null: no audio (--audio none)' })),
    aencoder: opt(list(oneOf(AUDIO_ENCODERS, 'Encoder'), 'Encoder per track (--aencoder)')),
    audio_copy_mask: opt(list(Type.String(), 'Codecs "copy" may pass through (--audio-copy-mask)')),
    audio_fallback: opt(str('Encoder when a track cannot be copied (--audio-fallback)')),
    ab: opt(list(Type.Integer(), 'Bitrate per track, kbit/s (--ab)')),
    ac: opt(list(Type.Number(), 'Compression level per track (--ac)')),
    mixdown: opt(list(oneOf(MIXDOWNS, 'Mixdown'), 'Mixdown per track (--mixdown)')),
    normalize_mix: opt(list(Type.Boolean(), 'Normalize mix levels per track (--normalize-mix 1,0)')),
    arate: opt(list(Type.Number(), 'Sample rate per track in kHz (--arate)')),
    drc: opt(list(Type.Number({ minimum: 1, maximum: 4 }), 'Dynamic range compression per track, 1 to 4 (--drc)')),
    gain: opt(list(Type.Number(), 'Gain per track in dB (--gain)')),
    adither: opt(list(oneOf(['auto', 'none', 'rectangular', 'triangular', 'triangular_hp', 'lipshitz_ns'], 'Dither'), 'Dither per track, flac16 only (--adither)')),
    aname: opt(list(Type.String(), 'Name per track (--aname)')),
  },
  { additionalProperties: false, description: 'HandBrakeCLI audio options' },
);

const Crop = Type.Object(
  { top: opt(Type.Integer()), bottom: opt(Type.Integer()), left: opt(Type.Integer()), right: opt(Type.Integer()) },
  { description: 'Pixels to crop (--crop top:bottom:left:right; a side left out is 0)' },
);

/** Picture options (HandBrakeCLI "Picture Options"). */
export const PictureOptionsSchema = Type.Object(
  {
    width: opt(int('Storage width (--width)')),
    height: opt(int('Storage height (--height)')),
    crop_mode: opt(oneOf(['auto', 'conservative', 'none', 'custom'], 'Crop mode (--crop-mode)')),
    crop: opt(Crop),
    crop_threshold_pixels: opt(int('Pixels of difference for a new aspect ratio (--crop-threshold-pixels)')),
    crop_threshold_frames: opt(int('Frames that must differ to trigger smart crop (--crop-threshold-frames)')),
    max_height: opt(int('Maximum height (--maxHeight)')),
    max_width: opt(int('Maximum width (--maxWidth)')),
    non_anamorphic: opt(bool('Square pixels (--non-anamorphic)')),
    auto_anamorphic: opt(bool('Pixel aspect that maximizes storage resolution (--auto-anamorphic)')),
    loose_anamorphic: opt(bool('Pixel aspect close to the source\'s (--loose-anamorphic)')),
    custom_anamorphic: opt(bool('Pixel aspect set by the other options (--custom-anamorphic)')),
    display_width: opt(int('Display width, custom anamorphic (--display-width)')),
    keep_display_aspect: opt(bool('Keep the display aspect, custom anamorphic (--keep-display-aspect / --no-keep-display-aspect)')),
    pixel_aspect: opt(str('Pixel aspect "X:Y", custom anamorphic (--pixel-aspect)')),
    itu_par: opt(bool('Wider ITU pixel aspects (--itu-par / --no-itu-par)')),
    modulus: opt(int('Width and height divisible by this (--modulus)')),
    color_matrix: opt(oneOf(['2020', '709', '601', 'ntsc', 'pal'], 'Signalled color matrix (--color-matrix)')),
  },
  { additionalProperties: false, description: 'HandBrakeCLI picture options' },
);

/** A custom filter setting: `{key: value}` becomes `key=value:...` (underscores in keys become dashes). */
const settings = (keys: Record<string, 'number' | 'string'>, strict = true) =>
  Type.Object(
    Object.fromEntries(Object.entries(keys).map(([k, t]) => [k, opt(t === 'number' ? Type.Number() : Type.String())])),
    strict ? { additionalProperties: false, minProperties: 1 } : {},
  );

/**
 * A filter given as `{preset: NAME}` or `{custom: {...}}`, exactly one. The
 * original's schema refuses `true` and `false` for these filters (its
 * `oneOf` matches a boolean twice), and so does this one.
 */
const presetOrCustom = (presets: string[], custom: TSchema, description: string) =>
  Type.Union(
    [
      Type.Object({ preset: oneOf(presets, 'Preset') }, { additionalProperties: false }),
      Type.Object({ custom }, { additionalProperties: false }),
    ],
    { description: `${description}: {preset: NAME} or {custom: {...}}` },
  );

const STRENGTHS = ['ultralight', 'light', 'medium', 'strong', 'stronger', 'verystrong'];
const tune = (values: string[], description: string) => opt(oneOf(values, description));

/** Filter options (HandBrakeCLI "Filters Options"). */
export const FiltersOptionsSchema = Type.Object(
  {
    comb_detect: opt(
      Type.Union(
        [
          Type.Boolean(),
          Type.Object({ presets: oneOf(['permissive', 'fast'], 'Preset') }, { additionalProperties: false }),
          Type.Object(
            { custom: settings({ mode: 'number', spatial_metric: 'number', motion_thresh: 'number', spatial_thresh: 'number', filter_mode: 'number', block_thresh: 'number', block_width: 'number', block_height: 'number' }) },
            { additionalProperties: false },
          ),
        ],
        { description: 'Comb detection (--comb-detect): true, false (--no-comb-detect), {presets: NAME} or {custom: {...}}' },
      ),
    ),
    deinterlace: opt(presetOrCustom(['skip-spatial', 'bob', 'qsv'], settings({ mode: 'number', parity: 'number' }), 'yadif deinterlace (--deinterlace)')),
    bwdif: opt(presetOrCustom(['bob'], settings({ mode: 'number', parity: 'number' }), 'bwdif deinterlace (--bwdif)')),
    decomb: opt(
      presetOrCustom(
        ['bob', 'eedi2', 'eedi2bob'],
        settings({ mode: 'number', magnitude_thresh: 'number', laplacian_thresh: 'number', variance_thresh: 'number', dilation_thresh: 'number', erosion_thresh: 'number', noise_thresh: 'number', search_distance: 'number', postproc: 'number', parity: 'number' }, false),
        'Decomb (--decomb)',
      ),
    ),
    detelecine: opt(
      Type.Union(
        [
          Type.Boolean(),
          Type.Object(
            { skip_left: opt(Type.Number()), skip_right: opt(Type.Number()), skip_top: opt(Type.Number()), skip_bottom: opt(Type.Number()), strict_breaks: opt(Type.Number()), plane: opt(Type.Number()), parity: opt(Type.Number()), disable: opt(Type.Number()) },
            { minProperties: 1 },
          ),
        ],
        { description: 'Detelecine (--detelecine): true, false (--no-detelecine) or custom settings {skip_left: 1, ...}' },
      ),
    ),
    hqdn3d: opt(presetOrCustom(['ultralight', 'light', 'medium', 'strong'], settings({ y_spatial: 'number', cb_spatial: 'number', cr_spatial: 'number', y_temporal: 'number', cb_temporal: 'number', cr_temporal: 'number' }), 'hqdn3d denoise (--hqdn3d)')),
    nlmeans: opt(
      presetOrCustom(
        ['ultralight', 'light', 'medium', 'strong'],
        settings(Object.fromEntries([...['y', 'cb', 'cr'].flatMap((p) => ['strength', 'origin_tune', 'patch_size', 'range', 'frame_count', 'prefilter'].map((k) => [`${p}_${k}`, 'number'])), ['threads', 'number']]) as Record<string, 'number'>),
        'NLMeans denoise (--nlmeans)',
      ),
    ),
    nlmeans_tune: tune(['none', 'film', 'grain', 'highmotion', 'animation', 'tape', 'sprite'], 'NLMeans tune (--nlmeans-tune)'),
    chroma_smooth: opt(presetOrCustom(STRENGTHS, settings({ cb_strength: 'number', cb_size: 'number', cr_strength: 'number', cr_size: 'number' }), 'Chroma smooth (--chroma-smooth)')),
    chroma_smooth_tune: tune(['none', 'tiny', 'small', 'medium', 'wide', 'verywide'], 'Chroma smooth tune (--chroma-smooth-tune)'),
    unsharp: opt(presetOrCustom(STRENGTHS, settings({ y_strength: 'number', y_size: 'number', cb_strength: 'number', cb_size: 'number', cr_strength: 'number', cr_size: 'number' }), 'Unsharp (--unsharp)')),
    unsharp_tune: tune(['none', 'ultrafine', 'fine', 'medium', 'coarse', 'verycoarse'], 'Unsharp tune (--unsharp-tune)'),
    lapsharp: opt(presetOrCustom(STRENGTHS, settings({ y_strength: 'number', y_kernel: 'string', cb_strength: 'number', cb_kernel: 'string', cr_strength: 'number', cr_kernel: 'string' }), 'Lapsharp (--lapsharp)')),
    lapsharp_tune: tune(['none', 'film', 'grain', 'animation', 'sprite'], 'Lapsharp tune (--lapsharp-tune)'),
    deblock: opt(presetOrCustom(STRENGTHS, settings({ strength: 'string', thresh: 'number', blocksize: 'number', disable: 'number' }), 'Deblock (--deblock)')),
    deblock_tune: tune(['small', 'medium', 'large'], 'Deblock tune (--deblock-tune)'),
    rotate: opt(
      Type.Union(
        [
          Type.Boolean(),
          Type.Object({ angle: opt(Type.Integer({ multipleOf: 90, minimum: 0, maximum: 270 })), hflip: opt(Type.Boolean()) }, { additionalProperties: false, minProperties: 1 }),
        ],
        { description: 'Rotate (--rotate): true (180), or {angle: 0|90|180|270, hflip: bool}' },
      ),
    ),
    pad: opt(
      Type.Object(
        { width: opt(Type.Integer()), height: opt(Type.Integer()), color: opt(Type.String()), x: opt(Type.Integer()), y: opt(Type.Integer()), top: opt(Type.Integer()), bottom: opt(Type.Integer()), left: opt(Type.Integer()), right: opt(Type.Integer()) },
        { additionalProperties: false, minProperties: 1, description: 'Pad with borders (--pad width=W:color=C:...)' },
      ),
    ),
    colorspace: opt(oneOf(['bt2020', 'bt709', 'bt601-6-525', 'bt601-6-625'], 'Convert colorspace (--colorspace)')),
    grayscale: opt(bool('Grayscale (--grayscale / --no-grayscale)')),
  },
  { additionalProperties: false, description: 'HandBrakeCLI filter options' },
);

/** Subtitle options (HandBrakeCLI "Subtitles Options"). */
export const SubtitlesOptionsSchema = Type.Object(
  {
    subtitle_lang_list: opt(list(Type.String(), 'Languages to select (--subtitle-lang-list)', { minItems: 1 })),
    all_subtitles: opt(bool('Every track of the listed languages (--all-subtitles)')),
    first_subtitles: opt(bool('The first track of the listed languages (--first-subtitle)')),
    subtitle: opt(
      Type.Union([Type.Boolean(), list(Type.Union([Type.String(), Type.Integer()]), 'Source subtitle tracks, 1-based, or "scan"', { minItems: 1 })], {
        description: 'Subtitle tracks (--subtitle 1,2); false: none (--subtitle none)',
      }),
    ),
    subname: opt(list(Type.String(), 'Name per subtitle track (--subname)', { minItems: 1 })),
    subtitle_forced: opt(Type.Union([Type.Boolean(), list(Type.Integer(), 'Indexes into subtitle', { minItems: 1 })], { description: 'Forced-only display (--subtitle-forced[=1,2])' })),
    subtitle_burned: opt(Type.Union([Type.Integer(), Type.String()], { description: 'Burn in: an index into subtitle, "native" or "none" (--subtitle-burned=N)' })),
    subtitle_default: opt(Type.Union([Type.Integer(), Type.String()], { description: 'Default track: an index into subtitle, or "none" (--subtitle-default=N)' })),
    native_language: opt(str('Preferred language, ISO 639-2 (--native-language)')),
    native_dub: opt(bool('Prefer dubbed audio in native_language (--native-dub)')),
    srt_file: opt(list(Type.String(), 'SubRip files to add (--srt-file)', { minItems: 1 })),
    srt_codeset: opt(list(Type.String(), 'Character set per SRT file (--srt-codeset)', { minItems: 1 })),
    srt_offset: opt(list(Type.Integer(), 'Offset per SRT file, ms (--srt-offset)', { minItems: 1 })),
    srt_lang: opt(list(Type.String(), 'Language per SRT file (--srt-lang)', { minItems: 1 })),
    srt_default: opt(Type.Union([Type.Boolean(), Type.Integer()], { description: 'Default SRT: true (the first) or a 1-based index into srt_file (--srt-default[=N])' })),
    srt_burn: opt(Type.Union([Type.Boolean(), Type.Integer()], { description: 'Burn an SRT in: true (the first) or an index into srt_file (--srt-burn[=N])' })),
    ssa_file: opt(list(Type.String(), 'SSA/ASS files to add (--ssa-file)', { minItems: 1 })),
    ssa_offset: opt(list(Type.Integer(), 'Offset per SSA file, ms (--ssa-offset)', { minItems: 1 })),
    ssa_lang: opt(list(Type.String(), 'Language per SSA file (--ssa-lang)', { minItems: 1 })),
    ssa_default: opt(Type.Union([Type.Boolean(), Type.Integer()], { description: 'Default SSA: true (the first) or an index into ssa_file (--ssa-default[=N])' })),
    ssa_burn: opt(Type.Union([Type.Boolean(), Type.Integer()], { description: 'Burn an SSA in: true (the first) or an index into ssa_file (--ssa-burn[=N])' })),
  },
  { additionalProperties: false, description: 'HandBrakeCLI subtitle options' },
);

/** Data of the `handbrake` task: the original Sisyphus shape. */
export const HandbrakeDataSchema = Type.Object(
  {
    source: str('The file (or DVD/Blu-ray folder or image) to encode (--input)'),
    output_file: str('The file to write (--output); its extension picks the container unless destination_options.format does'),
    source_options: opt(SourceOptionsSchema),
    destination_options: opt(DestinationOptionsSchema),
    video_options: opt(VideoOptionsSchema),
    audio_options: opt(AudioOptionsSchema),
    picture_options: opt(PictureOptionsSchema),
    filters_options: opt(FiltersOptionsSchema),
    subtitles_options: opt(SubtitlesOptionsSchema),
  },
  { additionalProperties: false },
);

/** Settings of the module in the worker config (`settings.handbrake`). */
export const HandbrakeSettingsSchema = Type.Object(
  {
    handbrake: opt(Type.String({ minLength: 1, description: 'HandBrakeCLI binary: a path, or a name looked up on PATH (default HandBrakeCLI)' })),
    ffprobe: opt(Type.String({ minLength: 1, description: 'ffprobe binary, to check sources and the result (default ffprobe)' })),
  },
  { additionalProperties: false },
);

export type HandbrakeData = Static<typeof HandbrakeDataSchema>;
export type HandbrakeSettings = Static<typeof HandbrakeSettingsSchema>;
