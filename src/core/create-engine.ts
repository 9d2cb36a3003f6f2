/** Builds the conversation engine from flows/, the members' and the officers' actions, and a set of services. */
import type { Logger } from 'pino';
import { ACTIONS, ACTION_NAMES, ACTION_PROBES, ONCE_ONLY_ACTIONS } from './actions/index.ts';
import type { Catalogue } from './catalogue.ts';
import { ConversationEngine } from './engine.ts';
import { loadFlows, type FlowBundle } from './flows/load.ts';
import type { Services } from './ports.ts';
import { FLOWS_DIR } from './flows/dir.ts';
import type { Domain } from '../domain/ports.ts';
import { OFFICER_ACTION_NAMES, OFFICER_CLAIM_FIRST, OFFICER_CONDITIONS, OFFICER_ONCE_ONLY, officerActions } from '../officer/actions.ts';
import type { Officers } from '../officer/directory.ts';

export { FLOWS_DIR };

/** Every action name flows/ may use: the members' and the officers'. */
export const FLOW_ACTION_NAMES: ReadonlySet<string> = new Set([...ACTION_NAMES, ...OFFICER_ACTION_NAMES]);
/** The actions a global's `if:` may name: read only, asked before deciding. */
export const FLOW_CONDITION_ACTIONS: ReadonlySet<string> = new Set(OFFICER_CONDITIONS);

/** flows/ (or another folder) read and checked against the actions this build has. */
export function loadFlowsFrom(dir: string = FLOWS_DIR): FlowBundle {
  return loadFlows(dir, FLOW_ACTION_NAMES, FLOW_CONDITION_ACTIONS);
}

export interface EngineParts {
  services: Services;
  logger: Logger;
  /** Already loaded flows; else they are read from flowsDir (default flows/). */
  flows?: FlowBundle;
  flowsDir?: string;
  /** The texts the rest of the app uses too (default: a catalogue over the flows' messages). */
  catalogue?: Catalogue;
  clock?: () => Date;
  timeZone?: string;
  /** The business operations the officers' actions call, and the officers by phone; without them, officers get no powers. */
  officers?: { domain: Domain; directory: Officers };
}

export function createEngine(options: EngineParts): ConversationEngine {
  const flows = options.flows ?? loadFlowsFrom(options.flowsDir);
  const officer = options.officers ? officerActions(options.officers.domain, options.officers.directory) : officerActions(null as never, null as never);
  return new ConversationEngine({
    flows,
    catalogue: options.catalogue,
    actions: new Map([...ACTIONS, ...officer]),
    probes: ACTION_PROBES,
    onceOnly: new Set([...ONCE_ONLY_ACTIONS, ...OFFICER_ONCE_ONLY]),
    claimFirst: new Set(OFFICER_CLAIM_FIRST),
    services: options.services,
    officers: options.officers?.directory,
    logger: options.logger,
    clock: options.clock,
    timeZone: options.timeZone,
  });
}
