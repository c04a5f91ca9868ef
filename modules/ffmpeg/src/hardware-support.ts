import type { GpuDevice } from '@sisyphus/core';

/**
 * What the machine offers hardware codecs: GPU devices (found by core),
 * whether it has V4L2 video device nodes, and its platform.
 */
export interface HardwareEnvironment {
  gpus: readonly GpuDevice[];
  /** `/dev/video*` nodes exist (V4L2 memory-to-memory codecs: Raspberry Pi and other SoCs). */
  videoDevices: boolean;
  platform: NodeJS.Platform;
}

type Need = (env: HardwareEnvironment) => boolean;

const nvidia: Need = (env) => env.gpus.some((g) => g.kind === 'nvidia');
const dri =
  (...vendors: string[]): Need =>
  (env) =>
    env.gpus.some((g) => g.kind === 'dri' && (vendors.length === 0 || vendors.includes(g.vendor)));
const vendor =
  (...vendors: string[]): Need =>
  (env) =>
    env.gpus.some((g) => vendors.includes(g.vendor));
const anyGpu: Need = (env) => env.gpus.length > 0;
const platform =
  (name: NodeJS.Platform): Need =>
  (env) =>
    env.platform === name;
const video: Need = (env) => env.videoDevices;

/**
 * Hardware encoders by name, and what they need to run. Distribution builds
 * of ffmpeg list them whether or not the machine has the hardware (Debian's
 * lists `hevc_nvenc` on a machine without a GPU): a worker advertises one
 * only when a device it needs is present. Encoders matching none of these
 * are software and always advertised.
 */
const ENCODER_NEEDS: ReadonlyArray<[RegExp, Need]> = [
  [/nvenc/, nvidia], // h264_nvenc, hevc_nvenc, av1_nvenc (and the old nvenc, nvenc_h264, nvenc_hevc)
  [/_vaapi$/, dri('intel', 'amd')],
  [/_qsv$/, dri('intel')],
  [/_amf$/, vendor('amd')],
  [/_vulkan$/, anyGpu],
  [/_v4l2m2m$/, video],
  [/_omx$/, video],
  [/_videotoolbox$/, platform('darwin')],
  [/_mf$/, platform('win32')],
  [/_d3d1[12]va$/, platform('win32')],
  [/_mediacodec$/, platform('android')],
];

/**
 * Hardware acceleration methods (`ffmpeg -hwaccels`, the hardware device
 * types) and what they need. A method not listed is advertised as ffmpeg
 * lists it.
 */
const HWACCEL_NEEDS: Readonly<Record<string, Need>> = {
  cuda: nvidia,
  vdpau: vendor('nvidia', 'amd'),
  vaapi: dri('intel', 'amd'),
  qsv: dri('intel'),
  drm: dri(),
  opencl: anyGpu,
  vulkan: anyGpu,
  videotoolbox: platform('darwin'),
  dxva2: platform('win32'),
  d3d11va: platform('win32'),
  d3d12va: platform('win32'),
  mediacodec: platform('android'),
};

/** Can this machine run encoder `name` (a software encoder always; a hardware one with its device)? */
export function encoderUsable(name: string, env: HardwareEnvironment): boolean {
  const need = ENCODER_NEEDS.find(([pattern]) => pattern.test(name))?.[1];
  return need ? need(env) : true;
}

/** Can this machine use hardware acceleration method `name`? */
export function hwaccelUsable(name: string, env: HardwareEnvironment): boolean {
  const need = HWACCEL_NEEDS[name];
  return need ? need(env) : true;
}
