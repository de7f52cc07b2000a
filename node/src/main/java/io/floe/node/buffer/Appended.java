package io.floe.node.buffer;

/** Sequences given to one appended batch (for a replay: those it was given the first time). */
public record Appended(long firstSequence, long lastSequence, Outcome outcome) {
  public Appended(long firstSequence, long lastSequence) {
    this(firstSequence, lastSequence, Outcome.WRITTEN);
  }
}
