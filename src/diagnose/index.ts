// diagnose() and the `check` option, as the package exports them.
export { diagnose } from './diagnose.ts';
export { setDiagnosticsHandler, XentCheckError } from './check.ts';
