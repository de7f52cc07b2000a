package io.floe.node.flush;

import io.floe.catalog.table.DeadLetterTable;
import io.floe.catalog.table.TableSettings;
import io.floe.node.buffer.Appended;
import io.floe.node.buffer.DeadLetters;
import io.floe.node.buffer.GroupCommitter;
import io.floe.node.buffer.Outcome;
import io.floe.node.columns.ColumnSet;
import io.floe.node.decode.FieldNames;
import io.floe.node.decode.RequestDecoder;
import io.floe.node.error.IngestException;
import io.floe.node.event.DeadLetterBatch;
import io.floe.node.event.EventBatch;
import io.floe.node.metrics.NodeMetrics;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replays this partition's dead letters, exactly once: each one's raw bytes re-enter its stream as
 * a new event through the normal decoding (columns, validation) and the partition's buffer, read as
 * the one record they were ({@link RequestDecoder#decodeRecord}: exactly one object or map, else it
 * fails again with its code; never as a whole request, whose elements would each become an event).
 * A replay stops at its filter's limit and says whether more wait ({@link Result#truncated}). Its
 * outcome is recorded in the dead-letter table as a row whose {@code replay_of} is the dead
 * letter's id ({@code <partition>-<sequence>}): error code {@code replayed} when it became events,
 * its new error when it failed again (then {@code replay_count} is one higher). That row and the
 * new events are one buffer write (producer {@value #PRODUCER}), and a replay flushes what the
 * buffer holds before it reads the table to choose: a replay repeated, or resumed after a crash,
 * finds the first outcome in the table's {@code replay_of} rows and never writes an event twice.
 * Each node replays its own partition's dead letters only, one replay at a time, so no other
 * process can replay them at the same moment; a replay whose answer gave up waiting for its write
 * leaves it to the next replay, which waits until that write is settled before it flushes.
 *
 * <p>A list or a replay holds at most {@code dead-letter.read-budget-bytes} of raw bytes at once
 * ({@link DeadLetterScan}: the filters are the table scan's, the bytes are read in chunks): a list
 * answers its first chunk and says it was cut ({@link Page#truncated}), a replay goes through the
 * chunks in turn.
 *
 * <p>The writes carry no idempotency key: the table is what says a dead letter was replayed, and a
 * key per replayed record would take room in the index that remembers the producers' keys ({@code
 * idempotency.max-keys}), so that a big replay made the node forget them and a producer's retry was
 * stored twice.
 */
public final class DeadLetterReplay {
  private static final Logger LOG = LoggerFactory.getLogger(DeadLetterReplay.class);

  /** The producer name the records of replays are stored under. */
  public static final String PRODUCER = "floe-replay";

  /** The error code of a dead letter's record of a successful replay. */
  public static final String REPLAYED = DeadLetterBatch.REPLAYED;

  private final Catalog catalog;
  private final TableSettings table;
  private final int partitionId;
  private final GroupCommitter committer;
  private final RequestDecoder decoder;
  private final FieldNames fields;
  private final int maxRawBytes;
  private final long readBudgetBytes;
  private final Supplier<ColumnSet> columns;
  private final Supplier<Flusher> flusher;
  private final NodeMetrics metrics;

  /**
   * A replay's buffer write that its replay stopped waiting for (null: none): the next replay waits
   * for it before it flushes, else the flush would not cover it and the next replay would write
   * that dead letter's events again. Guarded by {@code this}.
   */
  private CompletableFuture<Appended> unsettled;

  private volatile ReadStats lastRead = new ReadStats(0, 0, 0);

  /**
   * Which dead letters: null or empty fields match all. {@code after}: ids ({@code
   * partition-sequence}), of which this partition's (if any) says where a list goes on: only its
   * later dead letters match.
   */
  public record Filter(
      String stream,
      String code,
      Instant since,
      Instant until,
      List<String> ids,
      int limit,
      List<String> after) {}

  /**
   * A list's answer: the dead letters, oldest first, and whether more match (beyond the limit, or
   * beyond the read budget): then the next list goes on {@code after} the last one listed.
   */
  public record Page(List<Listed> listed, boolean truncated) {}

  /** What the last list or replay read (for the logs and tests). */
  record ReadStats(long indexRows, int chunks, long largestChunkBytes) {}

  /**
   * What a replay did; {@code truncated}: more dead letters match beyond the filter's limit, left
   * for the next replay (the same replay again goes on with them).
   */
  public record Result(
      int replayed, int failedAgain, int alreadyReplayed, List<String> ids, boolean truncated) {}

  /** A dead letter as listed: its id, where from, why, and its bytes. */
  public record Listed(
      String id,
      String stream,
      Instant ingestTime,
      String code,
      String detail,
      Integer position,
      int replayCount,
      String replayOf,
      byte[] raw,
      boolean truncated,
      int rawLength,
      String contentType) {}

  public DeadLetterReplay(
      Catalog catalog,
      TableSettings table,
      int partitionId,
      GroupCommitter committer,
      long maxDecodedBytes,
      long maxEventBytes,
      int maxRawBytes,
      long readBudgetBytes,
      FieldNames fields,
      Supplier<ColumnSet> columns,
      Supplier<Flusher> flusher,
      NodeMetrics metrics) {
    this.catalog = catalog;
    this.table = table;
    this.partitionId = partitionId;
    this.committer = committer;
    this.decoder = new RequestDecoder(maxDecodedBytes, maxEventBytes);
    this.maxRawBytes = maxRawBytes;
    this.readBudgetBytes = readBudgetBytes;
    this.fields = fields;
    this.columns = columns;
    this.flusher = flusher;
    this.metrics = metrics;
  }

  /**
   * This partition's dead letters that match and wait for a replay (none recorded), oldest first:
   * at most {@code filter.limit()}, and no more than the read budget's raw bytes (at least one).
   */
  public Page pending(Filter filter) throws Exception {
    DeadLetterScan scan = new DeadLetterScan(table(), partitionId);
    DeadLetterScan.Choice choice = scan.choose(filter);
    List<List<DeadLetterScan.Chosen>> chunks =
        DeadLetterScan.chunks(choice.chosen(), readBudgetBytes);
    if (chunks.isEmpty()) {
      lastRead = new ReadStats(scan.indexRows(), 0, 0);
      return new Page(List.of(), false);
    }
    List<Listed> listed = scan.load(chunks.get(0));
    lastRead = new ReadStats(scan.indexRows(), 1, rawBytes(listed));
    return new Page(listed, choice.more() || chunks.size() > 1);
  }

  /**
   * Replays what {@link #pending} lists for {@code filter}; waits until the outcome is committed.
   */
  public synchronized Result replay(Filter filter) throws Exception {
    Flusher f = flusher.get();
    if (f == null) {
      throw new IngestException.Unavailable(
          "not_joined", "this node has not joined the table yet; retry shortly", 5);
    }
    if (unsettled != null) {
      try {
        unsettled.get(1, TimeUnit.MINUTES);
      } catch (TimeoutException e) {
        throw new IngestException.Unavailable(
            "replay_unsettled",
            "an earlier replay's buffer write has not finished yet; retry shortly",
            5);
      } catch (ExecutionException e) {
        // it failed: nothing of it was written
      }
      unsettled = null;
    }
    // outcomes still in the buffer (a replay cut short by a crash, whose restart has not flushed
    // yet, or one whose answer failed) reach the table before it is read: the table alone says what
    // was replayed
    f.flushNow().get(5, TimeUnit.MINUTES);
    recordSalvagedOutcomes(f);
    int replayed = 0;
    int failed = 0;
    List<String> ids = new ArrayList<>();
    DeadLetterScan scan = new DeadLetterScan(table(), partitionId);
    DeadLetterScan.Choice choice = scan.choose(filter);
    List<List<DeadLetterScan.Chosen>> chunks =
        DeadLetterScan.chunks(choice.chosen(), readBudgetBytes);
    long largest = 0;
    for (List<DeadLetterScan.Chosen> chunk : chunks) {
      // one chunk's raw bytes at a time (the read budget): the next are read once these are written
      List<Listed> listed = scan.load(chunk);
      largest = Math.max(largest, rawBytes(listed));
      for (Listed l : listed) {
        Appended a = replayOne(l);
        ids.add(l.id());
        if (a.accepted() > 0) {
          replayed++;
        } else {
          failed++;
        }
      }
    }
    lastRead = new ReadStats(scan.indexRows(), chunks.size(), largest);
    if (!ids.isEmpty()) {
      // the table records the outcome before the answer: a later replay finds it there
      f.flushNow().get(5, TimeUnit.MINUTES);
    }
    LOG.info(
        "replayed {} dead letters of partition {}: {} became events, {} failed again ({} rows of"
            + " the table read without bytes, then {} chunks of at most {} raw bytes)",
        ids.size(),
        partitionId,
        replayed,
        failed,
        lastRead.indexRows(),
        lastRead.chunks(),
        lastRead.largestChunkBytes());
    // a dead letter already replayed is not chosen again (pending): none is counted as such
    return new Result(replayed, failed, 0, ids, choice.more());
  }

  private Appended replayOne(Listed l) throws Exception {
    RequestDecoder.Format format = format(l.contentType());
    long now = ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
    DeadLetterBatch.Builder dead = new DeadLetterBatch.Builder(maxRawBytes);
    EventBatch batch;
    try {
      if (l.truncated()) {
        throw new IngestException.BadRequest(
            "raw_truncated",
            "the record was cut at dead-letter.max-raw-bytes when it was kept; it cannot be replayed");
      }
      // one record, as it was kept: exactly one object (a map), never read as a whole request (an
      // array element that is itself an array of objects would become their events)
      batch =
          decoder.decodeRecord(
              l.stream(),
              format,
              l.raw(),
              l.raw().length,
              // where the original request said the key and the time are
              FieldNames.recordedIn(l.contentType(), fields),
              now,
              columns.get().rejectCheck(l.stream()));
    } catch (IngestException e) {
      // not an event the stream can take (not one object, broken, a mismatch, an empty or cut
      // record): it fails again as a whole, with its code
      dead = new DeadLetterBatch.Builder(maxRawBytes);
      batch = new EventBatch.Builder(l.stream(), now, 64).build();
      if (l.truncated()) {
        // still the cut bytes of a longer record: kept as cut, never read as a whole record
        dead.addCut(e.error(), e.detail(), 1, l.raw(), l.rawLength());
      } else {
        dead.add(e.error(), e.detail(), 1, l.raw(), 0, l.raw().length);
      }
    }
    boolean failedAgain = dead.count() > 0;
    if (!failedAgain) {
      dead.add(REPLAYED, batch.count() + " events replayed", 0, new byte[0], 0, 0);
    }
    DeadLetterBatch record =
        dead.build(
            new DeadLetterBatch.Context(
                l.stream(),
                now,
                l.contentType(),
                PRODUCER,
                "replay-" + l.id(),
                null,
                failedAgain ? l.replayCount() + 1 : l.replayCount(),
                l.id()));
    byte[] reasons = "[]".getBytes(StandardCharsets.UTF_8);
    CompletableFuture<Appended> write =
        committer.submit(batch, new DeadLetters(record, reasons), null);
    if (failedAgain) {
      // a dead letter again, counted once written and durable as the ingest path counts its own
      // (also when this replay stopped waiting for the write: the next one waits for it)
      write.thenAccept(
          a -> {
            if (a.outcome() == Outcome.WRITTEN) {
              for (DeadLetterBatch.Record d : record.records()) {
                metrics.deadLettered(l.stream(), d.code(), 1);
              }
            }
          });
    }
    try {
      return write.get(1, TimeUnit.MINUTES);
    } catch (TimeoutException e) {
      unsettled = write; // still queued or being written: the next replay waits for it
      throw e;
    }
  }

  /**
   * Records as replayed the dead letters whose replay's events were committed while its outcome row
   * was salvaged (the salvage export left their ids in the buffer: {@code
   * RocksBuffer.replaysToRecord}), before the replay chooses: else they would look unreplayed and
   * their events would be written again. Those the table already records (this ran before, up to
   * its flush) are only forgotten.
   */
  private void recordSalvagedOutcomes(Flusher f) throws Exception {
    List<String> ids = f.buffer().replaysToRecord();
    if (ids.isEmpty()) {
      return;
    }
    DeadLetterScan scan = new DeadLetterScan(table(), partitionId);
    List<DeadLetterScan.Chosen> chosen =
        scan.choose(new Filter(null, null, null, null, ids, ids.size(), null)).chosen();
    long now = ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
    byte[] reasons = "[]".getBytes(StandardCharsets.UTF_8);
    for (List<DeadLetterScan.Chosen> chunk : DeadLetterScan.chunks(chosen, readBudgetBytes)) {
      for (Listed l : scan.load(chunk)) {
        DeadLetterBatch.Builder dead = new DeadLetterBatch.Builder(maxRawBytes);
        dead.add(
            REPLAYED,
            "recorded after salvage: its replay's events were committed before the claim was lost",
            0,
            new byte[0],
            0,
            0);
        DeadLetterBatch record =
            dead.build(
                new DeadLetterBatch.Context(
                    l.stream(),
                    now,
                    l.contentType(),
                    PRODUCER,
                    "salvage-" + l.id(),
                    null,
                    l.replayCount(),
                    l.id()));
        committer
            .submit(
                new EventBatch.Builder(l.stream(), now, 64).build(),
                new DeadLetters(record, reasons),
                null)
            .get(1, TimeUnit.MINUTES);
      }
    }
    if (!chosen.isEmpty()) {
      f.flushNow().get(5, TimeUnit.MINUTES);
    }
    f.buffer().forgetReplaysToRecord(ids);
    LOG.warn(
        "recorded {} dead letters of partition {} as replayed whose outcome was salvaged (their"
            + " events were committed before the claim was lost): {}",
        chosen.size(),
        partitionId,
        ids);
  }

  private static RequestDecoder.Format format(String contentType) {
    try {
      return contentType == null
          ? RequestDecoder.Format.NDJSON
          : RequestDecoder.format(contentType);
    } catch (IngestException e) {
      return RequestDecoder.Format.NDJSON;
    }
  }

  private Table table() {
    return catalog.loadTable(DeadLetterTable.identifier(table));
  }

  /** What the last list or replay read. */
  ReadStats lastRead() {
    return lastRead;
  }

  private static long rawBytes(List<Listed> listed) {
    long n = 0;
    for (Listed l : listed) {
      n += l.raw().length;
    }
    return n;
  }
}
