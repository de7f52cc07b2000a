package io.floe.node.decode;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Compact JSON text written into one reusable byte array, one event at a time, spelled as Jackson's
 * generator spells it (strings escaped as it escapes them, numbers as {@link Long#toString} and
 * {@link Double#toString}), so that an event reads the same whichever way it was decoded. Writes
 * allocate nothing once the array has grown to the largest event. Strings must be valid UTF-8; the
 * caller checks that, and the structure (commas, colons), and how long the text may grow.
 */
final class JsonText {
  private static final byte[] HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] BASE64 =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
          .getBytes(StandardCharsets.US_ASCII);

  private byte[] buf = new byte[256];
  private int len;

  void reset() {
    len = 0;
  }

  /** Bytes written since the last {@link #reset}. */
  int length() {
    return len;
  }

  /** The array the text is in, from 0 to {@link #length}. */
  byte[] array() {
    return buf;
  }

  /** A structural character: a bracket, comma or colon. */
  void append(char c) {
    ensure(1);
    buf[len++] = (byte) c;
  }

  /** Text that needs no escaping and is not quoted: a literal or a number's spelling. */
  void ascii(String s) {
    int n = s.length();
    ensure(n);
    for (int i = 0; i < n; i++) {
      buf[len++] = (byte) s.charAt(i);
    }
  }

  /** A string that needs no escaping (a timestamp's RFC 3339 spelling), quoted. */
  void asciiString(String s) {
    append('"');
    ascii(s);
    append('"');
  }

  void number(long v) {
    if (v == Long.MIN_VALUE) {
      ascii(Long.toString(v));
      return;
    }
    ensure(20);
    if (v < 0) {
      buf[len++] = '-';
      v = -v;
    }
    int start = len;
    do {
      buf[len++] = (byte) ('0' + v % 10);
      v /= 10;
    } while (v != 0);
    for (int i = start, j = len - 1; i < j; i++, j--) {
      byte t = buf[i];
      buf[i] = buf[j];
      buf[j] = t;
    }
  }

  /** The length of {@code v} as {@link #number} writes it. */
  static int numberLength(long v) {
    if (v == Long.MIN_VALUE) {
      return 20;
    }
    int n = v < 0 ? 2 : 1;
    for (long rest = Math.abs(v); rest >= 10; rest /= 10) {
      n++;
    }
    return n;
  }

  /**
   * {@code utf8[off, off + n)}, valid UTF-8, as a quoted JSON string: {@code "} and {@code \}
   * escaped, control characters as {@code \b \t \n \f \r} or else as a backslash-u escape, a
   * character beyond the Basic Multilingual Plane as the backslash-u escapes of its two UTF-16
   * surrogates (as Jackson writes it), the rest as it is.
   */
  void string(byte[] utf8, int off, int n) {
    ensure(n + 2);
    buf[len++] = '"';
    for (int i = off, end = off + n; i < end; i++) {
      byte b = utf8[i];
      if (b >= 0x20 && b != '"' && b != '\\' || b < 0 && (b & 0xF8) != 0xF0) {
        buf[len++] = b;
        continue;
      }
      ensure(12 + end - i);
      if (b < 0) {
        int cp =
            (b & 0x07) << 18
                | (utf8[i + 1] & 0x3F) << 12
                | (utf8[i + 2] & 0x3F) << 6
                | (utf8[i + 3] & 0x3F);
        i += 3;
        escape(Character.highSurrogate(cp));
        escape(Character.lowSurrogate(cp));
        continue;
      }
      switch (b) {
        case '"', '\\' -> shortEscape(b);
        case '\b' -> shortEscape('b');
        case '\t' -> shortEscape('t');
        case '\n' -> shortEscape('n');
        case '\f' -> shortEscape('f');
        case '\r' -> shortEscape('r');
        default -> escape((char) b);
      }
    }
    append('"');
  }

  private void shortEscape(int c) {
    buf[len++] = '\\';
    buf[len++] = (byte) c;
  }

  /** A backslash-u escape: four upper-case hex digits. */
  private void escape(char c) {
    buf[len++] = '\\';
    buf[len++] = 'u';
    buf[len++] = HEX[c >> 12];
    buf[len++] = HEX[(c >> 8) & 0xF];
    buf[len++] = HEX[(c >> 4) & 0xF];
    buf[len++] = HEX[c & 0xF];
  }

  /**
   * Bytes as a quoted base64 string (RFC 4648, padded), as {@code Base64.getEncoder()} writes it.
   */
  void base64(byte[] src, int off, int n) {
    ensure(base64Length(n));
    buf[len++] = '"';
    int i = off;
    for (int end = off + n - n % 3; i < end; i += 3) {
      int bits = (src[i] & 0xFF) << 16 | (src[i + 1] & 0xFF) << 8 | (src[i + 2] & 0xFF);
      buf[len++] = BASE64[bits >>> 18];
      buf[len++] = BASE64[(bits >>> 12) & 0x3F];
      buf[len++] = BASE64[(bits >>> 6) & 0x3F];
      buf[len++] = BASE64[bits & 0x3F];
    }
    if (n % 3 != 0) {
      int bits = (src[i] & 0xFF) << 16 | (n % 3 == 2 ? (src[i + 1] & 0xFF) << 8 : 0);
      buf[len++] = BASE64[bits >>> 18];
      buf[len++] = BASE64[(bits >>> 12) & 0x3F];
      buf[len++] = n % 3 == 2 ? BASE64[(bits >>> 6) & 0x3F] : (byte) '=';
      buf[len++] = '=';
    }
    buf[len++] = '"';
  }

  /** The JSON length of {@code n} bytes written by {@link #base64}, quotes included. */
  static long base64Length(long n) {
    return (n + 2) / 3 * 4 + 2;
  }

  private void ensure(long extra) {
    if (len + extra > buf.length) {
      long grown = Math.max(2L * buf.length, len + extra);
      buf = Arrays.copyOf(buf, (int) Math.min(Integer.MAX_VALUE - 8, grown));
    }
  }
}
