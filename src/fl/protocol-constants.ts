/** Constants of the protocol that its schemas (./codec/schema.ts) and its types (./protocol.ts) both use. */

/** Bumped on any incompatible change of the messages. */
export const PROTOCOL_VERSION = 1;

/**
 * Session authentication (src/session/authenticated-transport.ts): a challenge-response that proves both sides
 * know the join secret without sending it. Nonces are AUTH_NONCE_HEX_LENGTH lowercase hex characters, proofs
 * (HMAC-SHA-256) AUTH_PROOF_HEX_LENGTH. No other message passes between two peers before it has succeeded.
 */
export const AUTH_NONCE_HEX_LENGTH = 32;
export const AUTH_PROOF_HEX_LENGTH = 64;
