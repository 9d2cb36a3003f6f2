import type { Language } from '../format.ts';
import type { InboundMessage, ReplyDocument } from '../message.ts';
import type { Identity, MemberRef, OfficerRef, Services, SessionData } from '../ports.ts';
import type { ActingIdentity } from '../roles.ts';
import type { TextKey } from '../texts.ts';

export type ActionArgs = Readonly<Record<string, string | number | boolean>>;

export interface ActionContext {
  services: Services;
  identity: Identity;
  /** The member this identity is verified as; null when not verified. */
  member: MemberRef | null;
  message: InboundMessage;
  /** Conversation data kept between messages. */
  session: SessionData;
  language: Language;
  now: Date;
  /** The service's time zone (TZ), for times shown outside a cooperative's context. */
  timeZone: string;
  args: ActionArgs;
  /** The member's text, for input actions. */
  input: string;
  /** Render a message from the catalogue in the conversation's language (a key declared in src/core/texts.ts). */
  t(key: TextKey, vars?: Record<string, string>): string;
  /** Whether the catalogue has this message (for optional translations of data, like "setoran"). */
  has(key: string): boolean;
  /** Switch the conversation language (persisted by the action). */
  setLanguage(language: Language): void;
  /** Re-read the identity after an action bound or unbound a member. */
  setIdentity(identity: Identity): void;
  /** The officers the sender's phone proof covers (see Roles.officers); a node's `requires:` says which powers hold. */
  officers: readonly OfficerRef[];
  /** The channel identity acting, for an officer action's audit. */
  via: ActingIdentity;
}

export interface ActionResult {
  outcome?: string;
  vars?: Record<string, string>;
  /** A document the node's reply carries (a RAT report): see Reply.document. */
  document?: ReplyDocument;
}

export type Action = (ctx: ActionContext) => Promise<ActionResult>;

/**
 * The catalogue's translation of a data value ("setoran", a complaint's status), when it has
 * one: such keys are optional, so they are not declared in src/core/texts.ts.
 */
export function optionalText(ctx: ActionContext, key: string): string | undefined {
  return ctx.has(key) ? ctx.t(key as TextKey) : undefined;
}

/** A member-only action: the engine guarantees ctx.member, the type system is told here. */
export function requireMember(ctx: ActionContext): MemberRef {
  if (!ctx.member) throw new Error(`action needs a verified member (identity ${ctx.identity.id})`);
  return ctx.member;
}
