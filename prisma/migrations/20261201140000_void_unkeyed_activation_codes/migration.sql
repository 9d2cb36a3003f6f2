-- Activation codes issued before the keyed hash were stored as bare SHA-256, which a copy of
-- the database gives away (8 characters from 31 are few enough to try them all). They are
-- voided: the hash is overwritten and the code expired. Officers issue a new code.
UPDATE "ActivationCode"
SET "codeHash" = 'void:unkeyed', "expiresAt" = '1970-01-01T00:00:00.000+00:00'
WHERE "codeHash" NOT LIKE 'hmac-sha256:%';
