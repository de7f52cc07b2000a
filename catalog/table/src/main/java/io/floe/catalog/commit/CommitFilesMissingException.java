package io.floe.catalog.commit;

/**
 * A commit landed, but the manifest list or manifests of its snapshot are gone (deleted by a
 * clean-up after an answer that said it failed). The table needs repair; the committer keeps the
 * range it committed.
 */
public final class CommitFilesMissingException extends RuntimeException {
  public CommitFilesMissingException(String message) {
    super(message);
  }
}
