package io.floe.catalog.commit;

/**
 * A node's claim on a partition id.
 *
 * @param partitionId the partition
 * @param epoch the epoch this process holds; a higher one in the table fences it
 * @param committedSequence the partition's committed sequence when the claim was made
 */
public record PartitionClaim(int partitionId, long epoch, long committedSequence) {}
