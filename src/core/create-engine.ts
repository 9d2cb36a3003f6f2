/** Builds the conversation engine from flows/ and a set of services. */
import type { Logger } from 'pino';
import { ACTIONS, ACTION_NAMES, ONCE_ONLY_ACTIONS } from './actions/index.ts';
import { ConversationEngine } from './engine.ts';
import { loadFlows } from './flows/load.ts';
import type { Services } from './ports.ts';

import { FLOWS_DIR } from './flows/dir.ts';

export { FLOWS_DIR };

export function createEngine(options: { services: Services; logger: Logger; flowsDir?: string; clock?: () => Date; timeZone?: string }): ConversationEngine {
  const flows = loadFlows(options.flowsDir ?? FLOWS_DIR, ACTION_NAMES);
  return new ConversationEngine({ flows, actions: ACTIONS, onceOnly: ONCE_ONLY_ACTIONS, services: options.services, logger: options.logger, clock: options.clock, timeZone: options.timeZone });
}
