import { beforeEach, expect } from 'vitest';
import { getBackend, setBackend } from '../../src/index.ts';

export const BACKENDS = ['wasm', 'js'] as const;
export type Backend = (typeof BACKENDS)[number];

/** Inside a describe block: every test runs on backend `b`, and checks that it really does. */
export function useBackend(b: Backend): void {
  beforeEach(() => {
    setBackend(b);
    expect(getBackend()).toBe(b);
  });
}
