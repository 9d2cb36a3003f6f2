/** The kinds of savings (simpanan) as bookkeeping programs and clerks name them. */

const SAVINGS_KINDS: Record<string, { kind: string; label: string }> = {
  pokok: { kind: 'pokok', label: 'Simpanan Pokok' },
  sp: { kind: 'pokok', label: 'Simpanan Pokok' },
  wajib: { kind: 'wajib', label: 'Simpanan Wajib' },
  sw: { kind: 'wajib', label: 'Simpanan Wajib' },
  sukarela: { kind: 'sukarela', label: 'Simpanan Sukarela' },
  ss: { kind: 'sukarela', label: 'Simpanan Sukarela' },
  manasuka: { kind: 'sukarela', label: 'Simpanan Sukarela' },
};

/**
 * The kind of a savings column value: "Simpanan Wajib", "wajib", "SW", "S. Wajib", "Simp. Wajib",
 * "Simpanan Wajib (SW)" are all wajib; anything else is a cooperative-specific kind.
 */
export function savingsKindOf(text: string): { kind: string; label: string } | null {
  // An amount, a dash or a number is a balance that slipped into the kind column, never a kind.
  if (!/^[\p{L}(]/u.test(text.trim()) || /^(rp|idr)\b/i.test(text.trim())) return null;
  const withoutNotes = text.replace(/\([^)]*\)/g, ' ');
  const words = withoutNotes.toLowerCase().replace(/[^a-z0-9 ]+/g, ' ').trim().replace(/\s+/g, ' ');
  const bare = words.replace(/^(simpanan|simp|smp|simpn|s)\s+/, '');
  if (bare === '') {
    const abbreviation = text.match(/\(([^)]*)\)/)?.[1]?.trim().toLowerCase();
    return abbreviation ? (SAVINGS_KINDS[abbreviation] ?? null) : null;
  }
  const known = SAVINGS_KINDS[bare];
  if (known) return known;
  if (!/^[a-z]/.test(bare)) return null;
  const label = withoutNotes.trim().replace(/\s+/g, ' ');
  return {
    kind: bare.replace(/ /g, '_').slice(0, 40),
    label: /^simpanan\b/i.test(label) ? label.replace(/^simpanan/i, 'Simpanan') : `Simpanan ${label.replace(/^./, (c) => c.toUpperCase())}`,
  };
}
