/**
 * The punt6 configuration: `loadConfig(path)` / `parseConfig(text, source)` return the normalized
 * model (model.ts) or throw one `ConfigError` listing every problem. docs/configuration.md is the
 * reference of the file format.
 */
export { loadConfig, parseConfig } from './load.js';
export { ConfigError, formatProblem, problemListText, type ConfigProblem } from './error.js';
export { Defaults } from './normalize.js';
export { configSchema } from './schema.js';
export * from './model.js';
