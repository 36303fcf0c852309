export { startServer, type RunningServer, type ServerOptions } from "./server";
export type { HealthStatus } from "./health_service";
export type { PageFn } from "./page";
export type { ServerLogger } from "./logger";
export type { AllowedOrigins } from "./cors";
