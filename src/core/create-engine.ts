/** Builds the conversation engine from flows/ and a set of services. */
import type { Logger } from 'pino';
import { ACTIONS, ACTION_NAMES, ONCE_ONLY_ACTIONS } from './actions/index.ts';
import type { Catalogue } from './catalogue.ts';
import { ConversationEngine } from './engine.ts';
import { loadFlows, type FlowBundle } from './flows/load.ts';
import type { Services } from './ports.ts';

import { FLOWS_DIR } from './flows/dir.ts';

export { FLOWS_DIR };

/** flows/ (or another folder) read and checked against the actions this build has. */
export function loadFlowsFrom(dir: string = FLOWS_DIR): FlowBundle {
  return loadFlows(dir, ACTION_NAMES);
}

export function createEngine(options: {
  services: Services;
  logger: Logger;
  /** Already loaded flows; else they are read from flowsDir (default flows/). */
  flows?: FlowBundle;
  flowsDir?: string;
  /** The texts the rest of the app uses too (default: a catalogue over the flows' messages). */
  catalogue?: Catalogue;
  clock?: () => Date;
  timeZone?: string;
}): ConversationEngine {
  const flows = options.flows ?? loadFlowsFrom(options.flowsDir);
  return new ConversationEngine({
    flows,
    catalogue: options.catalogue,
    actions: ACTIONS,
    onceOnly: ONCE_ONLY_ACTIONS,
    services: options.services,
    logger: options.logger,
    clock: options.clock,
    timeZone: options.timeZone,
  });
}
