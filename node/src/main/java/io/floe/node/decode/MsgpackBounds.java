package io.floe.node.decode;

import io.floe.node.error.IngestException;
import java.io.IOException;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePackException;
import org.msgpack.core.MessageUnpacker;

/**
 * Checks a MessagePack body's framing before anything is built from it: every array, map, string,
 * binary and extension header must declare no more than the bytes that follow it (each element
 * takes at least one byte), and containers nest at most {@link JsonScanner#MAX_DEPTH} deep, as JSON
 * does. So a five-byte body cannot make the decoder allocate a billion-element array, and a deeply
 * nested one cannot overflow its stack. One iterative pass, nothing allocated per value.
 */
final class MsgpackBounds {
  private MsgpackBounds() {}

  /**
   * Refuses {@code body[0, length)} with a 400 {@code malformed_msgpack} naming the top-level
   * element.
   */
  static void check(byte[] body, int length) {
    long[] left = new long[JsonScanner.MAX_DEPTH + 1];
    int depth = 0;
    int element = 0;
    try (MessageUnpacker u = MessagePack.newDefaultUnpacker(body, 0, length)) {
      while (true) {
        while (depth > 0 && left[depth] == 0) {
          depth--;
        }
        if (depth == 0) {
          if (!u.hasNext()) {
            return;
          }
          element++;
        } else {
          left[depth]--;
        }
        switch (u.getNextFormat().getValueType()) {
          case ARRAY -> depth = open(u.unpackArrayHeader(), u, length, depth, left, element);
          case MAP -> depth = open(2L * u.unpackMapHeader(), u, length, depth, left, element);
          case STRING -> skip(u.unpackRawStringHeader(), u, length, element);
          case BINARY -> skip(u.unpackBinaryHeader(), u, length, element);
          case EXTENSION -> skip(u.unpackExtensionTypeHeader().getLength(), u, length, element);
          default -> u.skipValue();
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

  private static void skip(int bytes, MessageUnpacker u, int length, int element)
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
    u.readPayloadAsReference(bytes); // past the payload, without copying it
  }

  private static IngestException.BadRequest malformed(int element, String message) {
    return new IngestException.BadRequest(
        "malformed_msgpack", "element " + Math.max(1, element) + ": " + message);
  }
}
