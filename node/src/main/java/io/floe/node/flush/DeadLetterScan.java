package io.floe.node.flush;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;

/**
 * How a partition's dead letters are read for a list or a replay, in bounded memory.
 *
 * <p>{@link #choose} reads no bytes: the filters (stream, error code, ingest-time range, ids, the
 * {@code after} cursor) are the Iceberg scan's expression, so files and row groups outside them are
 * skipped and their rows never reach the node. A dead letter waits for a replay unless a row of the
 * table records its outcome ({@code replay_of} = its id); that row's error code and ingest time are
 * its own ({@code replayed}, or the new error, at the time of the replay), so the outcomes are read
 * in a second scan that only the partition and the stream select (an outcome row is written with
 * its dead letter's stream and partition). Only the sequences of the outcomes and of the first
 * {@code limit} waiting dead letters are kept, never the rows.
 *
 * <p>{@link #chunks} then cuts the chosen ones into groups whose raw bytes ({@code raw_length}, an
 * upper bound of the bytes kept) fit the read budget ({@code dead-letter.read-budget-bytes}; a
 * single dead letter over it is a group alone), and {@link #load} reads one group whole.
 */
final class DeadLetterScan {
  /** What {@link #choose} reads of a waiting dead letter: no bytes, no details. */
  private static final List<String> INDEX_COLUMNS =
      List.of("partition_id", "sequence", "stream", "ingest_time", "error_code", "raw_length");

  private final Table table;
  private final int partitionId;
  private long indexRows;

  DeadLetterScan(Table table, int partitionId) {
    this.table = table;
    this.partitionId = partitionId;
  }

  /** A dead letter chosen to be listed or replayed: its sequence and how many bytes it holds. */
  record Chosen(long sequence, long rawLength) {}

  /**
   * The first {@code filter.limit()} waiting dead letters, by sequence, and whether more wait
   * beyond them.
   */
  record Choice(List<Chosen> chosen, boolean more) {}

  /** Rows of the table the last {@link #choose} read (outcomes and candidates): no bytes. */
  long indexRows() {
    return indexRows;
  }

  Choice choose(DeadLetterReplay.Filter filter) throws Exception {
    indexRows = 0;
    Expression where = candidates(filter);
    if (where == null) {
      return new Choice(List.of(), false);
    }
    long[] done = outcomes(filter.stream());
    // the smallest sequences that wait, at most limit of them: the largest on top, to be evicted
    PriorityQueue<Chosen> first =
        new PriorityQueue<>(Comparator.comparingLong(Chosen::sequence).reversed());
    boolean more = false;
    try (CloseableIterable<Record> rows =
        IcebergGenerics.read(table).where(where).select(INDEX_COLUMNS).build()) {
      for (Record r : rows) {
        indexRows++;
        long sequence = (Long) r.getField("sequence");
        if (Arrays.binarySearch(done, sequence) >= 0) {
          continue;
        }
        Object length = r.getField("raw_length");
        first.add(new Chosen(sequence, length == null ? 0 : ((Integer) length).longValue()));
        if (first.size() > filter.limit()) {
          first.poll();
          more = true;
        }
      }
    }
    List<Chosen> chosen = new ArrayList<>(first);
    chosen.sort(Comparator.comparingLong(Chosen::sequence));
    return new Choice(chosen, more);
  }

  /**
   * The scan of the dead letters that {@code filter} selects in this partition (replay outcome rows
   * of successful replays excluded: they are records, not dead letters), or null when none can
   * match.
   */
  private Expression candidates(DeadLetterReplay.Filter filter) {
    Expression where =
        Expressions.and(
            Expressions.equal("partition_id", partitionId),
            Expressions.notEqual("error_code", DeadLetterReplay.REPLAYED));
    if (filter.stream() != null) {
      where = Expressions.and(where, Expressions.equal("stream", filter.stream()));
    }
    if (filter.code() != null) {
      where = Expressions.and(where, Expressions.equal("error_code", filter.code()));
    }
    if (filter.since() != null) {
      where =
          Expressions.and(
              where, Expressions.greaterThanOrEqual("ingest_time", micros(filter.since())));
    }
    if (filter.until() != null) {
      where = Expressions.and(where, Expressions.lessThan("ingest_time", micros(filter.until())));
    }
    if (filter.ids() != null && !filter.ids().isEmpty()) {
      List<Long> sequences = ownSequences(filter.ids());
      if (sequences.isEmpty()) {
        return null; // ids of other partitions only
      }
      where = Expressions.and(where, Expressions.in("sequence", sequences));
    }
    List<Long> after = ownSequences(filter.after());
    if (!after.isEmpty()) {
      where = Expressions.and(where, Expressions.greaterThan("sequence", after.get(0)));
    }
    return where;
  }

