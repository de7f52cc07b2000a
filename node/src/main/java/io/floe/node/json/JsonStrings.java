package io.floe.node.json;

import java.nio.charset.StandardCharsets;

/** The text of a JSON string stored in an event, escapes undone. */
public final class JsonStrings {
  private JsonStrings() {}

  /** The contents {@code [from, to)} of a valid JSON string (without its quotes) as text. */
  public static String unescape(byte[] b, int from, int to) {
    int p = from;
    while (p < to && b[p] != '\\') {
      p++;
    }
    if (p == to) {
      return new String(b, from, to - from, StandardCharsets.UTF_8);
    }
    StringBuilder sb = new StringBuilder(to - from);
    int run = from;
    while (p < to) {
      if (b[p] != '\\') {
        p++;
        continue;
      }
      sb.append(new String(b, run, p - run, StandardCharsets.UTF_8));
      byte e = b[p + 1];
      switch (e) {
        case 'b' -> sb.append('\b');
        case 'f' -> sb.append('\f');
        case 'n' -> sb.append('\n');
        case 'r' -> sb.append('\r');
        case 't' -> sb.append('\t');
        case 'u' -> {
          sb.append(
              (char) Integer.parseInt(new String(b, p + 2, 4, StandardCharsets.US_ASCII), 16));
          p += 4;
        }
        default -> sb.append((char) e);
      }
      p += 2;
      run = p;
    }
    sb.append(new String(b, run, to - run, StandardCharsets.UTF_8));
    return sb.toString();
  }

  /**
   * Whether the string contents {@code [from, to)} hold an escape (then {@link #unescape} changes
   * them).
   */
  public static boolean hasEscape(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] == '\\') {
        return true;
      }
    }
    return false;
  }

  /** At most 64 characters of a value's JSON text, for an error message. */
  public static String excerpt(byte[] b, int from, int to) {
    String text = new String(b, from, Math.min(to - from, 256), StandardCharsets.UTF_8);
    return text.length() <= 64 ? text : text.substring(0, 61) + "...";
  }
}
