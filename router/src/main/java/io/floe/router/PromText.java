package io.floe.router;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The samples of one Prometheus text exposition (what a node's or the catalog service's {@code
 * /metrics} answers), read for the console: {@code name{label="value",...} number} lines; comments,
 * timestamps and malformed lines are skipped, so a scrape of a newer or older component still reads
 * what it can.
 */
final class PromText {
  /** One sample line. */
  record Sample(String name, Map<String, String> labels, double value) {}

  private final Map<String, List<Sample>> byName = new LinkedHashMap<>();

  private PromText() {}

  static PromText parse(String text) {
    PromText out = new PromText();
    for (String line : text.split("\n")) {
      Sample s = sample(line.trim());
      if (s != null) {
        out.byName.computeIfAbsent(s.name, n -> new ArrayList<>()).add(s);
      }
    }
    return out;
  }

  private static Sample sample(String line) {
    if (line.isEmpty() || line.charAt(0) == '#') {
      return null;
    }
    int brace = line.indexOf('{');
    int space = line.indexOf(' ');
    if (space < 0) {
      return null;
    }
    String name;
    Map<String, String> labels = Map.of();
    String rest;
    if (brace >= 0 && brace < space) {
      name = line.substring(0, brace);
      int close = line.lastIndexOf('}');
      if (close < brace) {
        return null;
      }
      labels = labels(line.substring(brace + 1, close));
      if (labels == null) {
        return null;
      }
      rest = line.substring(close + 1).trim();
    } else {
      name = line.substring(0, space);
      rest = line.substring(space + 1).trim();
    }
    int end = rest.indexOf(' ');
    String number = end < 0 ? rest : rest.substring(0, end);
    try {
      return new Sample(name, labels, Double.parseDouble(number.replace("Inf", "Infinity")));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** {@code a="x",b="y"} with the text format's escapes ({@code \\ \" \n}); null if malformed. */
  private static Map<String, String> labels(String text) {
    Map<String, String> out = new TreeMap<>();
    int i = 0;
    while (i < text.length()) {
      int eq = text.indexOf('=', i);
      if (eq < 0 || eq + 1 >= text.length() || text.charAt(eq + 1) != '"') {
        return text.substring(i).isBlank() ? out : null;
      }
      String key = text.substring(i, eq).trim();
      StringBuilder value = new StringBuilder();
      int j = eq + 2;
      for (; j < text.length() && text.charAt(j) != '"'; j++) {
        char c = text.charAt(j);
        if (c == '\\' && j + 1 < text.length()) {
          char n = text.charAt(++j);
          value.append(n == 'n' ? '\n' : n);
        } else {
          value.append(c);
        }
      }
      if (j >= text.length()) {
        return null;
      }
      out.put(key, value.toString());
      i = j + 1;
      while (i < text.length() && (text.charAt(i) == ',' || text.charAt(i) == ' ')) {
        i++;
      }
    }
    return out;
  }

  List<Sample> all(String name) {
    return byName.getOrDefault(name, Collections.emptyList());
  }

  /** The sum of every sample named {@code name}, or NaN when there is none. */
  double sum(String name) {
    List<Sample> found = all(name);
    if (found.isEmpty()) {
      return Double.NaN;
    }
    double total = 0;
    for (Sample s : found) {
      total += s.value;
    }
    return total;
  }

  /**
   * A histogram's cumulative bucket counts by upper bound ({@code name_bucket{le=...}}), summed
   * over its other labels; empty when there is none.
   */
  TreeMap<Double, Double> buckets(String name) {
    TreeMap<Double, Double> out = new TreeMap<>();
    for (Sample s : all(name + "_bucket")) {
      String le = s.labels.get("le");
      if (le != null) {
        try {
          out.merge(Double.parseDouble(le.replace("Inf", "Infinity")), s.value, Double::sum);
        } catch (NumberFormatException e) {
          // not a bound: skipped like any malformed line
        }
      }
    }
    return out;
  }

  /**
   * The {@code q} quantile of the observations between two scrapes of one cumulative histogram
   * ({@code before} may be empty: since start), interpolated linearly inside its bucket as
   * Prometheus's {@code histogram_quantile} does; NaN when nothing was observed.
   */
  static double quantile(double q, TreeMap<Double, Double> now, TreeMap<Double, Double> before) {
    TreeMap<Double, Double> delta = new TreeMap<>();
    for (Map.Entry<Double, Double> e : now.entrySet()) {
      double d = e.getValue() - before.getOrDefault(e.getKey(), 0.0);
      delta.put(e.getKey(), d < 0 ? e.getValue() : d); // a restart reset the counts
    }
    if (delta.isEmpty()) {
      return Double.NaN;
    }
    double total = delta.lastEntry().getValue();
    if (total <= 0) {
      return Double.NaN;
    }
    double rank = q * total;
    double lower = 0;
    double below = 0;
    for (Map.Entry<Double, Double> e : delta.entrySet()) {
      if (e.getValue() >= rank) {
        if (e.getKey().isInfinite()) {
          return lower; // beyond the last finite bound: its bound is the best statement
        }
        double inBucket = e.getValue() - below;
        return inBucket <= 0
            ? e.getKey()
            : lower + (e.getKey() - lower) * (rank - below) / inBucket;
      }
      lower = e.getKey();
      below = e.getValue();
    }
    return lower;
  }
}
