/** The training steps bench/engine.ts times, shared by its TF.js peer (the PyTorch peer mirrors them). */
export const ENGINE_TASKS = [
  { name: 'mlp-784-128-10', label: 'MLP 784-128-10, batch 64' },
  { name: 'mlp-784-128-128-10', label: 'MLP 784-128-128-10, batch 128' },
  // The same MLP with a linear output and TF.js's fused softmax cross-entropy on the logits: the formulation
  // PyTorch's peer runs (nn.functional.cross_entropy on logits) for every task.
  {
    name: 'mlp-784-128-128-10-logits',
    label: 'MLP 784-128-128-10, batch 128, logits + tf.losses.softmaxCrossEntropy',
  },
  { name: 'fashion-cnn', label: 'Fashion CNN (c8-p-c16-p-d10), batch 64' },
  { name: 'char-lstm', label: 'char-LSTM (emb 16, LSTM 64, window 32), batch 64' },
  { name: 'transformer', label: 'char-transformer (2 pre-norm blocks, width 64, 4 heads, T 64), batch 32' },
] as const;

export type EngineTaskName = (typeof ENGINE_TASKS)[number]['name'];
