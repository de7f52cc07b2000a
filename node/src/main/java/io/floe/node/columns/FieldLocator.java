package io.floe.node.columns;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds where the values at several JSON paths are in one event, in a single walk of its stored
 * JSON (valid, as the node's decoders only store what they validated): members whose name is on
 * no path are skipped without being read, objects on a path are entered. The first occurrence of
 * a duplicated name wins, as it does for the event's key and time. Immutable and thread-safe; the
 * spans go to arrays the caller owns.
 */
final class FieldLocator {
  /** One level of the path trie: the member names that matter here. */
  private static final class Level {
    final List<byte[]> names = new ArrayList<>();
    final List<String> texts = new ArrayList<>();
    final List<Level> children = new ArrayList<>();
    final List<Integer> slots = new ArrayList<>();

    int index(String name) {
      return texts.indexOf(name);
    }
  }

  private final Level root = new Level();
  private final int slots;

  /** Slot {@code i} receives the value at {@code paths.get(i)}. */
  FieldLocator(List<List<String>> paths) {
    for (int i = 0; i < paths.size(); i++) {
      Level level = root;
      List<String> path = paths.get(i);
      for (int d = 0; d < path.size(); d++) {
        String name = path.get(d);
        int at = level.index(name);
        if (at < 0) {
          level.names.add(name.getBytes(StandardCharsets.UTF_8));
          level.texts.add(name);
          level.children.add(null);
          level.slots.add(-1);
          at = level.names.size() - 1;
        }
        if (d == path.size() - 1) {
          if (level.slots.get(at) < 0) {
            level.slots.set(at, i);
          }
        } else {
          if (level.children.get(at) == null) {
            level.children.set(at, new Level());
          }
          level = level.children.get(at);
        }
      }
    }
    this.slots = paths.size();
  }

  int slots() {
    return slots;
  }

  /**
   * Locates the paths in the object at {@code [off, off + len)}: {@code start[i]} and {@code
   * end[i]} bound the value of path {@code i} (its JSON text), or {@code start[i] == -1} when the
   * event has no such field. Paths must be distinct.
   */
  void locate(byte[] b, int off, int len, int[] start, int[] end) {
    java.util.Arrays.fill(start, 0, slots, -1);
    int p = space(b, off);
    if (p < off + len && b[p] == '{') {
      object(b, p, root, start, end);
    }
  }

  private static int object(byte[] b, int p, Level level, int[] start, int[] end) {
    p = space(b, p + 1);
    if (b[p] == '}') {
      return p + 1;
    }
    while (true) {
      int nameStart = p + 1;
      int nameEnd = stringEnd(b, p);
      boolean escaped = hasEscape(b, nameStart, nameEnd);
      p = space(b, nameEnd + 1);
      p = space(b, p + 1); // the ':'
      int member = find(level, b, nameStart, nameEnd, escaped);
      int valueStart = p;
      if (member < 0) {
        p = skip(b, p);
      } else {
        Level child = level.children.get(member);
        p = child != null && b[p] == '{' ? object(b, p, child, start, end) : skip(b, p);
        int slot = level.slots.get(member);
        if (slot >= 0 && start[slot] < 0) {
          start[slot] = valueStart;
          end[slot] = p;
        }
      }
      p = space(b, p);
      if (b[p] == ',') {
        p = space(b, p + 1);
      } else {
        return p + 1;
      }
    }
  }

  private static int find(Level level, byte[] b, int from, int to, boolean escaped) {
    if (escaped) {
      return level.index(io.floe.node.decode.JsonStrings.unescape(b, from, to));
    }
    int len = to - from;
    List<byte[]> names = level.names;
    outer:
    for (int i = 0; i < names.size(); i++) {
      byte[] n = names.get(i);
      if (n.length != len) {
        continue;
      }
      for (int k = 0; k < len; k++) {
        if (n[k] != b[from + k]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  /** The end (exclusive) of the value starting at {@code p}. */
  static int skip(byte[] b, int p) {
    byte c = b[p];
    if (c == '"') {
      return stringEnd(b, p) + 1;
    }
    if (c == '{' || c == '[') {
      int depth = 0;
      while (true) {
        c = b[p];
        if (c == '"') {
          p = stringEnd(b, p) + 1;
          continue;
        }
        if (c == '{' || c == '[') {
          depth++;
        } else if (c == '}' || c == ']') {
          if (--depth == 0) {
            return p + 1;
          }
        }
        p++;
      }
    }
    while (p < b.length) {
      c = b[p];
      if (c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        return p;
      }
      p++;
    }
    return p;
  }

  /** The index of the closing quote of the string whose opening quote is at {@code p}. */
  static int stringEnd(byte[] b, int p) {
    p++;
    while (true) {
      byte c = b[p];
      if (c == '"') {
        return p;
      }
      p += c == '\\' ? 2 : 1;
    }
  }

  static int space(byte[] b, int p) {
    while (p < b.length) {
      byte c = b[p];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        return p;
      }
      p++;
    }
    return p;
  }

  private static boolean hasEscape(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] == '\\') {
        return true;
      }
    }
    return false;
  }
}
