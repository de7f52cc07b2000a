package io.floe.common.lifecycle;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Closes what was opened, in reverse order of opening. Every step runs even when an earlier one
 * fails; the first failure is thrown at the end with the later ones attached as suppressed.
 */
public final class Closer implements AutoCloseable {
  private final Deque<Step> steps = new ArrayDeque<>();

  /** A named shutdown step. */
  @FunctionalInterface
  public interface Step {
    void run() throws Exception;
  }

  /**
   * Registers {@code step} to run before everything registered earlier; returns {@code resource}.
   */
  public <T> T register(T resource, Step step) {
    steps.push(step);
    return resource;
  }

  /** Registers a step with nothing to return. */
  public void onClose(Step step) {
    steps.push(step);
  }

  @Override
  public void close() throws Exception {
    Exception first = null;
    while (!steps.isEmpty()) {
      try {
        steps.pop().run();
      } catch (Exception e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
