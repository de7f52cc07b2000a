package io.floe.catalog.commit;

import java.util.Base64;
import java.util.BitSet;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A set of partition ids as one snapshot-summary value ({@code floe.advanced-partitions}): id
 * ranges ({@code 0-5,7,9-649}) or, when shorter, a bitmap ({@code ~<first id>:<base64url bits>}),
 * so that a batch commit of a thousand partitions records them in under 200 bytes.
 *
 * <p>Decoding is strict (the catalog service decodes what callers send): ids from 0 to {@link
 * #MAX_ID}, ranges ascending and disjoint, nothing empty.
 */
public final class PartitionSet {
  /** The largest partition id a node may have ({@code node.partition-id}). */
  public static final int MAX_ID = 1_000_000;

  private static final char BITMAP = '~';
  private static final Pattern RANGE = Pattern.compile("([0-9]{1,7})(?:-([0-9]{1,7}))?");
  private static final Pattern BITS = Pattern.compile("~([0-9]{1,7}):([A-Za-z0-9_-]+)");

  /** Decoded sets of the snapshots read last: readers walk the same ancestry for each partition. */
  private static final Map<String, BitSet> DECODED =
      new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, BitSet> eldest) {
          return size() > 256;
        }
      };

  private PartitionSet() {}

  /** The shorter encoding of {@code ids} (not empty, each 0..{@link #MAX_ID}). */
  public static String encode(Collection<Integer> ids) {
    if (ids.isEmpty()) {
      throw new IllegalArgumentException("a partition set is not empty");
    }
    TreeSet<Integer> sorted = new TreeSet<>(ids);
    if (sorted.first() < 0 || sorted.last() > MAX_ID) {
      throw new IllegalArgumentException(
          "partition ids are 0.." + MAX_ID + ", not " + sorted.first() + ".." + sorted.last());
    }
    String ranges = ranges(sorted);
    int first = sorted.first();
    // a bitmap costs 4 characters per 24 ids of its span: only worth it for dense sets
    if ((long) (sorted.last() - first + 1) / 6 + 10 >= ranges.length()) {
      return ranges;
    }
    BitSet bits = new BitSet();
    sorted.forEach(id -> bits.set(id - first));
    String bitmap =
        BITMAP
            + Integer.toString(first)
            + ':'
            + Base64.getUrlEncoder().withoutPadding().encodeToString(bits.toByteArray());
    return bitmap.length() < ranges.length() ? bitmap : ranges;
  }

  private static String ranges(TreeSet<Integer> sorted) {
    StringBuilder out = new StringBuilder();
    int start = -1;
    int end = -1;
    for (int id : sorted) {
      if (start >= 0 && id == end + 1) {
        end = id;
        continue;
      }
      append(out, start, end);
      start = id;
      end = id;
    }
    append(out, start, end);
    return out.toString();
  }

  private static void append(StringBuilder out, int start, int end) {
    if (start < 0) {
      return;
    }
    if (!out.isEmpty()) {
      out.append(',');
    }
    out.append(start);
    if (end > start) {
      out.append('-').append(end);
    }
  }

  /**
   * The ids {@code text} names.
   *
   * @throws IllegalArgumentException when it is not a partition set
   */
  public static BitSet decode(String text) {
    if (text == null || text.isEmpty()) {
      throw new IllegalArgumentException("a partition set is not empty");
    }
    BitSet ids = new BitSet();
    if (text.charAt(0) == BITMAP) {
      Matcher m = BITS.matcher(text);
      if (!m.matches()) {
        throw new IllegalArgumentException("not a partition bitmap: " + shortened(text));
      }
      int first = Integer.parseInt(m.group(1));
      BitSet bits;
      try {
        bits = BitSet.valueOf(Base64.getUrlDecoder().decode(m.group(2)));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("not a partition bitmap: " + shortened(text), e);
      }
      if (bits.isEmpty() || (long) first + bits.length() - 1 > MAX_ID || !bits.get(0)) {
        throw new IllegalArgumentException(
            "a partition bitmap starts at its first id and stays within 0.." + MAX_ID);
      }
      bits.stream().forEach(i -> ids.set(first + i));
      return ids;
    }
    int previous = -1;
    for (String part : text.split(",", -1)) {
      Matcher m = RANGE.matcher(part);
      if (!m.matches()) {
        throw new IllegalArgumentException("not a partition range: " + shortened(part));
      }
      int start = Integer.parseInt(m.group(1));
      int end = m.group(2) == null ? start : Integer.parseInt(m.group(2));
      if (start <= previous || end < start || end > MAX_ID) {
        throw new IllegalArgumentException(
            "partition ranges are ascending, disjoint and within 0.." + MAX_ID + ": " + part);
      }
      ids.set(start, end + 1);
      previous = end;
    }
    return ids;
  }

  /**
   * Whether {@code text} names {@code id}; a value that is not a partition set is taken to name
   * every partition (a reader then takes the table properties, and a validator refuses).
   */
  static boolean contains(String text, int id) {
    BitSet ids;
    synchronized (DECODED) {
      ids = DECODED.get(text);
    }
    if (ids == null) {
      try {
        ids = decode(text);
      } catch (IllegalArgumentException e) {
        return true;
      }
      synchronized (DECODED) {
        DECODED.put(text, ids);
      }
    }
    return ids.get(id);
  }

  private static String shortened(String text) {
    return text.length() <= 40 ? text : text.substring(0, 40) + "...";
  }
}
