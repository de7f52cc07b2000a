package io.floe.node.decode;

import io.floe.node.error.IngestException;
import java.io.IOException;
import org.msgpack.core.MessageFormat;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePackException;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.value.ValueType;

/**
 * Checks a MessagePack body's framing before anything is built from it: every array, map, string,
 * binary and extension header must declare no more than the bytes that follow it (each element
 * takes at least one byte), and containers nest at most {@link JsonScanner#MAX_DEPTH} deep, as JSON
 * does. So a five-byte body cannot make the decoder allocate a billion-element array, and a deeply
 * nested one cannot overflow its stack. One iterative pass, nothing allocated per value (but an
 * extension's header).
 *
 * <p>The same pass bounds the batch the body decodes into: each value's longest JSON spelling
 * (strings without escapes), and a batch entry's overhead per event, so that the batch is reserved
 * and allocated once, at about its final size, however the body's values spell as JSON.
 */
final class MsgpackBounds {
  private MsgpackBounds() {}

  /**
   * What one event adds to a batch besides its JSON text: event time, the key's and the payload's
   * length varints (the key itself is counted in the text).
   */
  private static final int EVENT_OVERHEAD = 8 + 5 + 5;

  /** The longest spelling of a double, as {@link Double#toString} spells it. */
  private static final int DOUBLE_JSON = 24;

  /** The longest RFC 3339 spelling of a MessagePack timestamp, quoted. */
  private static final int TIMESTAMP_JSON = 2 + 38;

  /**
   * Refuses {@code body[0, length)} with a 400 {@code malformed_msgpack} naming the top-level
   * element; returns how large the batch of its events may grow, in bytes: for each map where an
   * event may stand (at the top, or in an array at the top), the JSON spelling of each value in it
   * with a separator after each, and a batch entry's overhead; no more than {@code maxEventBytes}
   * and that overhead for one event (the decoder refuses a longer one). What is not in such a map
   * adds nothing: the decoder refuses it before it writes anything of it.
   */
  static long check(byte[] body, int length, long maxEventBytes) {
    long eventCap = maxEventBytes + EVENT_OVERHEAD;
    long[] left = new long[JsonScanner.MAX_DEPTH + 1];
    byte[] scratch = new byte[4096];
    int depth = 0;
    int element = 0;
    long batch = 0;
    long event = 0;
    boolean topArray = false;
    boolean inEvent = false;
    try (MessageUnpacker u = MessagePack.newDefaultUnpacker(body, 0, length)) {
      while (true) {
        while (depth > 0 && left[depth] == 0) {
          depth--;
        }
        if (depth == 0) {
          if (!u.hasNext()) {
            return batch + Math.min(event, eventCap);
          }
          element++;
        } else {
          left[depth]--;
        }
        ValueType type = u.getNextFormat().getValueType();
        if (depth == 0 || depth == 1 && topArray) {
          if (depth == 0) {
            topArray = type == ValueType.ARRAY;
          }
          inEvent = type == ValueType.MAP;
          batch += Math.min(event, eventCap);
          event = inEvent ? EVENT_OVERHEAD : 0;
        }
        long json =
            1 // the comma or colon after it
                + switch (type) {
                  case ARRAY -> {
                    depth = open(u.unpackArrayHeader(), u, length, depth, left, element);
                    yield 2;
                  }
                  case MAP -> {
                    depth = open(2L * u.unpackMapHeader(), u, length, depth, left, element);
                    yield 2;
                  }
                  case STRING -> 2 + skip(u.unpackRawStringHeader(), u, length, element, scratch);
                  case BINARY ->
                      JsonText.base64Length(
                          skip(u.unpackBinaryHeader(), u, length, element, scratch));
                  case EXTENSION -> {
                    skip(u.unpackExtensionTypeHeader().getLength(), u, length, element, scratch);
                    yield TIMESTAMP_JSON;
                  }
                  case INTEGER -> integerJson(u, body, length);
                  default -> {
                    u.skipValue();
                    yield type == ValueType.NIL ? 4 : type == ValueType.BOOLEAN ? 5 : DOUBLE_JSON;
                  }
                };
        if (inEvent) {
          event += json;
        }
      }
    } catch (MessagePackException | IOException e) {
      throw malformed(
          element, e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
    }
  }

  private static int open(
      long items, MessageUnpacker u, int length, int depth, long[] left, int element) {
    long remaining = length - u.getTotalReadBytes();
    if (items < 0 || items > remaining) {
      throw malformed(
          element,
          "a container declares " + items + " values but only " + remaining + " bytes follow");
    }
    if (items == 0) {
      return depth;
    }
    if (depth + 1 >= left.length) {
      throw malformed(element, "nested deeper than " + JsonScanner.MAX_DEPTH + " levels");
    }
    left[depth + 1] = items;
    return depth + 1;
  }

  /** The JSON length of the integer {@code u} is at, in {@code body[0, length)}. */
  private static int integerJson(MessageUnpacker u, byte[] body, int length) throws IOException {
    if (beyondLong(u, body, length)) {
      u.skipValue();
      return 20;
    }
    return JsonText.numberLength(u.unpackLong());
  }

  /**
   * Whether {@code u}, reading {@code body[0, length)}, is at a uint64 over 2^63 - 1: one that
   * {@link MessageUnpacker#unpackLong} would refuse with an exception, a cost per value that a body
   * of nothing else could multiply.
   */
  static boolean beyondLong(MessageUnpacker u, byte[] body, int length) throws IOException {
    long at = u.getTotalReadBytes();
    return u.getNextFormat() == MessageFormat.UINT64 && at + 1 < length && body[(int) at + 1] < 0;
  }

  /** Skips a payload of {@code bytes}, refusing one longer than what follows; returns its size. */
  private static int skip(int bytes, MessageUnpacker u, int length, int element, byte[] scratch)
      throws IOException {
    long remaining = length - u.getTotalReadBytes();
    if (bytes < 0 || bytes > remaining) {
      throw malformed(
          element,
          "a value declares "
              + Integer.toUnsignedString(bytes)
              + " bytes but only "
              + remaining
              + " follow");
    }
    // past the payload through a small array: a reference to it would be an object per value
    for (int left = bytes; left > 0; left -= scratch.length) {
      u.readPayload(scratch, 0, Math.min(left, scratch.length));
    }
    return bytes;
  }

  private static IngestException.BadRequest malformed(int element, String message) {
    return new IngestException.BadRequest(
        "malformed_msgpack", "element " + Math.max(1, element) + ": " + message);
  }
}
