package io.floe.node.decode;

import io.floe.node.json.FieldPaths;

/**
 * A check of each event a request holds, before anything is written: the typed columns declared
 * {@code reject}. The decoder records where the values at {@link #paths} are while it reads the
 * event (the JSON decoder in its one validating walk), then asks {@link #problem}. One instance per
 * request; not thread-safe.
 */
public interface EventCheck {
  /** The paths whose values the check needs. */
  FieldPaths paths();

  /**
   * Why the event cannot be accepted (without its position, which the decoder adds), or null;
   * {@code start[i]}/{@code end[i]} bound the JSON text of path {@code i} in {@code json}, {@code
   * start[i] == -1} when the event lacks it.
   */
  String problem(byte[] json, int[] start, int[] end);
}
