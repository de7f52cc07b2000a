package io.floe.node.json;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Several JSON paths into an event, as a trie of member names, and where their values are: the JSON
 * decoder follows the trie while it validates a request (no second walk), and {@link #locate} walks
 * stored JSON (valid, as the node's decoders only store what they validated) for the flush. Members
 * whose name is on no path are skipped without being read, objects on a path are entered. The first
 * occurrence of a duplicated name wins, as it does for the event's key and time. Immutable and
 * thread-safe; the spans go to arrays the caller owns.
 *
 * <p>{@link #locate} is a second walker beside decode's {@code JsonScanner} that trusts its input,
 * because stored JSON is already valid.
 */
public final class FieldPaths {
  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  /** One level of the path trie: the member names that matter here. */
  public static final class Level {
    private final List<byte[]> names = new ArrayList<>();
    private final List<String> texts = new ArrayList<>();
    private final List<Level> children = new ArrayList<>();
    private final List<Integer> slots = new ArrayList<>();
    private byte[][] nameBytes;
    private Level[] childArray;
    private int[] slotArray;

    private int index(String name) {
      return texts.indexOf(name);
    }

    private void freeze() {
      nameBytes = names.toArray(byte[][]::new);
      childArray = children.toArray(Level[]::new);
      slotArray = slots.stream().mapToInt(Integer::intValue).toArray();
      for (Level c : childArray) {
        if (c != null) {
          c.freeze();
        }
      }
    }

    /** The member whose name is the JSON string contents {@code [from, to)}, or -1. */
    public int find(byte[] b, int from, int to, boolean escaped) {
      if (escaped) {
        return index(JsonStrings.unescape(b, from, to));
      }
      int len = to - from;
      byte[][] all = nameBytes;
      outer:
      for (int i = 0; i < all.length; i++) {
        byte[] n = all[i];
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

    /** The level below {@code member}, or null when no path goes deeper. */
    public Level child(int member) {
      return childArray[member];
    }

    /** The slot of the path ending at {@code member}, or -1. */
    public int slot(int member) {
      return slotArray[member];
    }
  }

  private final Level root = new Level();
  private final int slots;

  /** Slot {@code i} receives the value at {@code paths.get(i)}; paths must be distinct. */
  public FieldPaths(List<List<String>> paths) {
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
    root.freeze();
  }

  public int slots() {
    return slots;
  }

  public Level root() {
    return root;
  }

  /**
   * Locates the paths in the object at {@code [off, off + len)}: {@code start[i]} and {@code
   * end[i]} bound the value of path {@code i} (its JSON text), or {@code start[i] == -1} when the
   * event has no such field. Paths must be distinct.
   */
  public void locate(byte[] b, int off, int len, int[] start, int[] end) {
    Arrays.fill(start, 0, slots, -1);
    int p = space(b, off);
    if (p < off + len && b[p] == '{') {
      object(b, p, root, start, end, new int[] {slots});
    }
  }

  /**
   * Walks the object at {@code p}; returns the position after it, or -1 once every path was found
   * ({@code missing[0]} counts down): the rest of the event is not read.
   */
  private static int object(byte[] b, int p, Level level, int[] start, int[] end, int[] missing) {
    p = space(b, p + 1);
    if (b[p] == '}') {
      return p + 1;
    }
    while (true) {
      int nameStart = p + 1;
      int nameEnd = stringEnd(b, p);
      boolean escaped = JsonStrings.hasEscape(b, nameStart, nameEnd);
      p = space(b, nameEnd + 1);
      p = space(b, p + 1); // the ':'
      int member = level.find(b, nameStart, nameEnd, escaped);
      int valueStart = p;
      if (member < 0) {
        p = skip(b, p);
      } else {
        Level child = level.child(member);
        p = child != null && b[p] == '{' ? object(b, p, child, start, end, missing) : skip(b, p);
        if (p < 0) {
          return -1;
        }
        int slot = level.slot(member);
        if (slot >= 0 && start[slot] < 0) {
          start[slot] = valueStart;
          end[slot] = p;
          if (--missing[0] == 0) {
            return -1;
          }
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

  /** The end (exclusive) of the value starting at {@code p}. */
  public static int skip(byte[] b, int p) {
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

  /**
   * The index of the closing quote of the string whose opening quote is at {@code p}: eight bytes
   * at a time while they hold neither a quote nor a backslash.
   */
  static int stringEnd(byte[] b, int p) {
    p++;
    while (true) {
      if (p + 8 <= b.length) {
        long special = quoteOrBackslash((long) LONGS.get(b, p));
        if (special == 0) {
          p += 8;
          continue;
        }
        // the lowest flagged byte is exact (only bytes above a true match can be false flags)
        p += Long.numberOfTrailingZeros(special) >>> 3;
      }
      byte c = b[p];
      if (c == '"') {
        return p;
      }
      p += c == '\\' ? 2 : 1;
    }
  }

  /**
   * The high bit of each of the eight bytes of {@code w} that is '"' or '\\' (exact up to the
   * lowest).
   */
  private static long quoteOrBackslash(long w) {
    long quote = w ^ 0x2222222222222222L;
    long backslash = w ^ 0x5C5C5C5C5C5C5C5CL;
    long zero =
        ((quote - 0x0101010101010101L) & ~quote) | ((backslash - 0x0101010101010101L) & ~backslash);
    return zero & 0x8080808080808080L;
  }

  public static int space(byte[] b, int p) {
    while (p < b.length) {
      byte c = b[p];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        return p;
      }
      p++;
    }
    return p;
  }
}
