import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GpuDevice } from '../module/module-hooks.js';

/** PCI vendor ids of the GPU makers routing names (`/sys/class/drm/renderD*\/device/vendor`). */
export const GPU_VENDORS: Readonly<Record<string, string>> = { '0x10de': 'nvidia', '0x8086': 'intel', '0x1002': 'amd' };

/** Options of {@link detectGpus}: other roots than `/dev` and `/sys` (for tests). */
export interface DetectGpusOptions {
  devDir?: string;
  sysDir?: string;
}

const byNumber = (a: string, b: string) => Number(a.replace(/\D+/g, '')) - Number(b.replace(/\D+/g, '')) || a.localeCompare(b);
const list = (dir: string) => readdir(dir).catch(() => [] as string[]);

/**
 * GPU devices present, without any module: NVIDIA device nodes
 * (`/dev/nvidia0`, `/dev/nvidia1`, ...) and DRM render nodes
 * (`/dev/dri/renderD128`, ...) with their vendor read from
 * `/sys/class/drm/NODE/device/vendor` (`0x10de` nvidia, `0x8086` intel,
 * `0x1002` amd, another id as it is, `unknown` when unreadable). Nothing
 * found (a container without devices) is an empty list, never an error.
 */
export async function detectGpus(options: DetectGpusOptions = {}): Promise<GpuDevice[]> {
  const dev = options.devDir ?? '/dev';
  const sys = options.sysDir ?? '/sys';
  const devices: GpuDevice[] = [];
  for (const name of (await list(dev)).filter((n) => /^nvidia\d+$/.test(n)).sort(byNumber)) {
    devices.push({ vendor: 'nvidia', path: join(dev, name), kind: 'nvidia' });
  }
  for (const name of (await list(join(dev, 'dri'))).filter((n) => /^renderD\d+$/.test(n)).sort(byNumber)) {
    const raw = await readFile(join(sys, 'class', 'drm', name, 'device', 'vendor'), 'utf8').catch(() => undefined);
    const id = raw?.trim().toLowerCase();
    const vendor = id && /^0x[0-9a-f]{1,4}$/.test(id) ? (GPU_VENDORS[id] ?? id) : 'unknown';
    devices.push({ vendor, path: join(dev, 'dri', name), kind: 'dri' });
  }
  return devices;
}

/** The vendors of `devices`, sorted, without repeats (`unknown` left out): the `gpus` a worker advertises. */
export function gpuVendors(devices: readonly GpuDevice[]): string[] {
  return [...new Set(devices.map((d) => d.vendor).filter((v) => v !== 'unknown'))].sort();
}
