package io.floe.node.buffer;

/** A client's idempotency key, with a fingerprint of the request it came with. */
public record IdempotencyKey(String key, long fingerprint) {}
