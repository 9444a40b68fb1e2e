// The live dashboard: `startServer` (HTTP + WebSocket on one port) and the protocol it speaks.
export { startServer, dashboardUrl, defaultWebRoot, DEFAULT_LIMITS, type RunningServer, type ServerOptions, type ServerLimits, type ServerStats } from './server.js';
export { Player, type PlayerOptions } from './player.js';
export { Transport, type Session, type SessionCommand, type CommandError } from './transport.js';
export { parseCommand, MAX_MESSAGE_BYTES } from './protocol.js';
export { COMMAND_TYPES, PROTOCOL_VERSION } from './commands.js';
export { checkBind, generateToken, isLoopbackHost } from './security.js';
export * from './messages.js';
