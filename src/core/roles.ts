/**
 * Who the sender is to the cooperatives' officers' flows, resolved once per message from the
 * phone the channel vouches for and how that is proven (InboundMessage.phoneProof). A number
 * typed in a message proves nothing; numbers are recycled, so a proof covers only the officers
 * it was made for, and officer powers need the phone proven in this very session.
 */
import { maskDigitRuns } from '../logger.ts';
import type { InboundMessage, PhoneProof } from './message.ts';
import type { Identity, OfficerRef } from './ports.ts';
import type { Requires, Role } from './flows/schema.ts';

export interface Roles {
  /** An officer has the sender's phone on file (proven or only remembered): the officers' words are understood. */
  onFile: boolean;
  /**
   * The officers the phone's proof covers: a contact shared earlier in the session, those it was
   * on file for then; a member link, the officer who is the linked member; the platform's word on
   * this message, all. Who answers a bimtek invitation.
   */
  officers: readonly OfficerRef[];
  proof?: PhoneProof;
  /** Proven in this session (the sender number, or the officer's own contact shared in it): officer powers need this. */
  inSession: boolean;
}

export const NO_ROLES: Roles = { onFile: false, officers: [], inSession: false };

/**
 * The roles of one message. `onFile`: the officers with the phone (verified or remembered) on
 * file now. A link proves only the officer who is the linked member; a session proof, the
 * officers it was made for. Only a bimtek answer (it changes no one else's data) is taken from
 * a link; the officer menu and its steps need the phone proven in this session.
 */
export function rolesOf(message: InboundMessage, identity: Identity, onFile: readonly OfficerRef[]): Roles {
  if (onFile.length === 0) return NO_ROLES;
  const phone = message.verifiedPhone ?? message.rememberedPhone;
  const vouched = phone !== undefined && message.verifiedPhone === phone ? message.phoneProof : undefined;
  const officers = vouched
    ? onFile.filter((o) => (vouched === 'session' ? (message.phoneOfficers ?? []).includes(o.id) : vouched === 'link' ? isLinkedMember(o, identity) : true))
    : [];
  const proof = officers.length > 0 ? vouched : undefined;
  return { onFile: true, officers, proof, inSession: proof === 'sender' || proof === 'contact' || proof === 'session' };
}

/** Whether the roles meet a node's `requires:` (member is the engine's own check) or an option's `when:`. */
export function permits(roles: Roles, need: Exclude<Requires, 'member'> | Role): boolean {
  if (!roles.inSession) return false;
  if (need === 'officer') return roles.officers.length > 0;
  return roles.officers.some((o) => o.kind === need);
}

/**
 * Whether a Telegram link names this officer: the linked member has the officer's phone on file,
 * is of the officer's cooperative (any, for the Dinas) and has the officer's name. The same rule
 * routes officer mail (OFFICER_IDENTITY in src/persistence/outbox-sql.ts).
 */
function isLinkedMember(officer: OfficerRef, identity: Identity): boolean {
  const member = identity.member;
  return (
    member !== null &&
    member.phone === officer.phone &&
    (officer.koperasiId === null || member.koperasiId === officer.koperasiId) &&
    member.name.trim().toLowerCase() === officer.name.trim().toLowerCase()
  );
}

/** The channel identity behind an officer's action, for the audit: a phone in its id is masked. */
export interface ActingIdentity {
  identityId: number;
  channel: string;
  externalId: string;
  /** How the officer's phone was proven in this session (InboundMessage.phoneProof). */
  proof: PhoneProof;
}

export function actingIdentity(identity: Identity, proof: PhoneProof | undefined): ActingIdentity {
  return { identityId: identity.id, channel: identity.channel, externalId: maskDigitRuns(identity.externalId), proof: proof ?? 'sender' };
}
