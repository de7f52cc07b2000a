package io.floe.node.decode;

import io.floe.node.error.IngestException;
import io.floe.node.json.JsonStrings;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.Charset;

/**
 * The lexical and grammar layer of the JSON decoder: walks RFC 8259 JSON over a byte array in
 * place, validating as it goes (grammar, string escapes, control characters, UTF-8 including
 * overlongs and surrogates, nesting depth), without building tokens, strings or a tree. It knows
 * nothing of events: {@link JsonEventDecoder} drives it, one value at a time. Errors are {@code
 * malformed_json} refusals that name the line (NDJSON) or element and column.
 *
 * <p>State is the input, the position, and whether the value being read had whitespace between
 * tokens ({@code spaced}, so that the caller knows whether to compact it). One instance per
 * request; not thread-safe.
 *
 * <p>{@code json.FieldPaths} has a second walker that trusts its input, because stored JSON is
 * already valid (it passed this scanner).
 */
final class JsonScanner {
  static final int MAX_DEPTH = 512;
  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private byte[] in;
  private int end;
  private int pos;

  /** NDJSON: a newline ends the event, so it may not appear inside one. */
  private boolean lines;

  /** Line (NDJSON) or element (array) number of the event being read; error messages only. */
  private int position;

  private int lineStart;

  /** Whether the current value has whitespace between tokens (then the caller compacts it). */
  private boolean spaced;

  /** Validates and skips any value; {@code depth} is the nesting depth of its container. */
  void skipValue(int depth) {
    switch (peek()) {
      case '"' -> skipString();
      case '{' -> skipObject(depth + 1);
      case '[' -> skipArray(depth + 1);
      case 't' -> literal("true");
      case 'f' -> literal("false");
      case 'n' -> literal("null");
      case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9' -> number();
      default -> throw malformed("expected a value but found " + describe(pos));
    }
  }

  void skipObject(int depth) {
    checkDepth(depth);
    if (!opens('}')) {
      return;
    }
    while (true) {
      memberName();
      colon();
      skipValue(depth);
      if (!another('}')) {
        return;
      }
    }
  }

  void skipArray(int depth) {
    checkDepth(depth);
    if (!opens(']')) {
      return;
    }
    do {
      skipValue(depth);
    } while (another(']'));
  }

  /**
   * On an opening '{' or '[': consumes it and the whitespace after; false when the container closes
   * at once (the closing byte consumed too).
   */
  boolean opens(char close) {
    pos++;
    space();
    if (peek() == close) {
      pos++;
      return false;
    }
    return true;
  }

  /**
   * A member's quoted name; leaves {@code pos} after its closing quote. Returns whether it has
   * escapes.
   */
  boolean memberName() {
    if (peek() != '"') {
      throw malformed("expected a field name but found " + describe(pos));
    }
    return skipString();
  }

  /** The ':' after a member name, with the whitespace around it. */
  void colon() {
    space();
    if (peek() != ':') {
      throw malformed("expected ':' but found " + describe(pos));
    }
    pos++;
    space();
  }

  /**
   * After a member or element: consumes the ',' that announces another (true) or the closing byte
   * (false), with the whitespace around them.
   */
  boolean another(char close) {
    space();
    byte b = peek();
    pos++;
    if (b == close) {
      return false;
    }
    if (b != ',') {
      pos--;
      throw malformed("expected ',' or '" + close + "' but found " + describe(pos));
    }
    space();
    return true;
  }

  void checkDepth(int depth) {
    if (depth > MAX_DEPTH) {
      throw malformed("nested deeper than " + MAX_DEPTH + " levels");
    }
  }

  /**
   * Skips a string ({@code pos} on its opening quote, ends after the closing one), validating
   * escapes, control characters and UTF-8.
   *
   * @return whether it has escapes
   */
  boolean skipString() {
    byte[] b = in;
    int p = pos + 1;
    int limit = end;
    boolean escaped = false;
    while (true) {
      // the common case, eight bytes at a time: printable ASCII other than the quote and the
      // backslash
      while (p + 8 <= limit && plainAscii((long) LONGS.get(b, p))) {
        p += 8;
      }
      while (p < limit) {
        byte c = b[p];
        if (c < 0x20 || c == '"' || c == '\\') {
          break;
        }
        p++;
      }
      if (p >= limit) {
        pos = p;
        throw malformed("unterminated string");
      }
      byte c = b[p];
      if (c == '"') {
        pos = p + 1;
        return escaped;
      }
      if (c == '\\') {
        escaped = true;
        p = escape(p);
      } else if (c < 0) {
        p = utf8(p);
      } else {
        pos = p;
        throw c == '\n' && lines
            ? malformedLine("the event does not end on its line (a string holds a raw line break)")
            : malformed("unescaped control character " + describe(p) + " in a string");
      }
    }
  }

