// xent's compute functions, each one op on the backend in use: index.ts exports them with the rest of the
// API, and a pool (pool.ts) runs them on its workers, by name.
export { crossEntropy, crossEntropyWithGrad, nllLoss, nllLossWithGrad } from './loss.ts';
export { logSoftmax, softmax, softmin, logSumExp, logSoftmaxBackward, softmaxBackward, logSumExpBackward } from './softmax.ts';
export { tokenLogProbs, tokenStats, perplexity, continuationLogProb } from './llm.ts';
export { causalLMLoss, causalLMLossWithGrad } from './causal-lm.ts';
export { binaryCrossEntropyWithLogits, binaryCrossEntropyWithLogitsWithGrad } from './bce.ts';
export { klDiv, klDivWithGrad } from './kl.ts';
export { distillationLoss, distillationLossWithGrad } from './distill.ts';
