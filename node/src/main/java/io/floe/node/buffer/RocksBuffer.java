package io.floe.node.buffer;

import io.floe.node.event.DeadLetterBatch;
import io.floe.node.event.EventBatch;
import io.floe.node.metrics.NodeMetrics;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.rocksdb.CompactRangeOptions;
import org.rocksdb.FlushOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.Statistics;
import org.rocksdb.StatsLevel;
import org.rocksdb.TickerType;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * A node's partition: acknowledged event batches in RocksDB, keyed by their first sequence.
 *
 * <p>Invariants: sequences are strictly increasing and never reused, also across restarts (the next
 * sequence is persisted in the same WriteBatch as the data it follows); a batch is written whole or
 * not at all; everything at or below {@link #committedSequence()} has been dropped.
 *
 * <p>Keys: {@code 0x00 name} for metadata, {@code 0x01 + big-endian first sequence} for batches,
 * {@code 0x02} and {@code 0x03} for idempotency keys ({@link IdempotencyRecords}), {@code 0x04 +
 * first sequence} for dead letters (their own watermark, the dead-letter table's), all in one
 * column family so that the WAL never waits on a rarely flushed second one. Writers ({@link
 * #append}, {@link #dropThrough}) are serialised; readers use their own iterators.
 */
public final class RocksBuffer implements AutoCloseable, NodeMetrics.BufferView {
  static {
    RocksDB.loadLibrary();
  }

  private static final byte META = 0x00;
  private static final byte DATA = 0x01;

  /**
   * Dead letters ({@link DeadLetterBatch}), by their first sequence; after the idempotency keys.
   */
  private static final byte DEAD = 0x04;

  /** The dead-letter table's committed sequence of this partition, as last recorded here. */
  private static final byte[] DEAD_COMMITTED_SEQUENCE = metaKey("dead_committed_sequence");

  private static final byte[] NEXT_SEQUENCE = metaKey("next_sequence");
  private static final byte[] COMMITTED_SEQUENCE = metaKey("committed_sequence");
  private static final byte[] BUFFERED_BYTES = metaKey("buffered_bytes");
  private static final byte[] PARTITION_ID = metaKey("partition_id");

  /** The epoch of the claim under which this buffer acknowledges writes (0: none recorded). */
  private static final byte[] CLAIM_EPOCH = metaKey("claim_epoch");

  /** This buffer's id (a UUID, set when it is created): claims made for it carry it. */
  private static final byte[] BUFFER_ID = metaKey("buffer_id");

  /** Set when batches above it were acknowledged under a claim that never committed them. */
  private static final byte[] SALVAGE_AFTER = metaKey("salvage_after");

  /**
   * The epoch of the dead-letter table's claim under which this buffer acknowledges dead letters
   * (0: none recorded, as in a buffer of a release before it was kept).
   */
  private static final byte[] DEAD_CLAIM_EPOCH = metaKey("dead_claim_epoch");

  /** Set when dead letters above it were acknowledged under a claim that never committed them. */
  private static final byte[] DEAD_SALVAGE_AFTER = metaKey("dead_salvage_after");

  /**
   * Ids of this partition's dead letters whose replay's events were committed while the outcome row
   * saying so was salvaged (comma-separated): the next replay records them as replayed before it
   * chooses, so that it does not write their events again.
   */
  private static final byte[] REPLAYS_TO_RECORD = metaKey("replays_to_record");

  private final BufferConfig config;
  private final LRUCache cache;
  private final Statistics statistics;
  private final Options options;
  private final RocksDB db;
  private final WriteOptions writeOptions;

  private final IdempotencyIndex idempotency;
  private String bufferId;
  private volatile long nextSequence;
  private volatile long committedSequence;
  private volatile long bufferedBytes;
  private volatile long deadCommitted;
  private volatile long lastDeadLetter;
  private volatile long lastEvent;

  private RocksBuffer(
      BufferConfig config,
      LRUCache cache,
      Statistics statistics,
      Options options,
      RocksDB db,
      WriteOptions wo) {
    this.config = config;
    this.cache = cache;
    this.statistics = statistics;
    this.options = options;
    this.db = db;
    this.writeOptions = wo;
    this.idempotency =
        new IdempotencyIndex(config.idempotencyMaxKeys(), config.idempotencyRetention().toMillis());
  }

  /**
   * Opens (or creates) the partition buffer in {@code config.dir()}. Refuses a directory that
   * belongs to another partition id.
   */
  public static RocksBuffer open(BufferConfig config, int partitionId)
      throws RocksDBException, IOException {
    Files.createDirectories(config.dir());
    if (config.walDir() != null) {
      Files.createDirectories(config.walDir());
    }
    LRUCache cache = new LRUCache(32L << 20);
    Statistics statistics = new Statistics();
    statistics.setStatsLevel(StatsLevel.EXCEPT_DETAILED_TIMERS); // the cheapest level Java offers
    Options options = RocksTuning.options(config, cache).setStatistics(statistics);
    RocksDB db = null;
    WriteOptions wo = null;
    try {
      db = RocksDB.open(options, config.dir().toString());
      wo =
          new WriteOptions()
              .setSync(config.durability() == Durability.SYNC)
              .setDisableWAL(config.durability() == Durability.NONE);
      RocksBuffer buffer = new RocksBuffer(config, cache, statistics, options, db, wo);
      buffer.recover(partitionId);
      return buffer;
    } catch (RocksDBException | RuntimeException e) {
      if (wo != null) {
        wo.close();
      }
      if (db != null) {
        db.close();
      }
      options.close();
      statistics.close();
      cache.close();
      throw e;
    }
  }

  private void recover(int partitionId) throws RocksDBException {
    byte[] storedPartition = db.get(PARTITION_ID);
    if (storedPartition == null) {
      db.put(writeOptions, PARTITION_ID, ByteBuffer.allocate(4).putInt(partitionId).array());
    } else if (ByteBuffer.wrap(storedPartition).getInt() != partitionId) {
      throw new IllegalStateException(
          "buffer directory "
              + config.dir()
              + " belongs to partition "
              + ByteBuffer.wrap(storedPartition).getInt()
              + ", not "
              + partitionId
              + " (check FLOE_NODE_PARTITION_ID and FLOE_BUFFER_DIR)");
    }
    byte[] id = db.get(BUFFER_ID);
    if (id == null) {
      id = UUID.randomUUID().toString().getBytes(StandardCharsets.US_ASCII);
      db.put(writeOptions, BUFFER_ID, id);
    }
    bufferId = new String(id, StandardCharsets.US_ASCII);
    committedSequence = readLong(COMMITTED_SEQUENCE, 0);
    bufferedBytes = readLong(BUFFERED_BYTES, 0);
    deadCommitted = readLong(DEAD_COMMITTED_SEQUENCE, 0);
    lastDeadLetter = deadCommitted;
    try (ReadOptions ro = new ReadOptions();
        Slice upper = new Slice(new byte[] {DEAD + 1});
        RocksIterator it = db.newIterator(ro.setIterateUpperBound(upper))) {
      it.seekToLast();
      if (it.isValid() && it.key()[0] == DEAD) {
        long first = sequenceOf(it.key());
        lastDeadLetter =
            Math.max(lastDeadLetter, first + DeadLetterBatch.fromStored(it.value()).count() - 1);
      }
      it.status();
    }
    lastEvent = committedSequence;
    try (ReadOptions ro = new ReadOptions();
        Slice upper = new Slice(new byte[] {DATA + 1});
        RocksIterator it = db.newIterator(ro.setIterateUpperBound(upper))) {
      it.seekToLast();
      if (it.isValid() && it.key()[0] == DATA) {
        long first = sequenceOf(it.key());
        lastEvent = Math.max(lastEvent, first + EventBatch.fromStored(it.value()).count() - 1);
      }
      it.status();
    }
    long next = readLong(NEXT_SEQUENCE, 1);
    // never hand out a sequence at or below what the table already holds
    nextSequence = Math.max(next, Math.max(committedSequence, deadCommitted) + 1);
    recoverIdempotencyKeys();
  }

  private void recoverIdempotencyKeys() throws RocksDBException {
    List<Map.Entry<IdempotencyIndex.Slot, IdempotencyIndex.Entry>> found = new ArrayList<>();
    try (ReadOptions ro = new ReadOptions();
        Slice upper = new Slice(new byte[] {IdempotencyRecords.END});
        RocksIterator it = db.newIterator(ro.setIterateUpperBound(upper))) {
      for (it.seek(new byte[] {IdempotencyRecords.FIRST}); it.isValid(); it.next()) {
        found.add(IdempotencyRecords.read(it.key(), it.value()));
      }
      it.status();
    }
    found.sort(Comparator.comparingLong(e -> e.getValue().createdMillis()));
    for (Map.Entry<IdempotencyIndex.Slot, IdempotencyIndex.Entry> e : found) {
      idempotency.put(e.getKey(), e.getValue());
    }
    List<IdempotencyIndex.Slot> expired = idempotency.evict(System.currentTimeMillis());
    if (!expired.isEmpty()) {
      try (WriteBatch wb = new WriteBatch()) {
        for (IdempotencyIndex.Slot k : expired) {
          wb.delete(IdempotencyRecords.key(k));
        }
        db.write(writeOptions, wb);
      }
    }
  }

  private long readLong(byte[] key, long absent) throws RocksDBException {
    byte[] v = db.get(key);
    return v == null ? absent : ByteBuffer.wrap(v).getLong();
  }

  /** Writes batches that carry no idempotency key; see {@link #append(List, List)}. */
  public List<Appended> append(List<EventBatch> batches) throws RocksDBException {
    return append(batches, null);
  }

  /**
   * Writes the batches as one atomic RocksDB WriteBatch (one WAL write, one fsync in sync mode),
   * assigning their sequences in order. On failure nothing is written and no sequence is used.
   *
   * <p>A batch whose idempotency key ({@code keys.get(i)}, null for none) is remembered is not
   * written again: its result is the original sequences, {@link Outcome#REPLAYED} (or {@link
   * Outcome#KEY_REUSED} when the key came with a different request). A new key is stored in the
   * same WriteBatch as its events, so an acknowledged key survives exactly what its events survive.
   */
  public synchronized List<Appended> append(List<EventBatch> batches, List<IdempotencyKey> keys)
      throws RocksDBException {
    return append(batches, null, keys);
  }

  /**
   * As above, with each request's dead letters ({@code dead.get(i)}, null for none; {@code dead}
   * null: none at all): request i's events take sequences {@code s .. s+g-1} (an {@link EventBatch}
   * under its first), its dead letters the next ones (a {@link DeadLetterBatch} under {@code 0x04}
   * and its first), in the same WriteBatch, so one acknowledgement covers both.
   */
  public synchronized List<Appended> append(
      List<EventBatch> batches, List<DeadLetters> dead, List<IdempotencyKey> keys)
      throws RocksDBException {
    long next = nextSequence;
    long lastDead = lastDeadLetter;
    long lastEv = lastEvent;
    long bytes = 0;
    long now = System.currentTimeMillis();
    List<Appended> result = new ArrayList<>(batches.size());
    List<IdempotencyIndex.Slot> added = new ArrayList<>();
    try (WriteBatch wb = new WriteBatch()) {
      for (int i = 0; i < batches.size(); i++) {
        EventBatch batch = batches.get(i);
        DeadLetters letters = dead == null ? null : dead.get(i);
        IdempotencyKey key = keys == null ? null : keys.get(i);
        if (key != null) {
          IdempotencyIndex.Match seen = idempotency.match(key, now);
          if (seen != null) {
            IdempotencyIndex.Entry e = seen.entry();
            result.add(
                new Appended(
                    e.firstSequence(),
                    e.lastSequence(),
                    seen.sameRequest() ? Outcome.REPLAYED : Outcome.KEY_REUSED,
                    e.deadLettered(),
                    e.reasons()));
            continue;
          }
        }
        if (batch.count() > 0) {
          byte[] value = batch.toByteArray();
          wb.put(dataKey(next), value);
          bytes += value.length;
          lastEv = next + batch.count() - 1;
        }
        int deadCount = letters == null ? 0 : letters.count();
        if (deadCount > 0) {
          byte[] value = letters.batch().toByteArray();
          wb.put(deadKey(next + batch.count()), value);
          bytes += value.length;
        }
        Appended appended =
            new Appended(
                next,
                next + batch.count() - 1,
                Outcome.WRITTEN,
                deadCount,
                deadCount == 0 ? null : letters.reasons());
        if (key != null) {
          IdempotencyIndex.Entry entry =
              new IdempotencyIndex.Entry(
                  appended.firstSequence(),
                  appended.lastSequence(),
                  key.fingerprint(),
                  key.requestFingerprint(),
                  now,
                  deadCount,
                  appended.reasons());
          IdempotencyIndex.Slot slot = IdempotencyIndex.Slot.of(key);
          wb.put(IdempotencyRecords.key(slot), IdempotencyRecords.value(entry));
          idempotency.put(slot, entry);
          added.add(slot);
        }
        result.add(appended);
        next += batch.count() + deadCount;
        if (deadCount > 0) {
          lastDead = next - 1;
        }
      }
      for (IdempotencyIndex.Slot k : idempotency.evict(now)) {
        wb.delete(IdempotencyRecords.key(k));
      }
      long newBuffered = bufferedBytes + bytes;
      wb.put(NEXT_SEQUENCE, longBytes(next));
      wb.put(BUFFERED_BYTES, longBytes(newBuffered));
      try {
        db.write(writeOptions, wb);
      } catch (RocksDBException | RuntimeException e) {
        added.forEach(idempotency::remove); // what was not written is not remembered
        throw e;
      }
      nextSequence = next;
      lastDeadLetter = lastDead;
      lastEvent = lastEv;
      bufferedBytes = newBuffered;
    }
    return result;
  }

  /**
   * The answer remembered for {@code key} when it names the request it was given for ({@link
   * Outcome#REPLAYED}, the original sequences); null when the key is not remembered, or was given
   * for another request. Writes nothing: for a request that was not decoded (its {@code
   * fingerprint} null), whose retry must still get its first answer.
   */
  public synchronized Appended remembered(IdempotencyKey key) {
    IdempotencyIndex.Match seen = idempotency.match(key, System.currentTimeMillis());
    if (seen == null || !seen.sameRequest()) {
      return null;
    }
    IdempotencyIndex.Entry e = seen.entry();
    return new Appended(
        e.firstSequence(), e.lastSequence(), Outcome.REPLAYED, e.deadLettered(), e.reasons());
  }

  /**
   * Visits the stored dead-letter batches in sequence order whose first sequence is above {@code
   * after}.
   */
  public void forEachDeadLetters(long after, DeadLetterVisitor visitor) throws RocksDBException {
    try (ReadOptions ro = new ReadOptions();
        Slice upper = new Slice(new byte[] {DEAD + 1});
        RocksIterator it = db.newIterator(ro.setIterateUpperBound(upper))) {
      for (it.seek(deadKey(after + 1)); it.isValid(); it.next()) {
        if (!visitor.visit(sequenceOf(it.key()), DeadLetterBatch.fromStored(it.value()))) {
          return;
        }
      }
      it.status();
    }
  }

  /** Sees one stored dead-letter batch; returns false to stop. */
  @FunctionalInterface
  public interface DeadLetterVisitor {
    boolean visit(long firstSequence, DeadLetterBatch batch) throws RocksDBException;
  }

  /**
   * The dead-letter table's committed sequence for this partition, as this buffer last recorded it:
   * dead letters at or below it are deleted.
   */
  public long deadLettersCommitted() {
    return deadCommitted;
  }

  /** The last dead letter's sequence (0 when none was ever written). */
  public long lastDeadLetter() {
    return lastDeadLetter;
  }

  /** Whether events wait for the events table. */
  public boolean eventsPending() {
    return lastEvent > committedSequence;
  }

  /**
   * The sequence through which everything acknowledged is in its table: events in the events table,
   * dead letters in theirs ({@link #highWaterMark} when nothing waits).
   */
  public long settledThrough() {
    long hwm = highWaterMark();
    long events = eventsPending() ? committedSequence : hwm;
    long dead = deadLettersPending() ? deadCommitted : hwm;
    return Math.min(events, dead);
  }

  /** Ingest time (epoch micros) of the oldest dead letter not yet committed, or -1. */
  public long oldestDeadLetterIngestMicros() throws RocksDBException {
    long[] oldest = {-1};
    forEachDeadLetters(
        deadCommitted,
        (first, batch) -> {
          oldest[0] = batch.context().ingestTimeMicros();
          return false;
        });
    return oldest[0];
  }

  /** Whether dead letters wait for the dead-letter table. */
  public boolean deadLettersPending() {
    return lastDeadLetter > deadCommitted;
  }

  /**
   * Records that the dead-letter table holds this partition's dead letters through {@code sequence}
   * and deletes them from the buffer ({@code bytes}: their encoded size), atomically. Idempotent: a
   * sequence at or below the recorded one changes nothing.
   */
  public synchronized void dropDeadLettersThrough(long sequence, long bytes)
      throws RocksDBException {
    if (sequence <= deadCommitted) {
      return;
    }
    long newBuffered = Math.max(0, bufferedBytes - bytes);
    try (WriteBatch wb = new WriteBatch()) {
      wb.deleteRange(deadKey(0), deadKey(sequence + 1));
      wb.put(DEAD_COMMITTED_SEQUENCE, longBytes(sequence));
      wb.put(BUFFERED_BYTES, longBytes(newBuffered));
      db.write(writeOptions, wb);
    }
    deadCommitted = sequence;
    bufferedBytes = newBuffered;
  }

  /**
   * Aligns the dead letters with the committed sequence the dead-letter table records (read at
   * start-up): drops what it already holds.
   */
  public void recoverDeadLettersCommitted(long tableCommitted) throws RocksDBException {
    if (tableCommitted <= deadCommitted) {
      return;
    }
    long[] bytes = {0};
    forEachDeadLetters(
        deadCommitted,
        (first, batch) -> {
          if (first + batch.count() - 1 > tableCommitted) {
            if (first <= tableCommitted) {
              throw new IllegalStateException(
                  "buffered dead letters "
                      + first
                      + ".."
                      + (first + batch.count() - 1)
                      + " straddle sequence "
                      + tableCommitted
                      + ", which the dead-letter table records as committed by another process");
            }
            return false;
          }
          bytes[0] += batch.sizeBytes();
          return true;
        });
    synchronized (this) {
      if (nextSequence <= tableCommitted) {
        nextSequence = tableCommitted + 1;
        db.put(writeOptions, NEXT_SEQUENCE, longBytes(nextSequence));
      }
    }
    dropDeadLettersThrough(tableCommitted, bytes[0]);
  }

  /** Idempotency keys remembered now. */
  public synchronized int idempotencyKeys() {
    return idempotency.size();
  }

  /**
   * Records that everything up to {@code sequence} is committed to the table and deletes those
   * batches. {@code sequence} must end a batch (the flusher cuts at batch boundaries).
   *
   * @return bytes freed
   */
  public long dropThrough(long sequence) throws RocksDBException {
    long freed = deleteThrough(sequence);
    if (freed > 0) {
      reclaim(sequence);
    }
    return freed;
  }

  /**
   * The flusher's drop: the batches {@code (after, through]} it just committed, whose encoded size
   * it already knows, so they are not read again.
   *
   * @throws IllegalStateException when {@code after} is not the buffer's committed sequence (the
   *     cut is not the one this buffer would hand out)
   */
  public void dropCut(long after, long through, long bytes) throws RocksDBException {
    synchronized (this) {
      if (after != committedSequence || through >= nextSequence || through <= after) {
        throw new IllegalStateException(
            "cut "
                + (after + 1)
                + ".."
                + through
                + " does not start at the committed "
                + "sequence "
                + committedSequence
                + " or ends past the high-water mark "
                + highWaterMark());
      }
      recordDrop(through, bytes);
    }
    reclaim(through);
  }

  /**
   * Gives the dropped range's disk space back once the SST files hold more than the memtables
   * could: compacting the dropped range lets the range tombstone discard its files (live data is
   * rewritten only where a file straddles the committed sequence). Not after every drop: a manual
   * compaction overlapping the memtables flushes them first, which would write to SST files the
   * batches that merged memtable flushes would otherwise drop. Runs outside the writers' lock, so
   * appends go on meanwhile.
   */
  private void reclaim(long sequence) throws RocksDBException {
    if (property("rocksdb.live-sst-files-size") < config.memtableBytes()) {
      return;
    }
    try (CompactRangeOptions cro =
        new CompactRangeOptions()
            .setBottommostLevelCompaction(CompactRangeOptions.BottommostLevelCompaction.kForce)) {
      db.compactRange(null, dataKey(0), dataKey(sequence + 1), cro);
    }
  }

  private synchronized long deleteThrough(long sequence) throws RocksDBException {
    if (sequence <= committedSequence) {
      return 0;
    }
    if (sequence >= nextSequence) {
      throw new IllegalArgumentException(
          "cannot drop through " + sequence + ": high-water mark is " + highWaterMark());
    }
    long freed = 0;
    try (ReadOptions ro = new ReadOptions();
        RocksIterator it = db.newIterator(ro)) {
      for (it.seek(dataKey(0)); it.isValid(); it.next()) {
        byte[] key = it.key();
        if (key[0] != DATA) {
          break;
        }
        long first = sequenceOf(key);
        if (first > sequence) {
          break;
        }
        EventBatch batch = EventBatch.fromStored(it.value());
        if (first + batch.count() - 1 > sequence) {
          throw new IllegalArgumentException(
              "sequence "
                  + sequence
                  + " is inside batch "
                  + first
                  + ".."
                  + (first + batch.count() - 1));
        }
        freed += batch.sizeBytes();
      }
      it.status();
    }
    recordDrop(sequence, freed);
    return freed;
  }

  /**
   * Deletes the batches through {@code sequence} and records the new committed sequence,
   * atomically.
   */
  private void recordDrop(long sequence, long freed) throws RocksDBException {
    long newBuffered = Math.max(0, bufferedBytes - freed);
    try (WriteBatch wb = new WriteBatch()) {
      wb.deleteRange(dataKey(0), dataKey(sequence + 1));
      wb.put(COMMITTED_SEQUENCE, longBytes(sequence));
      wb.put(BUFFERED_BYTES, longBytes(newBuffered));
      db.write(writeOptions, wb);
    }
    committedSequence = sequence;
    bufferedBytes = newBuffered;
  }

  /**
   * Aligns the buffer with the committed sequence the table records (read at start-up): drops what
   * the table already holds and makes sure no sequence at or below it is handed out again. Refuses
   * a buffer whose batches straddle that sequence: they were not written by the process whose
   * commits the table holds.
   */
  public synchronized void recoverCommitted(long tableCommitted) throws RocksDBException {
    if (tableCommitted <= committedSequence) {
      return;
    }
    forEachBatch(
        committedSequence,
        (first, batch) -> {
          long last = first + batch.count() - 1;
          if (first <= tableCommitted && last > tableCommitted) {
            throw new IllegalStateException(
                "buffer batch "
                    + first
                    + ".."
                    + last
                    + " straddles sequence "
                    + tableCommitted
                    + ", which the table records as committed for this partition by another "
                    + "process; move "
                    + config.dir()
                    + " aside to start this partition afresh");
          }
          return last <= tableCommitted;
        });
    if (nextSequence <= tableCommitted) {
      nextSequence = tableCommitted + 1;
      try (WriteBatch wb = new WriteBatch()) {
        wb.put(NEXT_SEQUENCE, longBytes(nextSequence));
        db.write(writeOptions, wb);
      }
    }
    dropThrough(tableCommitted);
  }

  /**
   * This buffer's id, the same for as long as its directory lives: a claim made for it carries it,
   * so that the node recognises its own claim whose answer it never got.
   */
  public String bufferId() {
    return bufferId;
  }

  /** The epoch of the claim this buffer last acknowledged under, or 0 when none was recorded. */
  public long claimEpoch() throws RocksDBException {
    return readLong(CLAIM_EPOCH, 0);
  }

  /** Records the claim under which acknowledgements are given from now on. */
  public void recordClaimEpoch(long epoch) throws RocksDBException {
    db.put(writeOptions, CLAIM_EPOCH, longBytes(epoch));
  }

  /** The sequence after which batches await salvage, or -1 when none do. */
  public long salvageAfter() throws RocksDBException {
    return readLong(SALVAGE_AFTER, -1);
  }

  /**
   * Marks the batches above {@code sequence} as acknowledged but never committed: they wait for an
   * operator.
   */
  public void markSalvage(long sequence) throws RocksDBException {
    db.put(writeOptions, SALVAGE_AFTER, longBytes(sequence));
  }

  /** The epoch of the dead-letter table's claim this buffer last acknowledged under, or 0. */
  public long deadClaimEpoch() throws RocksDBException {
    return readLong(DEAD_CLAIM_EPOCH, 0);
  }

  /**
   * Records the dead-letter table's claim under which dead letters are acknowledged from now on.
   */
  public void recordDeadClaimEpoch(long epoch) throws RocksDBException {
    db.put(writeOptions, DEAD_CLAIM_EPOCH, longBytes(epoch));
  }

  /** The sequence after which dead letters await salvage, or -1 when none do. */
  public long deadSalvageAfter() throws RocksDBException {
    return readLong(DEAD_SALVAGE_AFTER, -1);
  }

  /**
   * Marks the dead letters above {@code sequence} as acknowledged but never committed to the
   * dead-letter table: they wait for an operator.
   */
  public void markDeadSalvage(long sequence) throws RocksDBException {
    db.put(writeOptions, DEAD_SALVAGE_AFTER, longBytes(sequence));
  }

  /**
   * The ids ({@code <partition>-<sequence>}) of dead letters replayed under a claim that was lost
   * after the replay's events were committed and before its outcome row was: salvage left their
   * outcome here ({@link SalvageExport}), for the next replay to record.
   */
  public List<String> replaysToRecord() throws RocksDBException {
    byte[] v = db.get(REPLAYS_TO_RECORD);
    if (v == null || v.length == 0) {
      return List.of();
    }
    return List.of(new String(v, StandardCharsets.US_ASCII).split(","));
  }

  /** Forgets {@code recorded} from {@link #replaysToRecord}: their outcome is in the table. */
  public synchronized void forgetReplaysToRecord(List<String> recorded) throws RocksDBException {
    Set<String> ids = new LinkedHashSet<>(replaysToRecord());
    ids.removeAll(recorded);
    if (ids.isEmpty()) {
      db.delete(writeOptions, REPLAYS_TO_RECORD);
    } else {
      db.put(
          writeOptions,
          REPLAYS_TO_RECORD,
          String.join(",", ids).getBytes(StandardCharsets.US_ASCII));
    }
  }

  /** Whether events or dead letters await an operator's salvage. */
  public boolean salvageNeeded() throws RocksDBException {
    return salvageAfter() >= 0 || deadSalvageAfter() >= 0;
  }

  /** The last event's sequence (the committed sequence when no event waits). */
  public long lastEvent() {
    return lastEvent;
  }

  /**
   * Forgets what awaited salvage once {@link SalvageExport} has written it: for each range marked
   * ({@code after}, {@code deadAfter}: the marks, -1 for a range not marked) empties it (what lies
   * at or below its mark was committed under the old claim) and forgets the claim it was
   * acknowledged under, so that the next start claims that table afresh. A range not marked is kept
   * as it is, and the buffered bytes are what is left.
   */
  synchronized void forgetSalvaged(long after, long deadAfter, List<String> replaysToRecord)
      throws RocksDBException {
    // the salvaged sequences are burned, not reused: the range is empty, committed through what the
    // old claim had committed, and the next start aligns it with its table
    try (WriteBatch wb = new WriteBatch()) {
      if (after >= 0) {
        wb.deleteRange(dataKey(0), dataKey(nextSequence));
        wb.put(COMMITTED_SEQUENCE, longBytes(after));
        wb.delete(SALVAGE_AFTER);
        wb.delete(CLAIM_EPOCH);
      }
      if (deadAfter >= 0) {
        wb.deleteRange(deadKey(0), deadKey(nextSequence));
        wb.put(DEAD_COMMITTED_SEQUENCE, longBytes(Math.max(deadCommitted, deadAfter)));
        wb.delete(DEAD_SALVAGE_AFTER);
        wb.delete(DEAD_CLAIM_EPOCH);
      }
      if (!replaysToRecord.isEmpty()) {
        // in the same write as the forgetting: the outcomes leave the buffer only with their ids
        Set<String> ids = new LinkedHashSet<>(replaysToRecord());
        ids.addAll(replaysToRecord);
        wb.put(REPLAYS_TO_RECORD, String.join(",", ids).getBytes(StandardCharsets.US_ASCII));
      }
      db.write(writeOptions, wb);
    }
    if (after >= 0) {
      committedSequence = after;
      lastEvent = after;
    }
    if (deadAfter >= 0) {
      deadCommitted = Math.max(deadCommitted, deadAfter);
      lastDeadLetter = deadCommitted;
    }
    long left = storedBytes(DATA) + storedBytes(DEAD);
    db.put(writeOptions, BUFFERED_BYTES, longBytes(left));
    bufferedBytes = left;
  }

  /** The encoded bytes of the values stored under {@code prefix} (batches or dead letters). */
  private long storedBytes(byte prefix) throws RocksDBException {
    long bytes = 0;
    try (ReadOptions ro = new ReadOptions();
        Slice upper = new Slice(new byte[] {(byte) (prefix + 1)});
        RocksIterator it = db.newIterator(ro.setIterateUpperBound(upper))) {
      for (it.seek(new byte[] {prefix}); it.isValid(); it.next()) {
        bytes += it.value().length;
      }
      it.status();
    }
    return bytes;
  }

  /** Ingest time (epoch micros) of the oldest batch not yet committed, or -1 when there is none. */
  public long oldestIngestMicros() throws RocksDBException {
    long[] oldest = {-1};
    forEachBatch(
        committedSequence,
        (first, batch) -> {
          oldest[0] = batch.ingestTimeMicros();
          return false;
        });
    return oldest[0];
  }

  /** Visits stored batches in sequence order whose first sequence is above {@code after}. */
  public void forEachBatch(long after, BatchVisitor visitor) throws RocksDBException {
    try (ReadOptions ro = new ReadOptions();
        Slice upper = new Slice(new byte[] {DATA + 1});
        RocksIterator it = db.newIterator(ro.setIterateUpperBound(upper))) {
      for (it.seek(dataKey(after + 1)); it.isValid(); it.next()) {
        if (!visitor.visit(sequenceOf(it.key()), EventBatch.fromStored(it.value()))) {
          return;
        }
      }
      it.status();
    }
  }

  /** The last sequence written (0 when none ever was). */
  public long highWaterMark() {
    return nextSequence - 1;
  }

  public long committedSequence() {
    return committedSequence;
  }

  /** Events written and not yet dropped. */
  public long bufferedEvents() {
    return highWaterMark() - committedSequence;
  }

  /** Encoded bytes of the batches written and not yet dropped. */
  public long bufferedBytes() {
    return bufferedBytes;
  }

  public BufferConfig config() {
    return config;
  }

  /**
   * Bytes RocksDB has written to SST files since start: by memtable flushes (batches not yet
   * committed when their memtables were flushed) and by the compactions that reclaim dropped
   * ranges.
   */
  public long sstBytesWritten() {
    return statistics.getTickerCount(TickerType.FLUSH_WRITE_BYTES)
        + statistics.getTickerCount(TickerType.COMPACT_WRITE_BYTES);
  }

  /** A RocksDB integer property, e.g. {@code rocksdb.num-immutable-mem-table}. */
  long property(String name) throws RocksDBException {
    return db.getLongProperty(name);
  }

  /**
   * Closes RocksDB; in {@code none} mode the memtables are flushed first so a clean stop keeps
   * data.
   */
  @Override
  public synchronized void close() throws RocksDBException {
    try {
      if (config.durability() == Durability.NONE) {
        try (FlushOptions fo = new FlushOptions().setWaitForFlush(true)) {
          db.flush(fo);
        }
      }
    } finally {
      writeOptions.close();
      db.closeE();
      options.close();
      statistics.close();
      cache.close();
    }
  }

  private static byte[] metaKey(String name) {
    byte[] n = name.getBytes(StandardCharsets.US_ASCII);
    byte[] k = new byte[n.length + 1];
    k[0] = META;
    System.arraycopy(n, 0, k, 1, n.length);
    return k;
  }

  static byte[] dataKey(long sequence) {
    return ByteBuffer.allocate(9).put(DATA).putLong(sequence).array();
  }

  static byte[] deadKey(long sequence) {
    return ByteBuffer.allocate(9).put(DEAD).putLong(sequence).array();
  }

  private static long sequenceOf(byte[] key) {
    return ByteBuffer.wrap(key, 1, 8).getLong();
  }

  private static byte[] longBytes(long v) {
    return ByteBuffer.allocate(8).putLong(v).array();
  }
}
