/** zod schemas of the files in flows/. Types are inferred from them, never written twice. */
import { z } from 'zod';

const ZName = z.string().regex(/^[a-z][a-z0-9_]*$/, 'gunakan huruf kecil, angka dan _ saja');
const ZMessageKey = z.string().regex(/^[a-z][a-z0-9_.]*$/, 'kunci pesan berupa huruf kecil, angka, titik dan _');
const ZActionName = z.string().regex(/^[a-z_]+\.[a-z_]+$/, 'nama aksi berbentuk kelompok.aksi, misalnya savings.summary');
const ZTarget = z.union([ZName, z.literal('$resume')]);
const ZWord = z.union([z.string(), z.number()]).transform(String).pipe(z.string().min(1, 'kata tidak boleh kosong'));
const ZArgs = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));
/**
 * Who a node is for: `member`, a member verified on this channel; `officer`, anyone with an
 * officer's phone proven in this session (the platform's sender number, or their own contact
 * shared in it); `board` and `dinas`, such an officer of a cooperative's board or of the Dinas.
 */
export const ZRequires = z.enum(['member', 'officer', 'board', 'dinas']);
/** The roles a menu option can be shown for (`when:`). */
export const ZRole = z.enum(['board', 'dinas']);

export const ZMenuOption = z
  .object({
    label: ZMessageKey,
    words: z.array(ZWord).default([]),
    /** Words that pick this option only when they are the whole answer ("ya", "tidak"). */
    exact: z.array(ZWord).default([]),
    /** The "no" option: a negation anywhere in the answer ("sy tidak akan hadir") picks it. */
    negative: z.boolean().optional(),
    go: ZTarget.optional(),
    action: ZActionName.optional(),
    args: ZArgs.optional(),
    /** Shown (and picked, and numbered) only for an officer with this role. */
    when: ZRole.optional(),
  })
  .strict()
  .refine((o) => o.go !== undefined || o.action !== undefined, { message: 'pilihan menu perlu go atau action' });

export const ZInput = z
  .object({
    action: ZActionName,
    args: ZArgs.optional(),
    max_length: z.number().int().positive().max(4000).default(1000),
    /**
     * A short text that asks for something else ("cek saldo dulu") leaves the prompt (default).
     * false: everything typed is the answer (an announcement), only the whole-message commands leave.
     */
    escape: z.boolean().default(true),
    /**
     * A text of this shape (a regular expression, whole text, any case) is always the answer:
     * an activation code "CFCJ-SURE" is not the word "sure", and "MENH-J884" not the menu.
     */
    answer_pattern: z
      .string()
      .refine((source) => {
        try {
          new RegExp(source);
          return true;
        } catch {
          return false;
        }
      }, 'answer_pattern bukan ekspresi reguler yang sah')
      .optional(),
    outcomes: z.record(z.string(), ZTarget).default({}),
  })
  .strict();

export const ZNode = z
  .object({
    requires: ZRequires.optional(),
    /** Where the cancel words ("batal", "ga jadi") lead while this node waits (default: the cancel global's node). */
    cancel: ZName.optional(),
    /** How long the conversation waits at this node (an announcement takes a while to write); default settings.idle_minutes. */
    idle_minutes: z.number().int().min(1).max(24 * 60).optional(),
    action: ZActionName.optional(),
    args: ZArgs.optional(),
    outcomes: z.record(z.string(), ZTarget).optional(),
    say: z.union([ZMessageKey, z.array(ZMessageKey)]).optional(),
    menu: z.array(ZMenuOption).min(1).max(20).optional(),
    input: ZInput.optional(),
    next: ZTarget.optional(),
    /** Pick the menu answer from the request that opened it ("insyaallah hadir" at rest). */
    answer_in_request: z.boolean().optional(),
    /** Offer the channel's "share my phone number" button with this node's text, where it can. */
    request_contact: z.boolean().optional(),
  })
  .strict()
  .refine((n) => !(n.menu && n.input), { message: 'satu node tidak bisa sekaligus punya menu dan input' })
  .refine((n) => !(n.next && (n.menu || n.input)), { message: 'next tidak dipakai pada node yang menunggu jawaban (menu/input)' });

/** `officer`: consulted only when the sender's phone (proven or remembered) is an officer's on file. */
const ZOnly = z.literal('officer');

export const ZGlobal = z
  .object({
    words: z.array(ZWord).min(1),
    go: ZName,
    only: ZOnly.optional(),
    /** Only while no question is open ("ya" answers a bimtek invitation only then). */
    idle: z.boolean().default(false),
    /** A cancel word: while a node with `cancel:` waits, it leads there instead. */
    cancels: z.boolean().default(false),
    /**
     * A read-only action asked before deciding, only when the words match: the global counts
     * only if its outcome is `yes` ("ya" answers a bimtek invitation only while one waits).
     */
    if: ZActionName.optional(),
  })
  .strict();

export const ZIntent = z
  .object({
    words: z.array(ZWord).default([]),
    phrases: z.array(z.string()).default([]),
    go: ZName,
    /** Small talk (greetings, thanks): wins only when no other intent matches. */
    weak: z.boolean().default(false),
    /** Wins whenever it matches, whatever else the message mentions. */
    priority: z.boolean().default(false),
    only: ZOnly.optional(),
  })
  .strict();

export const ZFlowFile = z
  .object({
    settings: z
      .object({
        idle_minutes: z.number().int().min(1).max(24 * 60).default(15),
        max_message_length: z.number().int().min(100).max(10_000).default(2000),
        conjunctions: z.array(z.string()).default(['dan', 'and']),
        /**
         * Runs before free text is answered. Its outcome's node is entered only when the message
         * asks for nothing else ("sekarang yg di kpri" after switching cooperative).
         */
        before_request: z.object({ action: ZActionName, outcomes: z.record(z.string(), ZTarget).default({}) }).strict().optional(),
      })
      .strict()
      .default({ idle_minutes: 15, max_message_length: 2000, conjunctions: ['dan', 'and'] }),
    globals: z.record(ZName, ZGlobal),
    intents: z.record(ZName, ZIntent),
    nodes: z.record(ZName, ZNode),
  })
  .strict();

/** flows/officer.yaml: officers' and Dinas staff's globals, intents and nodes, one conversation with the members' (no settings of its own). */
export const ZFlowPartFile = z
  .object({
    globals: z.record(ZName, ZGlobal).default({}),
    intents: z.record(ZName, ZIntent).default({}),
    nodes: z.record(ZName, ZNode),
  })
  .strict();

export const ZLexiconFile = z
  .object({
    negations: z.array(ZWord).min(1),
    doubt: z.array(ZWord).default([]),
    words: z.record(z.string(), z.string().min(1)),
    emoji: z.record(z.string(), z.string().min(1)).default({}),
  })
  .strict();

export const ZMessageFile = z.record(ZMessageKey, z.string());

export type FlowFile = z.infer<typeof ZFlowFile>;
export type FlowNode = z.infer<typeof ZNode>;
export type Requires = z.infer<typeof ZRequires>;
export type Role = z.infer<typeof ZRole>;
export type MenuOption = z.infer<typeof ZMenuOption>;
