package io.floe.node.decode;

/** The top-level field names that carry an event's key and time, chosen per request. */
public record FieldNames(String keyField, String timeField) {}
