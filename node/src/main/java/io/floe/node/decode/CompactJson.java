package io.floe.node.decode;

/**
 * Copies valid JSON text without the whitespace between tokens, leaving every other byte (string
 * contents, escapes, number spellings) exactly as sent. Input must already be validated.
 */
final class CompactJson {
  private CompactJson() {}

  /** Writes the compact form into {@code dst} at 0 and returns its length ({@code dst} ≥ len). */
  static int compact(byte[] src, int off, int len, byte[] dst) {
    int out = 0;
    boolean inString = false;
    for (int i = off, end = off + len; i < end; i++) {
      byte b = src[i];
      if (inString) {
        dst[out++] = b;
        if (b == '\\') {
          dst[out++] = src[++i];
        } else if (b == '"') {
          inString = false;
        }
      } else if (b == ' ' || b == '\n' || b == '\r' || b == '\t') {
        continue;
      } else {
        if (b == '"') {
          inString = true;
        }
        dst[out++] = b;
      }
    }
    return out;
  }
}
