package io.floe.node.decode;

/**
 * Memory a request may still take while it is decoded: every buffer that decompression or batch
 * building allocates is reserved here first, so a small compressed body cannot grow past the node's
 * in-flight budget. A refusal is a 503 (retry later), not the client's fault.
 */
@FunctionalInterface
public interface DecodeBudget {
  /** Reserves {@code bytes}; false when that would exceed the budget. */
  boolean reserve(long bytes);

  /** No limit beyond the per-request ones: for tools and tests. */
  DecodeBudget UNLIMITED = bytes -> true;
}