  /**
   * Whether all eight bytes of {@code w} are printable ASCII other than '"' and '\\' (bit tricks
   * for "has a byte below n" and "has a zero byte"; a false answer only sends the caller to its
   * byte-at-a-time loop).
   */
  static boolean plainAscii(long w) {
    long quote = w ^ 0x2222222222222222L;
    long backslash = w ^ 0x5C5C5C5C5C5C5C5CL;
    long special =
        ((w - 0x2020202020202020L) & ~w)
            | ((quote - 0x0101010101010101L) & ~quote)
            | ((backslash - 0x0101010101010101L) & ~backslash)
            | w;
    return (special & 0x8080808080808080L) == 0;
  }

  int escape(int p) {
    if (p + 1 >= end) {
      pos = p;
      throw malformed("unterminated string");
    }
    switch (in[p + 1]) {
      case '"', '\\', '/', 'b', 'f', 'n', 'r', 't' -> {
        return p + 2;
      }
      case 'u' -> {
        for (int i = p + 2; i < p + 6; i++) {
          if (i >= end || Character.digit(in[i], 16) < 0) {
            pos = p;
            throw malformed("\\u must be followed by four hex digits");
          }
        }
        return p + 6;
      }
      default -> {
        pos = p;
        throw malformed("invalid escape " + describe(p + 1) + " in a string");
      }
    }
  }

