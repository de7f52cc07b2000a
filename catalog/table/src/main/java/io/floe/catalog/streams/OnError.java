package io.floe.catalog.streams;

import java.util.Locale;

/**
 * What a stream does with a record it cannot take (a malformed line, a non-object, a bad event time
 * or key, a {@code reject} column mismatch): the stream's policy, stored in the table.
 */
public enum OnError {
  /** The whole request is refused (400, naming the line): nothing is stored. The default. */
  REJECT,
  /** The good records are stored and each bad one is kept as a dead letter; the answer is 200. */
  DEAD_LETTER,
  /** {@link #REJECT} unless the request asks for dead letters ({@code Floe-On-Error}). */
  PER_REQUEST;

  /** The policy of a stream no pattern names. */
  public static final OnError DEFAULT = REJECT;

  /** {@code dead_letter}: how the table and the API spell it. */
  public String text() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Reads {@code reject}, {@code dead_letter} or {@code per_request} ({@code -} for {@code _}). */
  public static OnError parse(String text) {
    String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT).replace('-', '_');
    for (OnError e : values()) {
      if (e.text().equals(t)) {
        return e;
      }
    }
    throw new IllegalArgumentException(
        "on_error '" + text + "' is not reject, dead_letter or per_request");
  }
}
