// xent: cross-entropy, its gradient, logsumexp, softmax and log-softmax on WebAssembly SIMD.
export { crossEntropy, crossEntropyWithGrad, nllLoss } from './loss.ts';
export { logSoftmax, softmax, logSumExp } from './softmax.ts';
export { init, getBackend, setBackend, getBackendInfo } from './backend/select.ts';
export type { BackendChoice, BackendInfo } from './backend/select.ts';
export { setWasmMemoryLimit } from './backend/wasm.ts';
export type * from './types.ts';
