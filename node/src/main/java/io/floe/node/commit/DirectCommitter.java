package io.floe.node.commit;

import io.floe.catalog.commit.CommitProtocol;
import io.floe.catalog.commit.EarlierCommitLandedException;
import io.floe.catalog.commit.PartitionClaim;
import io.floe.catalog.table.FloeTableKeys;
import java.util.Map;

/** The node commits each flush itself, with the partition's commit protocol (one transaction). */
public final class DirectCommitter implements RangeCommitter {
  private final CommitProtocol protocol;

  public DirectCommitter(CommitProtocol protocol) {
    this.protocol = protocol;
  }

  @Override
  public long commit(PartitionClaim claim, Range range) {
    try {
      return protocol.commit(
          claim,
          range.after(),
          range.through(),
          range.files(),
          Map.of(FloeTableKeys.EVENTS, Integer.toString(range.events())));
    } catch (EarlierCommitLandedException e) {
      // an attempt given up on landed late: the flusher drops through it and cuts again
      return e.committedSequence();
    }
  }

  @Override
  public long lastSnapshotId() {
    return protocol.lastSnapshotId();
  }
}
