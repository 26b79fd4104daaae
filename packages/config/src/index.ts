export {
  type Config,
  ConfigError,
  type DatabaseConfig,
  type InboundSettings,
  type RawEnv,
  readEnv,
  toConfig,
  toDatabaseConfig,
  toInboundConfig,
} from './config.js';
export { DEFAULT_AUDIT_TIMEOUT_MS, ENV_NAMES, type EnvName, LOG_LEVELS, type LogLevel } from './variables.js';
