package io.floe.node.buffer;

/**
 * Sequences given to one appended request (for a replay: those it was given the first time): its
 * events {@code firstSequence..lastSequence} (empty when {@code lastSequence < firstSequence}),
 * then its {@code deadLettered} dead letters {@code lastSequence + 1 ..}; {@code reasons} is the
 * answer's list of the first reasons (JSON array text, UTF-8), null when there are none.
 */
public record Appended(
    long firstSequence, long lastSequence, Outcome outcome, int deadLettered, byte[] reasons) {
  public Appended(long firstSequence, long lastSequence, Outcome outcome) {
    this(firstSequence, lastSequence, outcome, 0, null);
  }

  public Appended(long firstSequence, long lastSequence) {
    this(firstSequence, lastSequence, Outcome.WRITTEN);
  }

  /** Events stored. */
  public long accepted() {
    return lastSequence - firstSequence + 1;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Appended a
        && a.firstSequence == firstSequence
        && a.lastSequence == lastSequence
        && a.outcome == outcome
        && a.deadLettered == deadLettered;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(firstSequence * 31 + lastSequence) * 31 + deadLettered;
  }
}
