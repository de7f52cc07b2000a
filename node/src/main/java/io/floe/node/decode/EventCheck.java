package io.floe.node.decode;

/**
 * A check of each event a request holds, on its stored (compact JSON) form, before anything is
 * written: the typed columns declared {@code reject}. One instance per request; not thread-safe.
 */
@FunctionalInterface
public interface EventCheck {
  /** Why the event cannot be accepted (without its position, which the decoder adds), or null. */
  String problem(byte[] json, int off, int len);
}
