package io.floe.node.flush;

/**
 * Stable merge sort of an int index array by a primitive comparator: no boxing for millions of
 * rows.
 */
final class IndexSort {
  private IndexSort() {}

  @FunctionalInterface
  interface IntComparator {
    int compare(int a, int b);
  }

  static void sort(int[] index, IntComparator cmp) {
    int[] tmp = new int[index.length];
    for (int width = 1; width < index.length; width *= 2) {
      for (int lo = 0; lo < index.length - width; lo += 2 * width) {
        int mid = lo + width;
        int hi = Math.min(lo + 2 * width, index.length);
        if (cmp.compare(index[mid - 1], index[mid]) <= 0) {
          continue; // already in order: common for events that arrive in time order
        }
        int i = lo;
        int j = mid;
        int k = lo;
        while (i < mid && j < hi) {
          tmp[k++] = cmp.compare(index[i], index[j]) <= 0 ? index[i++] : index[j++];
        }
        while (i < mid) {
          tmp[k++] = index[i++];
        }
        while (j < hi) {
          tmp[k++] = index[j++];
        }
        System.arraycopy(tmp, lo, index, lo, hi - lo);
      }
    }
  }
}
