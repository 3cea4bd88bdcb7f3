// diagnose() and the `check` option's handler and error: what `xent` exports of them, and the package's
// `xent/diagnose` entry.
export { diagnose } from './diagnose.ts';
export { setDiagnosticsHandler, XentCheckError } from './check.ts';
export type { DiagnoseOptions, DiagnosticsHandler, Finding, FindingCode } from '../types.ts';
