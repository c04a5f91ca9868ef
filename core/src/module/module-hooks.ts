import type { Logger } from '../container/services.js';
import type { ProcessRunner } from '../process/process-runner.js';

/**
 * The kinds of capability strings (`kind:value`) that capability routing
 * compares: a worker advertises them, a job requires them (e.g.
 * `module:ffmpeg`, `binary:ffmpeg`, `encoder:hevc_nvenc`, `hwaccel:cuda`,
 * `gpu:nvidia`, `tag:gpu`).
 */
export const CAPABILITY_KINDS = ['module', 'binary', 'encoder', 'hwaccel', 'gpu', 'tag'] as const;

/** One of {@link CAPABILITY_KINDS}. */
export type CapabilityKind = (typeof CAPABILITY_KINDS)[number];

/** A GPU device the worker found (core looks for them before the modules' `detect` hooks run). */
export interface GpuDevice {
  /** `nvidia`, `intel`, `amd`, or the PCI vendor id (`0x1af4`) of another vendor. */
  vendor: string;
  /** The device node: `/dev/nvidia0`, `/dev/dri/renderD128`. */
  path: string;
  /** `nvidia`: an NVIDIA device node (CUDA, NVENC); `dri`: a DRM render node (VA-API, QSV, Vulkan). */
  kind: 'nvidia' | 'dri';
}

/**
 * What a module contributes to its worker's capabilities (the module's own
 * name is listed by core). Every field is optional: give what the module
 * found; a binary that is missing is simply absent.
 */
export interface ModuleDetection {
  /** Programs found and their versions, e.g. `{ffmpeg: '5.1.6-0+deb12u1'}` (`unknown` when found but not read). */
  binaries?: Record<string, string>;
  /** Encoders the worker can use (ffmpeg's names, e.g. `libx264`, `hevc_nvenc`). */
  encoders?: string[];
  /** Hardware acceleration methods the worker can use (ffmpeg's `-hwaccels` names, e.g. `cuda`, `vaapi`). */
  hwaccels?: string[];
}

/** What a module's `detect` hook receives. */
export interface DetectContext<Settings = Record<string, unknown>> {
  /** The module's settings from the worker config (checked against its settings schema), e.g. binary paths. */
  settings: Settings;
  /** Runs programs as argv arrays; pass `signal` and `timeoutMs` to every call. */
  runner: ProcessRunner;
  /** Fires when detection has run out of time (or the worker stops): stop and return. */
  signal: AbortSignal;
  /** Longest a single program run may take (milliseconds). */
  timeoutMs: number;
  /** GPU devices present (found by core), e.g. to leave out hardware encoders no device can serve. */
  gpus: readonly GpuDevice[];
  /** Where to say what could not be detected (a binary that failed to answer). */
  logger?: Logger;
}

/** What a module's `requires` hook receives besides the task's data. */
export interface RequiresContext {
  /**
   * Server-side module data (e.g. ffmpeg option sets), as the task reads it
   * at run time; `undefined` when there is no such record.
   */
  getData(module: string, name: string): Promise<Record<string, unknown> | undefined>;
}
