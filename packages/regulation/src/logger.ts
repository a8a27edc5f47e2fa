/** The pino-style logger the package takes as a parameter (pino's Logger satisfies it). */
export interface RegulationLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): RegulationLogger;
}
