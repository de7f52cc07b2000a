package io.floe.node.flush;

import io.floe.catalog.commit.CommitProtocol;
import io.floe.catalog.commit.EarlierCommitLandedException;
import io.floe.catalog.commit.PartitionClaim;
import io.floe.catalog.table.FloeTableKeys;
import io.floe.node.buffer.RocksBuffer;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.DataFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The flusher's second table: moves buffered dead letters into the dead-letter table exactly as the
 * events go into theirs. Cut the dead letters above the buffer's dead-letter watermark {@code D},
 * write their files, commit them with {@link CommitProtocol} on the dead-letter table (its own
 * claim, the same per-partition keys: {@code D = through} in the same transaction as the files),
 * and only then delete them from RocksDB. A crash anywhere leaves either the old {@code D} (the
 * dead letters are still buffered and are committed again, once) or the new one (the restart drops
 * what the table holds). Runs on the flusher's thread, after the events of the same round.
 */
final class DeadLetterFlush {
  private static final Logger LOG = LoggerFactory.getLogger(DeadLetterFlush.class);

  private final RocksBuffer buffer;
  private final CommitProtocol protocol;
  private final PartitionClaim claim;
  private final long maxBytes;
  private final DeadLetterFileWriter writer;

  /** The dead-letter table's committed sequence of this partition, as far as this process knows. */
  private long tableCommitted;

  /** After a failed commit the table may hold more than {@link #tableCommitted}. */
  private boolean outcomeUnknown;

  DeadLetterFlush(
      RocksBuffer buffer, CommitProtocol protocol, PartitionClaim claim, long maxBytes) {
    this.buffer = buffer;
    this.protocol = protocol;
    this.claim = claim;
    this.maxBytes = maxBytes;
    this.writer = new DeadLetterFileWriter(claim.partitionId());
    this.tableCommitted = claim.committedSequence();
  }

  /** One round: returns the dead letters committed (0 when none waited). */
  int flushOnce(long flushId) throws Exception {
    if (outcomeUnknown) {
      long recorded = protocol.committedUnder(claim);
      if (recorded > tableCommitted) {
        LOG.warn(
            "partition {}: an earlier dead-letter commit through {} landed although its answer "
                + "was lost; continuing from there",
            claim.partitionId(),
            recorded);
        tableCommitted = recorded;
      }
      outcomeUnknown = false;
    }
    if (tableCommitted > buffer.deadLettersCommitted()) {
      // committed, but the local delete did not happen: finish it before cutting again
      buffer.recoverDeadLettersCommitted(tableCommitted);
    }
    DeadLetterCut cut = DeadLetterCut.read(buffer, maxBytes);
    if (cut.isEmpty()) {
      return 0;
    }
    List<DataFile> files = writer.write(protocol.table(), cut, flushId);
    FaultPoint.DEAD_LETTERS_AFTER_UPLOAD.reach();
    try {
      protocol.commit(
          claim,
          cut.after(),
          cut.through(),
          files,
          Map.of(FloeTableKeys.EVENTS, Integer.toString(cut.rows())));
    } catch (EarlierCommitLandedException e) {
      tableCommitted = e.committedSequence();
      return 0;
    } catch (RuntimeException e) {
      outcomeUnknown = true;
      throw e;
    }
    tableCommitted = cut.through();
    FaultPoint.DEAD_LETTERS_AFTER_COMMIT.reach();
    buffer.dropDeadLettersThrough(cut.through(), cut.bytes());
    LOG.info(
        "flushed {} dead letters of partition {} (sequences {}..{}) in {} files",
        cut.rows(),
        claim.partitionId(),
        cut.after() + 1,
        cut.through(),
        files.size());
    return cut.rows();
  }
}
