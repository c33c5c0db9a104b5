/**
 * Noticing that a GPU backend died under us: WebGL context loss ('webglcontextlost', isContextLost()) and
 * WebGPU device loss (device.lost). tfjs itself keeps using a dead context, so training code polls `lost`.
 */
import type * as tf from '@tensorflow/tfjs';
import type { BackendName } from './backend-names';

/** The parts of the tfjs GPU backends we look at (not in their public typings). */
interface WebGlBackendInternals {
  gpgpu?: { gl?: WebGLRenderingContext | WebGL2RenderingContext };
}
interface WebGpuBackendInternals {
  device?: GPUDevice;
}

export interface BackendHealth {
  readonly backend: BackendName;
  /** Why the backend is unusable, or null while it is fine. */
  lost(): string | null;
  /** Makes the backend really fail, the way a driver reset would (for tests and demos). */
  simulateLoss(): string;
  dispose(): void;
}

export function watchBackend(name: BackendName, backend: tf.KernelBackend): BackendHealth {
  if (name === 'webgl') return watchWebGl(backend as unknown as WebGlBackendInternals);
  if (name === 'webgpu') return watchWebGpu(backend as unknown as WebGpuBackendInternals);
  return {
    backend: name,
    lost: () => null,
    simulateLoss: () => {
      throw new Error(`the ${name} backend runs on the CPU and cannot lose a device; force webgl or webgpu to try a backend loss`);
    },
    dispose: () => {},
  };
}

function watchWebGl(backend: WebGlBackendInternals): BackendHealth {
  const gl = backend.gpgpu?.gl;
  let reason: string | null = gl ? null : 'WebGL backend has no rendering context';
  const onLost = () => {
    reason ??= 'WebGL context lost';
  };
  const canvas = gl?.canvas as (HTMLCanvasElement | OffscreenCanvas) | undefined;
  canvas?.addEventListener('webglcontextlost', onLost);
  return {
    backend: 'webgl',
    lost: () => {
      if (reason === null && gl?.isContextLost()) reason = 'WebGL context lost';
      return reason;
    },
    simulateLoss: () => {
      const ext = gl?.getExtension('WEBGL_lose_context');
      if (!ext) throw new Error('WEBGL_lose_context is not available, cannot simulate a WebGL context loss');
      ext.loseContext();
      return 'WebGL context lost via WEBGL_lose_context';
    },
    dispose: () => canvas?.removeEventListener('webglcontextlost', onLost),
  };
}

function watchWebGpu(backend: WebGpuBackendInternals): BackendHealth {
  const device = backend.device;
  let reason: string | null = device ? null : 'WebGPU backend has no device';
  let disposed = false;
  void device?.lost.then((info) => {
    if (!disposed) reason ??= `WebGPU device lost (${info.reason}${info.message ? `: ${info.message}` : ''})`;
  });
  return {
    backend: 'webgpu',
    lost: () => reason,
    simulateLoss: () => {
      if (!device) throw new Error('WebGPU backend has no device to destroy');
      device.destroy();
      reason ??= 'WebGPU device lost (destroyed)';
      return 'WebGPU device destroyed';
    },
    dispose: () => {
      disposed = true;
    },
  };
}
