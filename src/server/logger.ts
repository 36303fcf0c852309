/** Where the server reports what it cannot return to a client. */
export interface ServerLogger {
  debug(message: string): void;
  info(message: string): void;
  error(message: string): void;
}

export const consoleLogger: ServerLogger = {
  debug: () => {},
  info: (m) => console.log(m),
  error: (m) => console.error(m),
};
