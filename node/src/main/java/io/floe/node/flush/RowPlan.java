package io.floe.node.flush;

import io.floe.node.event.EventBatch;
import io.floe.node.event.EventBatchReader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongToIntFunction;

/**
 * Where each event of a flush goes, decided before any file is opened: the rows of a {@link
 * FlushCut} indexed once, ordered by table partition, then {@code stream, event_time} (the table's
 * sort order), then sequence; and cut into the contiguous chunks that file writers take in
 * parallel. Pure: no Iceberg, no I/O.
 *
 * <p>Real-time data falls mostly into one table partition, so a partition's rows are split into
 * near-equal contiguous chunks (each becomes its own sorted files) until there is one per upload
 * permit, but no chunk gets less than {@link #MIN_CHUNK_BYTES} of input.
 */
final class RowPlan {
  /** Smallest input a parallel chunk of one partition gets (fewer, larger files below it). */
  static final long MIN_CHUNK_BYTES = 32L << 20;

  /** Rows {@code [from, to)} of {@link #order}, all in table partition {@code partition}. */
  record Chunk(int from, int to, int partition) {
    int rows() {
      return to - from;
    }
  }

  private final List<EventBatch> batches;

  /** Stream names in rank order (rank = index). */
  private final String[] streams;

  private final int[] batch;
  private final long[] sequence;
  private final long[] eventTime;
  private final int[] streamRank;
  private final int[] partition;
  private final int[] payloadOff;
  private final int[] payloadLen;

  /** The key's UTF-8 bytes in the batch's array, or offset -1 for none. */
  private final int[] keyOff;

  private final int[] keyLen;

  /** Row indexes in write order. */
  private final int[] order;

  /** Whether {@link #order} came from one sort of packed keys (else the comparator's sort). */
  private final boolean packed;

  private final List<Chunk> chunks;

  private RowPlan(FlushCut cut, LongToIntFunction partitionOf, int permits) {
    this.batches = cut.batches();
    TreeMap<String, Integer> ranks = new TreeMap<>();
    for (EventBatch b : batches) {
      ranks.put(b.stream(), 0);
    }
    this.streams = ranks.keySet().toArray(String[]::new);
    for (int i = 0; i < streams.length; i++) {
      ranks.put(streams[i], i);
    }
    int n = cut.events();
    batch = new int[n];
    sequence = new long[n];
    eventTime = new long[n];
    streamRank = new int[n];
    partition = new int[n];
    payloadOff = new int[n];
    payloadLen = new int[n];
    keyOff = new int[n];
    keyLen = new int[n];
    boolean inSequenceOrder = index(cut, ranks, partitionOf);
    int[] fast = inSequenceOrder ? packedOrder(n) : null;
    packed = fast != null;
    order = packed ? fast : sortedOrder(n);
    chunks = chunks(partitionRuns(), chunkRows(cut.bytes(), n, permits));
  }

  /**
   * Plans {@code cut} for {@code permits} parallel writers; {@code partitionOf} maps event-time
   * micros to the table partition.
   */
  static RowPlan of(FlushCut cut, LongToIntFunction partitionOf, int permits) {
    return new RowPlan(cut, partitionOf, permits);
  }

  /** Indexes every row; says whether the rows' sequences increase with their index. */
  private boolean index(
      FlushCut cut, TreeMap<String, Integer> ranks, LongToIntFunction partitionOf) {
    boolean inSequenceOrder = true;
    int r = 0;
    for (int b = 0; b < batches.size(); b++) {
      EventBatch eb = batches.get(b);
      int stream = ranks.get(eb.stream());
      long first = cut.firstSequences().get(b);
      EventBatchReader reader = eb.reader();
      while (reader.next()) {
        batch[r] = b;
        sequence[r] = first + reader.index();
        eventTime[r] = reader.eventTimeMicros();
        streamRank[r] = stream;
        partition[r] = partitionOf.applyAsInt(reader.eventTimeMicros());
        payloadOff[r] = reader.payloadOffset();
        payloadLen[r] = reader.payloadLength();
        keyOff[r] = reader.keyOffset();
        keyLen[r] = reader.keyLength();
        inSequenceOrder &= r == 0 || sequence[r] > sequence[r - 1];
        r++;
      }
    }
    return inSequenceOrder;
  }

  /**
   * The write order by one sort of primitive longs, each row's key packed as (rank of its partition
   * and stream, event time, row index) in 63 bits — what the comparator of {@link #sortedOrder}
   * decides, the row index standing in for the sequence (rows are indexed in sequence order) — or
   * null when the flush's spread of partitions, streams, times and rows needs more bits.
   */
  private int[] packedOrder(int n) {
    if (n == 0) {
      return new int[0];
    }
    long minTime = Long.MAX_VALUE;
    long maxTime = Long.MIN_VALUE;
    for (int i = 0; i < n; i++) {
      minTime = Math.min(minTime, eventTime[i]);
      maxTime = Math.max(maxTime, eventTime[i]);
    }
    long timeSpread = maxTime - minTime;
    if (timeSpread < 0) {
      return null; // overflowed: times at both ends of the long range
    }
    int[] partitionRank = new int[n];
    int partitions = partitionRanks(partitionRank);
    long groups = (long) partitions * streams.length;
    int rowBits = bits(n - 1);
    int timeBits = bits(timeSpread);
    if (bits(groups - 1) + timeBits + rowBits > 63) {
      return null;
    }
    long[] keys = new long[n];
    for (int i = 0; i < n; i++) {
      long group = (long) partitionRank[i] * streams.length + streamRank[i];
      keys[i] = group << (timeBits + rowBits) | (eventTime[i] - minTime) << rowBits | i;
    }
    Arrays.sort(keys);
    long rowMask = (1L << rowBits) - 1;
    int[] o = new int[n];
    for (int i = 0; i < n; i++) {
      o[i] = (int) (keys[i] & rowMask);
    }
    return o;
  }

