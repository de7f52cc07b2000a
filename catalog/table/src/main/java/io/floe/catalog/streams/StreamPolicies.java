package io.floe.catalog.streams;

import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.FloeTableKeys;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.iceberg.Table;

/**
 * The streams' error policies, as the table holds them: one {@code floe.stream.on-error.<pattern>}
 * property per pattern, a stream name or a prefix ending in {@code *} ({@code orders-*}, {@code
 * *}). The most specific pattern names a stream's policy: its own name, else the longest prefix
 * that matches; none means {@link OnError#DEFAULT}. Immutable; nodes hold the one last read.
 */
public record StreamPolicies(List<Policy> policies, List<String> problems) {
  /** Patterns a table may hold: each is looked at for every request. */
  public static final int MAX_POLICIES = 256;

  private static final Pattern PATTERN =
      Pattern.compile("^([a-z][a-z0-9_-]{0,127}|[a-z0-9_-]{0,127}\\*)$");

  public static final StreamPolicies NONE = new StreamPolicies(List.of(), List.of());

  public StreamPolicies {
    policies = List.copyOf(policies);
    problems = List.copyOf(problems);
  }

  /** One pattern and its policy. */
  public record Policy(String pattern, OnError onError) {
    boolean matches(String stream) {
      return pattern.endsWith("*")
          ? stream.startsWith(pattern.substring(0, pattern.length() - 1))
          : stream.equals(pattern);
    }

    /** Exact names before prefixes, longer prefixes before shorter. */
    int specificity() {
      return pattern.endsWith("*") ? pattern.length() - 1 : Integer.MAX_VALUE;
    }
  }

  /** Checks a pattern; returns it, or throws {@link IllegalArgumentException} saying why not. */
  public static String checkPattern(String pattern) {
    if (pattern == null || !PATTERN.matcher(pattern).matches()) {
      throw new IllegalArgumentException(
          "stream pattern '"
              + pattern
              + "' is invalid: a stream name ("
              + EventsTable.STREAM_NAME_RULE
              + "), or a prefix of one ending in '*'");
    }
    return pattern;
  }

  public static StreamPolicies read(Table table) {
    return read(table.properties());
  }

  public static StreamPolicies read(Map<String, String> properties) {
    List<Policy> out = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    properties.forEach(
        (k, v) -> {
          if (!k.startsWith(FloeTableKeys.STREAM_ON_ERROR_PREFIX)) {
            return;
          }
          try {
            out.add(
                new Policy(
                    checkPattern(k.substring(FloeTableKeys.STREAM_ON_ERROR_PREFIX.length())),
                    OnError.parse(v)));
          } catch (IllegalArgumentException e) {
            problems.add("table property " + k + ": " + e.getMessage());
          }
        });
    out.sort(Comparator.comparing(Policy::pattern));
    return new StreamPolicies(out, problems);
  }

  /** The policy of {@code stream}. */
  public OnError of(String stream) {
    Policy best = null;
    for (Policy p : policies) {
      if (p.matches(stream) && (best == null || p.specificity() > best.specificity())) {
        best = p;
      }
    }
    return best == null ? OnError.DEFAULT : best.onError();
  }

  /**
   * Sets {@code pattern}'s policy; {@code reject} is stored like the others, so that a name can
   * override a wider pattern. Returns whether the table changed.
   */
  public static boolean set(Table table, String pattern, OnError onError) {
    checkPattern(pattern);
    table.refresh();
    String key = FloeTableKeys.streamOnError(pattern);
    if (onError.text().equals(table.properties().get(key))) {
      return false;
    }
    if (!table.properties().containsKey(key) && read(table).policies().size() >= MAX_POLICIES) {
      throw new IllegalArgumentException(
          "the table already has " + MAX_POLICIES + " stream policies");
    }
    table.updateProperties().set(key, onError.text()).commit();
    return true;
  }

  /** Removes {@code pattern}'s policy; returns whether it was there. */
  public static boolean remove(Table table, String pattern) {
    table.refresh();
    String key = FloeTableKeys.streamOnError(pattern);
    if (!table.properties().containsKey(key)) {
      return false;
    }
    table.updateProperties().remove(key).commit();
    return true;
  }
}
