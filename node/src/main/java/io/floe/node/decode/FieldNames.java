package io.floe.node.decode;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/** The top-level field names that carry an event's key and time, chosen per request. */
public record FieldNames(String keyField, String timeField) {
  /** The media-type parameter that records a request's {@code key_field} with its dead letters. */
  public static final String KEY_FIELD_PARAMETER = "floe-key-field";

  /** The media-type parameter that records a request's {@code time_field} with its dead letters. */
  public static final String TIME_FIELD_PARAMETER = "floe-time-field";

  /** The longest key_field or time_field a request may name (longer ones are refused: 400). */
  public static final int MAX_NAME_LENGTH = 200;

  /**
   * {@code mediaType} with the field names the request named ({@code key_field}, {@code time_field}
   * query parameters; null where it named none) as parameters, percent-encoded: what a dead letter
   * keeps as its content type, so that a replay reads its key and time where the original request
   * said they were.
   */
  public static String recordIn(String mediaType, String keyField, String timeField) {
    StringBuilder out = new StringBuilder(mediaType);
    append(out, KEY_FIELD_PARAMETER, keyField);
    append(out, TIME_FIELD_PARAMETER, timeField);
    return out.toString();
  }

  private static void append(StringBuilder out, String parameter, String name) {
    if (name != null && !name.isEmpty() && name.length() <= MAX_NAME_LENGTH) {
      out.append("; ")
          .append(parameter)
          .append('=')
          .append(URLEncoder.encode(name, StandardCharsets.UTF_8));
    }
  }

  /**
   * The field names a dead letter's content type records ({@link #recordIn}), each else {@code
   * fallback}'s.
   */
  public static FieldNames recordedIn(String contentType, FieldNames fallback) {
    String key = recorded(contentType, KEY_FIELD_PARAMETER);
    String time = recorded(contentType, TIME_FIELD_PARAMETER);
    return new FieldNames(
        key == null ? fallback.keyField() : key, time == null ? fallback.timeField() : time);
  }

  /** The value of {@code parameter} in {@code contentType}, decoded, or null. */
  public static String recorded(String contentType, String parameter) {
    if (contentType == null) {
      return null;
    }
    String[] parts = contentType.split(";");
    for (int i = 1; i < parts.length; i++) {
      String part = parts[i].strip();
      int eq = part.indexOf('=');
      if (eq > 0 && part.substring(0, eq).strip().equals(parameter)) {
        try {
          String value = URLDecoder.decode(part.substring(eq + 1).strip(), StandardCharsets.UTF_8);
          return value.isEmpty() ? null : value;
        } catch (IllegalArgumentException e) {
          return null;
        }
      }
    }
    return null;
  }
}
