// The `hello` a client gets on connecting: what the session plays and what this model can do (the registry's
// methods, their parameters and the colour maps), and the transport's limits.
import { REALTIME_METHODS } from '../saliency/methods/index.js';
import { COLORMAPS, methodParamInfo, type StreamSettings } from '../settings.js';
import type { Explainer } from '../types.js';
import { PROTOCOL_VERSION } from './commands.js';
import type { HelloMessage, SourceDescription } from './messages.js';

export const SERVER_NAME = 'saliencam 0.1.0';

export function helloMessage(source: SourceDescription, engine: Explainer, format: StreamSettings['format'], limits: HelloMessage['limits']): HelloMessage {
  const methods = engine.methods;
  return {
    v: PROTOCOL_VERSION,
    type: 'hello',
    server: SERVER_NAME,
    source,
    model: engine.model,
    backend: engine.backend,
    methods,
    realtimeMethods: REALTIME_METHODS.filter((m) => methods.includes(m)),
    methodParams: Object.fromEntries(Object.entries(methodParamInfo()).filter(([m]) => (methods as readonly string[]).includes(m))),
    colormaps: COLORMAPS,
    classNames: engine.classNames,
    imageFormat: format,
    limits: { maxMessageBytes: limits.maxMessageBytes, frameQueue: limits.frameQueue, commandsPerSecond: limits.commandsPerSecond },
  };
}