  /** Validates one multi-byte UTF-8 sequence starting at {@code p}; returns the index after it. */
  int utf8(int p) {
    int lead = in[p] & 0xFF;
    int n;
    int min = 0x80;
    int max = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      n = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      n = 2;
      if (lead == 0xE0) {
        min = 0xA0; // no overlong forms
      } else if (lead == 0xED) {
        max = 0x9F; // no surrogates
      }
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      n = 3;
      if (lead == 0xF0) {
        min = 0x90;
      } else if (lead == 0xF4) {
        max = 0x8F; // nothing above U+10FFFF
      }
    } else {
      pos = p;
      throw malformed("invalid UTF-8 in a string");
    }
    if (p + n >= end) {
      pos = p;
      throw malformed("invalid UTF-8 in a string");
    }
    int second = in[p + 1] & 0xFF;
    boolean ok = second >= min && second <= max;
    for (int i = 2; i <= n; i++) {
      ok &= (in[p + i] & 0xC0) == 0x80;
    }
    if (!ok) {
      pos = p;
      throw malformed("invalid UTF-8 in a string");
    }
    return p + n + 1;
  }

  /**
   * Skips a number per the JSON grammar: {@code -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]?
   * [0-9]+)?}.
   *
   * @return whether it is an integer (no fraction, no exponent)
   */
  boolean number() {
    int p = pos;
    if (in[p] == '-') {
      p++;
    }
    if (p < end && in[p] == '0') {
      p++;
      if (p < end && isDigit(in[p])) {
        pos = p;
        throw malformed("numbers may not have leading zeros");
      }
    } else {
      p = digits(p);
    }
    boolean integral = true;
    if (p < end && in[p] == '.') {
      integral = false;
      p = digits(p + 1);
    }
    if (p < end && (in[p] == 'e' || in[p] == 'E')) {
      integral = false;
      p++;
      if (p < end && (in[p] == '+' || in[p] == '-')) {
        p++;
      }
      p = digits(p);
    }
    pos = p;
    return integral;
  }

  /** At least one digit from {@code p}; returns the index after the last. */
  int digits(int p) {
    int start = p;
    while (p < end && isDigit(in[p])) {
      p++;
    }
    if (p == start) {
      pos = p;
      throw malformed("expected a digit but found " + describe(p));
    }
    return p;
  }

  static boolean isDigit(byte b) {
    return b >= '0' && b <= '9';
  }

  void literal(String word) {
    int n = word.length();
    if (pos + n > end) {
      throw malformed("expected '" + word + "'");
    }
    for (int i = 0; i < n; i++) {
      if (in[pos + i] != word.charAt(i)) {
        throw malformed("expected '" + word + "' but found " + describe(pos));
      }
    }
    pos += n;
  }

  /** Whitespace between tokens inside an event. */
  void space() {
    while (pos < end) {
      byte b = in[pos];
      if (b == ' ' || b == '\t' || b == '\r') {
        spaced = true;
      } else if (b == '\n') {
        if (lines) {
          throw malformedLine("the event does not end on its line");
        }
        spaced = true;
      } else {
        return;
      }
      pos++;
    }
  }

  /** Whitespace around NDJSON events: anything but the newline. */
  void skipLineSpace() {
    while (pos < end && (in[pos] == ' ' || in[pos] == '\t' || in[pos] == '\r')) {
      pos++;
    }
  }

  /** Whitespace around a JSON document's values. */
  void skipSpace() {
    while (pos < end && (in[pos] == ' ' || in[pos] == '\t' || in[pos] == '\r' || in[pos] == '\n')) {
      pos++;
    }
  }

  /** The byte at {@code pos}; running out of input inside an event is an error. */
  byte peek() {
    if (pos >= end) {
      throw malformed("unexpected end of input inside the event");
    }
    return in[pos];
  }

  static boolean startsValue(byte b) {
    return b == '{'
        || b == '['
        || b == '"'
        || b == '-'
        || isDigit(b)
        || b == 't'
        || b == 'f'
        || b == 'n';
  }

  boolean nameIs(byte[] field, String fieldName, int start, int stop, boolean escaped) {
    if (escaped) {
      return unescape(start, stop).equals(fieldName);
    }
    int len = stop - start;
    if (len != field.length) {
      return false;
    }
    for (int i = 0; i < len; i++) {
      if (in[start + i] != field[i]) {
        return false;
      }
    }
    return true;
  }

  byte[] slice(int start, int stop) {
    byte[] b = new byte[stop - start];
    System.arraycopy(in, start, b, 0, b.length);
    return b;
  }

  /** The value of a validated string's contents {@code [start, stop)}. */
  String unescape(int start, int stop) {
    return JsonStrings.unescape(in, start, stop);
  }

  IngestException.BadRequest malformed(String message) {
    String at;
    if (lines) {
      at = where() + ", column " + (pos - lineStart + 1);
    } else if (position > 0) {
      at = where() + " " + location(pos);
    } else {
      at = location(pos);
    }
    return new IngestException.BadRequest("malformed_json", at + ": " + message);
  }

  /** An NDJSON error about the line as a whole. */
  IngestException.BadRequest malformedLine(String message) {
    return new IngestException.BadRequest("malformed_json", where() + ": " + message);
  }

  String where() {
    return (lines ? "line " : "element ") + position;
  }

  /** "(line L, column C)" of a byte offset in a JSON document. */
  String location(int offset) {
    int line = 1;
    int col = 1;
    for (int i = 0; i < Math.min(offset, end); i++) {
      if (in[i] == '\n') {
        line++;
        col = 1;
      } else {
        col++;
      }
    }
    return "(line " + line + ", column " + col + ")";
  }

  String describe(int p) {
    if (p >= end) {
      return "the end of input";
    }
    int c = in[p] & 0xFF;
    return c >= 0x20 && c < 0x7F ? "'" + (char) c + "'" : String.format("byte 0x%02x", c);
  }

  /** The input being scanned. */
  byte[] input() {
    return in;
  }

  /** The current offset in the input. */
  int offset() {
    return pos;
  }

  boolean atEnd() {
    return pos >= end;
  }

  /** The byte at the current offset; call only when not {@link #atEnd}. */
  byte current() {
    return in[pos];
  }

  void advance() {
    pos++;
  }

  /** Resumes at {@code offset} (after a record that was set aside). */
  void seek(int offset) {
    pos = offset;
  }

  /** The line (NDJSON) or element number of the event being read, for error messages. */
  int event() {
    return position;
  }

  void event(int number) {
    position = number;
  }

  /** NDJSON: the current offset starts a line (columns in errors count from it). */
  void markLineStart() {
    lineStart = pos;
  }

  /** Whether whitespace between tokens was seen since {@link #clearSpaced}. */
  boolean spaced() {
    return spaced;
  }

  void clearSpaced() {
    spaced = false;
  }

  /** The input's bytes {@code [start, stop)} as text. */
  String text(int start, int stop, Charset charset) {
    return new String(in, start, stop - start, charset);
  }

  /** Starts on a new input; {@code ndjson}: a newline ends an event. */
  void reset(byte[] input, int length, boolean ndjson) {
    in = input;
    end = length;
    pos = 0;
    lines = ndjson;
    position = 0;
    lineStart = 0;
    spaced = false;
  }
}
