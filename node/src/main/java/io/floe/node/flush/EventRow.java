package io.floe.node.flush;

import org.apache.iceberg.StructLike;

/**
 * One row of a data file in Iceberg's internal representation (timestamps as micros in a Long,
 * strings as any CharSequence, dates as days), the form {@code InternalWriter} reads: the flush
 * sets each position for the next row and the writer reads it back before the next set. Not
 * thread-safe: one per writer thread.
 */
final class EventRow implements StructLike {
  private final Object[] values;

  EventRow(int size) {
    this.values = new Object[size];
  }

  /** The row's values by position, for the flush (and the typed columns' filler) to set. */
  Object[] values() {
    return values;
  }

  @Override
  public int size() {
    return values.length;
  }

  @Override
  public <T> T get(int pos, Class<T> javaClass) {
    return javaClass.cast(values[pos]);
  }

  @Override
  public <T> void set(int pos, T value) {
    values[pos] = value;
  }
}
