// A module worker that imports xent and runs the shared workload on the backend it is asked for.
// Message in: { backend: 'wasm' | 'js' | 'auto' }; message out: { info, result } or { error }.
import * as xent from '../../src/index.ts';
import { runWorkload } from './workload.ts';

self.onmessage = async (e: MessageEvent<{ backend: 'wasm' | 'js' | 'auto' }>) => {
  try {
    await xent.init();
    xent.setBackend(e.data.backend);
    self.postMessage({ info: xent.getBackendInfo(), result: runWorkload(xent) });
  } catch (err) {
    self.postMessage({ error: String(err) });
  }
};
