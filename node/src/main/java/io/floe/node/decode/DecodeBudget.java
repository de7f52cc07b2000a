package io.floe.node.decode;

import io.floe.node.error.IngestException;

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

  /** The refusal of a request whose dead letters outgrow the in-flight budget while decoded. */
  static IngestException.Unavailable deadLettersFull() {
    return new IngestException.Unavailable(
        "inflight_full",
        "the request's bad records, kept as dead letters, outgrow the node's in-flight budget"
            + " (ingest.inflight-max-bytes); send fewer at once",
        1);
  }
}
