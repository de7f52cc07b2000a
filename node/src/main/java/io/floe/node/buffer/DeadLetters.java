package io.floe.node.buffer;

import io.floe.node.event.DeadLetterBatch;

/**
 * A request's dead letters as the buffer stores them: the batch (stored beside the request's events
 * in the same write) and the answer's reasons (JSON array text, UTF-8), which an idempotency key
 * remembers so that a repeat gets the same answer.
 */
public record DeadLetters(DeadLetterBatch batch, byte[] reasons) {
  public int count() {
    return batch.count();
  }
}
