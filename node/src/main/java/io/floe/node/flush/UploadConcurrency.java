package io.floe.node.flush;

/**
 * How many files a flush writes and uploads at once: the memory budget divided by the measured
 * memory of one open writer (its buffered row group), never a fixed guess. Starts from a modest
 * estimate and follows what flushes actually measure (an exponentially weighted average).
 */
final class UploadConcurrency {
  static final long INITIAL_ESTIMATE = 8L << 20;
  static final long MIN_ESTIMATE = 1L << 20;

  private final long memoryBudget;
  private final int max;
  private volatile double bytesPerWriter = INITIAL_ESTIMATE;

  UploadConcurrency(long memoryBudget, int max) {
    this.memoryBudget = memoryBudget;
    this.max = max;
  }

  int permits() {
    long n = (long) (memoryBudget / bytesPerWriter);
    return (int) Math.max(1, Math.min(max, n));
  }

  /** Records one writer's peak buffered bytes. */
  synchronized void observe(long writerBytes) {
    double v = Math.max(MIN_ESTIMATE, writerBytes);
    bytesPerWriter = 0.7 * bytesPerWriter + 0.3 * v;
  }

  double bytesPerWriter() {
    return bytesPerWriter;
  }
}
