-- A conversation's state is saved with compare-and-set on this version, so that of two
-- instances answering one chat at once the later save never overwrites the fresher state.
-- Existing rows start at 1: version 0 means "no row yet" to the session store.
ALTER TABLE "ConversationSession" ADD COLUMN "version" INTEGER NOT NULL DEFAULT 1;