  /**
   * Sets each row's table partition in {@code out} as its rank among the flush's distinct
   * partitions (few: real-time data and some late events), so that a late event far from the others
   * costs the packed key no bits for the partitions between; returns how many there are.
   */
  private int partitionRanks(int[] out) {
    int n = out.length;
    TreeMap<Integer, Integer> ranks = new TreeMap<>();
    int previous = partition[0];
    ranks.put(previous, 0);
    for (int i = 1; i < n; i++) {
      if (partition[i] != previous) { // rows come in runs of one partition
        previous = partition[i];
        ranks.putIfAbsent(previous, 0);
      }
    }
    int next = 0;
    for (Map.Entry<Integer, Integer> e : ranks.entrySet()) {
      e.setValue(next++);
    }
    previous = partition[0];
    int rank = ranks.get(previous);
    for (int i = 0; i < n; i++) {
      if (partition[i] != previous) {
        previous = partition[i];
        rank = ranks.get(previous);
      }
      out[i] = rank;
    }
    return ranks.size();
  }

  /** Bits needed for the non-negative {@code v} (0 for 0). */
  private static int bits(long v) {
    return 64 - Long.numberOfLeadingZeros(v);
  }

  private int[] sortedOrder(int n) {
    int[] o = new int[n];
    for (int i = 0; i < n; i++) {
      o[i] = i;
    }
    IndexSort.sort(
        o,
        (a, b) -> {
          int c = Integer.compare(partition[a], partition[b]);
          if (c == 0) {
            c = Integer.compare(streamRank[a], streamRank[b]);
          }
          if (c == 0) {
            c = Long.compare(eventTime[a], eventTime[b]);
          }
          return c != 0 ? c : Long.compare(sequence[a], sequence[b]);
        });
    return o;
  }

  /** Contiguous runs of equal table partition in write order. */
  private List<Chunk> partitionRuns() {
    List<Chunk> out = new ArrayList<>();
    int start = 0;
    for (int i = 1; i <= order.length; i++) {
      if (i == order.length || partition[order[i]] != partition[order[start]]) {
        out.add(new Chunk(start, i, partition[order[start]]));
        start = i;
      }
    }
    return out;
  }

  /** Rows per chunk: one chunk per permit, but none below {@link #MIN_CHUNK_BYTES} of input. */
  static int chunkRows(long bytes, int events, int permits) {
    long bytesPerRow = Math.max(1, bytes / Math.max(1, events));
    long byBytes = Math.max(1, MIN_CHUNK_BYTES / bytesPerRow);
    long byPermits = (events + (long) permits - 1) / permits;
    return (int) Math.max(byBytes, byPermits);
  }

  /** Each run split into near-equal contiguous chunks of at most {@code maxRows}. */
  static List<Chunk> chunks(List<Chunk> runs, int maxRows) {
    List<Chunk> out = new ArrayList<>();
    for (Chunk r : runs) {
      int rows = r.rows();
      int n = (rows + maxRows - 1) / maxRows;
      for (int i = 0; i < n; i++) {
        out.add(
            new Chunk(
                r.from() + (int) ((long) rows * i / n),
                r.from() + (int) ((long) rows * (i + 1) / n),
                r.partition()));
      }
    }
    return out;
  }

  List<Chunk> chunks() {
    return chunks;
  }

  /** Whether the write order came from the packed keys' sort (for tests). */
  boolean packed() {
    return packed;
  }

  /** The row written at position {@code i} of the write order. */
  int rowAt(int i) {
    return order[i];
  }

  String stream(int row) {
    return streams[streamRank[row]];
  }

  /** The rank of the row's stream among the plan's streams: {@code [0, streamCount())}. */
  int streamRank(int row) {
    return streamRank[row];
  }

  int streamCount() {
    return streams.length;
  }

  long sequence(int row) {
    return sequence[row];
  }

  long eventTimeMicros(int row) {
    return eventTime[row];
  }

  long ingestTimeMicros(int row) {
    return batches.get(batch[row]).ingestTimeMicros();
  }

  /** The offset of the event's key (UTF-8) in {@link #payloadArray}, or -1 when it has none. */
  int keyOffset(int row) {
    return keyOff[row];
  }

  int keyLength(int row) {
    return keyLen[row];
  }

  /**
   * The event's stored compact JSON: {@link #payloadOffset} and {@link #payloadLength} in this
   * array.
   */
  byte[] payloadArray(int row) {
    return batches.get(batch[row]).array();
  }

  int payloadOffset(int row) {
    return payloadOff[row];
  }

  int payloadLength(int row) {
    return payloadLen[row];
  }
}
