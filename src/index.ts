// xent: cross-entropy, its gradient, logsumexp, softmax and log-softmax on WebAssembly SIMD.
export { crossEntropy, crossEntropyWithGrad, nllLoss, nllLossWithGrad } from './loss.ts';
export { logSoftmax, softmax, softmin, logSumExp, logSoftmaxBackward, softmaxBackward, logSumExpBackward } from './softmax.ts';
export { tokenLogProbs, tokenStats, perplexity, continuationLogProb } from './llm.ts';
export { causalLMLoss, causalLMLossWithGrad } from './causal-lm.ts';
export type { CausalLMLossOptions, CausalLMLossGradOptions } from './causal-lm.ts';
export { binaryCrossEntropyWithLogits, binaryCrossEntropyWithLogitsWithGrad } from './bce.ts';
export type { BceOptions, BceGradOptions } from './bce.ts';
export { klDiv, klDivWithGrad } from './kl.ts';
export type { KlDivOptions, KlDivGradOptions } from './kl.ts';
export type { TokenLogProbsOptions, TokenStatsOptions, TokenStats } from './llm.ts';
export { diagnose, setDiagnosticsHandler, XentCheckError } from './diagnose/index.ts';
export { init, getBackend, setBackend, getBackendInfo } from './backend/select.ts';
export type { BackendChoice, BackendInfo, BackendOptions, WasmBuild } from './backend/select.ts';
export { setWasmMemoryLimit } from './backend/wasm/kernels.ts';
export { allocFloat32 } from './memory.ts';
export type { WasmFloat32Array } from './memory.ts';
export type * from './types.ts';
