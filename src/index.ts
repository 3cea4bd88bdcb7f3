// xent: cross-entropy, its gradient, logsumexp, softmax and log-softmax on WebAssembly SIMD.
export * from './compute.ts';
export type { CausalLMLossOptions, CausalLMLossGradOptions } from './causal-lm.ts';
export type { BceOptions, BceGradOptions } from './bce.ts';
export type { KlDivOptions, KlDivGradOptions } from './kl.ts';
export type { DistillationOptions, DistillationGradOptions } from './distill.ts';
export type { TokenLogProbsOptions, TokenStatsOptions, TokenStats } from './llm.ts';
export { diagnose, setDiagnosticsHandler, XentCheckError } from './diagnose/index.ts';
export { init, getBackend, setBackend, getBackendInfo } from './backend/select.ts';
export type { BackendChoice, BackendInfo, BackendOptions, WasmBuild } from './backend/select.ts';
export { setWasmMemoryLimit } from './backend/wasm/kernels.ts';
export { createPool } from './pool.ts';
export type { Pool, PoolOptions } from './pool.ts';
export { allocFloat32 } from './memory.ts';
export type { WasmFloat32Array } from './memory.ts';
export type * from './types.ts';
