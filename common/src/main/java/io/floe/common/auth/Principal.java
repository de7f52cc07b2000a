package io.floe.common.auth;

import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Who a request comes from: a token's name (never the token), its scopes, for {@link Scope#INGEST}
 * the stream-name patterns it is limited to (empty: every stream), its quota, and for {@link
 * Scope#CATALOG_COMMIT} the one partition whose state it may commit ({@code partition=N} in the
 * token file: one node's token; empty: every partition).
 */
public record Principal(
    String name,
    Set<Scope> scopes,
    List<String> streamPatterns,
    Quotas.Quota quota,
    OptionalInt partition) {
  /** A principal with every scope, for services that run with {@code auth.disabled=true}. */
  public static final Principal ANONYMOUS =
      new Principal("anonymous", Set.of(Scope.values()), List.of());

  public Principal {
    scopes = Set.copyOf(scopes);
    streamPatterns = List.copyOf(streamPatterns);
  }

  /** Without a quota. */
  public Principal(String name, Set<Scope> scopes, List<String> streamPatterns) {
    this(name, scopes, streamPatterns, Quotas.Quota.NONE);
  }

  /** Not bound to a partition. */
  public Principal(
      String name, Set<Scope> scopes, List<String> streamPatterns, Quotas.Quota quota) {
    this(name, scopes, streamPatterns, quota, OptionalInt.empty());
  }

  /** Whether it may commit the state of {@code partitionId}: unbound, or bound to it. */
  public boolean mayCommitPartition(int partitionId) {
    return partition.isEmpty() || partition.getAsInt() == partitionId;
  }

  public boolean may(Scope scope) {
    return scopes.contains(scope);
  }

  /**
   * Whether it may send events to {@code stream}: the ingest scope, and one of its patterns
   * matches.
   */
  public boolean mayIngest(String stream) {
    if (!may(Scope.INGEST)) {
      return false;
    }
    if (streamPatterns.isEmpty()) {
      return true;
    }
    for (String pattern : streamPatterns) {
      if (glob(pattern).matcher(stream).matches()) {
        return true;
      }
    }
    return false;
  }

  private static final Map<String, Pattern> COMPILED = new ConcurrentHashMap<>();

  /** {@code *} matches any run of characters, everything else itself. */
  static Pattern glob(String pattern) {
    return COMPILED.computeIfAbsent(
        pattern,
        p -> {
          String[] parts = p.split("\\*", -1);
          StringBuilder re = new StringBuilder();
          for (int i = 0; i < parts.length; i++) {
            if (i > 0) {
              re.append(".*");
            }
            re.append(Pattern.quote(parts[i]));
          }
          return Pattern.compile(re.toString());
        });
  }
}