  /**
   * The sequences of this partition's dead letters whose replay is recorded, sorted: only the
   * partition and the stream select them (an outcome row has its dead letter's stream; its code and
   * time are its own).
   */
  private long[] outcomes(String stream) throws Exception {
    Expression where =
        Expressions.and(
            Expressions.equal("partition_id", partitionId), Expressions.notNull("replay_of"));
    if (stream != null) {
      where = Expressions.and(where, Expressions.equal("stream", stream));
    }
    long[] done = new long[64];
    int n = 0;
    String prefix = partitionId + "-";
    try (CloseableIterable<Record> rows =
        IcebergGenerics.read(table).where(where).select("replay_of").build()) {
      for (Record r : rows) {
        indexRows++;
        String of = (String) r.getField("replay_of");
        if (of == null || !of.startsWith(prefix)) {
          continue;
        }
        if (n == done.length) {
          done = Arrays.copyOf(done, n * 2);
        }
        done[n++] = Long.parseLong(of.substring(prefix.length()));
      }
    }
    done = Arrays.copyOf(done, n);
    Arrays.sort(done);
    return done;
  }

  /** {@code chosen} in groups of at most {@code budget} raw bytes each (a bigger one alone). */
  static List<List<Chosen>> chunks(List<Chosen> chosen, long budget) {
    List<List<Chosen>> out = new ArrayList<>();
    List<Chosen> chunk = new ArrayList<>();
    long bytes = 0;
    for (Chosen c : chosen) {
      if (!chunk.isEmpty() && bytes + c.rawLength() > budget) {
        out.add(chunk);
        chunk = new ArrayList<>();
        bytes = 0;
      }
      chunk.add(c);
      bytes += c.rawLength();
    }
    if (!chunk.isEmpty()) {
      out.add(chunk);
    }
    return out;
  }

  /**
   * The dead letters of {@code chunk} (in sequence order, as {@link #chunks} cuts them), whole
   * (with their raw bytes), by sequence.
   */
  List<DeadLetterReplay.Listed> load(List<Chosen> chunk) throws Exception {
    List<Long> sequences = chunk.stream().map(Chosen::sequence).toList();
    List<DeadLetterReplay.Listed> out = new ArrayList<>();
    // the range prunes files and row groups also where the set is too long for their statistics
    Expression where =
        Expressions.and(
            Expressions.equal("partition_id", partitionId),
            Expressions.greaterThanOrEqual("sequence", sequences.get(0)),
            Expressions.lessThanOrEqual("sequence", sequences.get(sequences.size() - 1)),
            Expressions.in("sequence", sequences));
    try (CloseableIterable<Record> rows = IcebergGenerics.read(table).where(where).build()) {
      for (Record r : rows) {
        out.add(listed(r));
      }
    }
    out.sort(Comparator.comparingLong(l -> sequenceOf(l.id())));
    return out;
  }

  private static DeadLetterReplay.Listed listed(Record r) {
    byte[] bytes = new byte[0];
    if (r.getField("raw") instanceof ByteBuffer buffer) {
      ByteBuffer raw = buffer.duplicate();
      bytes = new byte[raw.remaining()];
      raw.get(bytes);
    }
    Object count = r.getField("replay_count");
    Object truncated = r.getField("raw_truncated");
    Object length = r.getField("raw_length");
    return new DeadLetterReplay.Listed(
        r.getField("partition_id") + "-" + r.getField("sequence"),
        (String) r.getField("stream"),
        ((OffsetDateTime) r.getField("ingest_time")).toInstant(),
        (String) r.getField("error_code"),
        (String) r.getField("error_detail"),
        (Integer) r.getField("position"),
        count == null ? 0 : (Integer) count,
        (String) r.getField("replay_of"),
        bytes,
        truncated != null && (Boolean) truncated,
        length == null ? bytes.length : (Integer) length,
        (String) r.getField("content_type"));
  }

  /** The sequences of the ids ({@code partition-sequence}) that name this partition. */
  private List<Long> ownSequences(List<String> ids) {
    List<Long> out = new ArrayList<>();
    if (ids == null) {
      return out;
    }
    String prefix = partitionId + "-";
    for (String id : ids) {
      if (id.startsWith(prefix)) {
        try {
          out.add(Long.parseLong(id.substring(prefix.length())));
        } catch (NumberFormatException e) {
          // not an id of this partition: it matches nothing here
        }
      }
    }
    return out;
  }

  static long sequenceOf(String id) {
    return Long.parseLong(id.substring(id.indexOf('-') + 1));
  }

  private static long micros(Instant t) {
    try {
      return ChronoUnit.MICROS.between(Instant.EPOCH, t);
    } catch (ArithmeticException e) {
      return t.isBefore(Instant.EPOCH) ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
  }
}
