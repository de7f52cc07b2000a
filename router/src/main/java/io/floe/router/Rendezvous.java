package io.floe.router;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Balancing policies. With a key: rendezvous (highest random weight) hashing, so one key's events
 * always go to the same healthy node and only the keys of a node that leaves move. With an
 * idempotency key: the same hashing over the partitions the nodes hold, not over their addresses,
 * so that a key stays with its partition wherever the partition's node is listed, and under
 * whatever address. Without one: the less loaded of two random healthy nodes (in-flight requests).
 */
final class Rendezvous {
  private Rendezvous() {}

  /** The node for {@code key} among {@code candidates}, or null when there is none. */
  static Member forKey(String key, List<Member> candidates) {
    long k = hash64(key);
    Member best = null;
    long bestScore = 0;
    for (Member m : candidates) {
      long score = mix(k ^ m.hashSeed);
      if (best == null || Long.compareUnsigned(score, bestScore) > 0) {
        best = m;
        bestScore = score;
      }
    }
    return best;
  }

  /** The partition for {@code key} among {@code partitions} (-1s skipped), or -1 when none is. */
  static int partitionForKey(String key, int[] partitions) {
    long k = hash64(key);
    int best = -1;
    long bestScore = 0;
    for (int p : partitions) {
      if (p < 0) {
        continue;
      }
      long score = mix(k ^ mix(p + PARTITION_SALT));
      if (best < 0 || Long.compareUnsigned(score, bestScore) > 0) {
        best = p;
        bestScore = score;
      }
    }
    return best;
  }

  /** Keeps a partition's seed apart from a node's: SplitMix64's increment. */
  private static final long PARTITION_SALT = 0x9e3779b97f4a7c15L;

  /** The less loaded of two random candidates, or null when there is none. */
  static Member leastLoadedOfTwo(List<Member> candidates) {
    int n = candidates.size();
    if (n == 0) {
      return null;
    }
    if (n == 1) {
      return candidates.get(0);
    }
    ThreadLocalRandom random = ThreadLocalRandom.current();
    int a = random.nextInt(n);
    int b = random.nextInt(n - 1);
    if (b >= a) {
      b++;
    }
    Member ma = candidates.get(a);
    Member mb = candidates.get(b);
    return mb.inflight.get() < ma.inflight.get() ? mb : ma;
  }

  /**
   * The seed of the node with this id, computed once when its {@link Member} is made: a key's score
   * on a node mixes the key's hash with it.
   */
  static long seed(String nodeId) {
    return hash64(nodeId);
  }

  /** FNV-1a over UTF-8, finished with a 64-bit mixer. */
  private static long hash64(String s) {
    long h = 0xcbf29ce484222325L;
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    return mix(h);
  }

  /** SplitMix64's finaliser: spreads every input bit over the output. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
