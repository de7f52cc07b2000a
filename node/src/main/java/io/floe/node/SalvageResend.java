package io.floe.node;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.floe.common.http.FloeHttp;
import io.floe.common.retry.Backoff;
import io.floe.node.buffer.SalvageExport;
import io.floe.node.decode.FieldNames;
import io.floe.node.decode.RequestDecoder;
import io.floe.node.error.IngestException;
import io.floe.node.event.DeadLetterBatch;
import io.floe.node.event.EventBatchReader;
import java.io.BufferedReader;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * Sends the events of a salvage file ({@link SalvageExport}'s format) to the cluster again: each to
 * its own stream, with its payload unchanged and its key and event time kept.
 *
 * <p>The ingest API reads an event's key and time from fields of the event, whose names a request
 * may choose ({@code key_field}, {@code time_field}). For each event this finds names that make the
 * node's own decoder read back exactly the salvaged key and time, and sends runs of events of one
 * stream that share them in one request. An event whose time came from its ingest time (it had no
 * time field) cannot keep it: it gets the time it is sent again at, and is counted.
 *
 * <p>A dead letter ({@code "kind":"dead_letter"}) is sent alone, its raw bytes as the body with its
 * content type, asking for dead letters ({@code Floe-On-Error: dead-letter}): the stream takes it
 * as it takes any request, so a record still bad becomes a dead letter again (in the dead-letter
 * table, with its new error and this tool's principal), one the stream now reads becomes an event,
 * and a stream whose policy keeps no dead letters refuses it (400 {@code dead_letters_not_allowed}:
 * set the policy and send the file again). A dead letter whose bytes were cut when it was kept
 * ({@code raw_truncated}) or that has none is not sent: it is counted, and stays in the file only.
 *
 * <p>What a replay of a dead letter wrote ({@code DeadLetterReplay}: its events, and its outcome
 * row, a dead letter with a {@code replay_of}) is never sent: that replay was cut short by the lost
 * claim and never answered, and its outcome row cannot be re-created through the ingest API (sent
 * again, its events would land while the table still shows the dead letter waiting, so that the
 * next replay wrote them a second time; a row that failed again would become a second dead letter
 * for one record). Where the replay's events are in the file, neither they nor the row landed: the
 * dead letter still waits in the table and the next replay takes it once ({@link
 * Result#replayAgain}). Where only a {@code replayed} row is in the file, its events were
 * committed: the export left the id in the salvaged buffer, whose node records the outcome at its
 * next replay before it chooses ({@link Result#recordedByNode}).
 *
 * <p>Each request carries an {@code Idempotency-Key} made of the salvaged buffer and sequences, so
 * sending the same file again after a failure stores nothing twice (while the cluster remembers the
 * key).
 */
final class SalvageResend {
  /** Events per request at most. */
  private static final int MAX_EVENTS = 1000;

  /** Body bytes per request at most. */
  private static final int MAX_BYTES = 4 << 20;

  /** Tells a time read from the payload from the default the decoder falls back to. */
  private static final long NO_TIME = Long.MIN_VALUE;

  private static final JsonFactory JSON = new JsonFactory();

  private final URI base;
  private final String token;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private final RequestDecoder decoder = new RequestDecoder(Long.MAX_VALUE, Long.MAX_VALUE);

  /**
   * What was sent: events, requests, events whose key or time could not be kept, dead letters, and
   * dead letters not sent (cut or empty).
   */
  record Result(
      long events,
      long requests,
      long timeNotKept,
      long keyNotKept,
      long deadLetters,
      long deadLettersNotSent,
      long replayEventsNotSent,
      long replayOutcomesNotSent,
      List<String> replayAgain,
      List<String> recordedByNode) {}

  /** One line of a salvage file. */
  private sealed interface Line permits Event, DeadLetter {}

  /** One salvaged event. */
  private record Event(
      String stream,
      String key,
      long eventMicros,
      String buffer,
      long sequence,
      String replayOf,
      String payload)
      implements Line {}

  /** One salvaged dead letter: what sending it again needs. */
  private record DeadLetter(
      String stream,
      String buffer,
      long sequence,
      String contentType,
      boolean truncated,
      String code,
      String replayOf,
      byte[] raw)
      implements Line {}

  /** Events of one stream, sent together with one pair of field names. */
  private record Run(String stream, String buffer, FieldNames fields, List<Event> events) {
    int bytes() {
      return events.stream().mapToInt(e -> e.payload().length() + 1).sum();
    }
  }

  /**
   * @param base the router's (or a node's) base URL, e.g. {@code http://router:8080}
   * @param token the bearer token (scope {@code ingest}), or null when auth is off
   */
  SalvageResend(URI base, String token) {
    this.base = base;
    this.token = token;
  }

  Result send(Path file) throws IOException, InterruptedException {
    long events = 0;
    long requests = 0;
    long timeNotKept = 0;
    long keyNotKept = 0;
    long deadLetters = 0;
    long deadLettersNotSent = 0;
    long replayEventsNotSent = 0;
    long replayOutcomesNotSent = 0;
    Set<String> replayEventsOf = new LinkedHashSet<>();
    List<String> replayAgain = new ArrayList<>();
    List<String> recordedByNode = new ArrayList<>();
    Run run = null;
    FieldNames last = null;
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      int lineNumber = 0;
      while ((line = in.readLine()) != null) {
        lineNumber++;
        if (line.isBlank()) {
          continue;
        }
        Line parsed = parse(line, lineNumber);
        if (parsed instanceof Event e && e.replayOf() != null) {
          replayEventsOf.add(e.replayOf());
          replayEventsNotSent++;
          continue;
        }
        if (parsed instanceof DeadLetter d && d.replayOf() != null) {
          // the events come first in the file: a replay's are all known by now
          replayOutcomesNotSent++;
          if (DeadLetterBatch.REPLAYED.equals(d.code()) && !replayEventsOf.contains(d.replayOf())) {
            recordedByNode.add(d.replayOf());
          } else if (!replayAgain.contains(d.replayOf())) {
            replayAgain.add(d.replayOf());
          }
          continue;
        }
        if (parsed instanceof DeadLetter dead) {
          if (run != null) {
            post(run, lineNumber);
            requests++;
            events += run.events().size();
            run = null;
          }
          if (dead.truncated() || dead.raw().length == 0) {
            deadLettersNotSent++;
          } else {
            post(dead, lineNumber);
            requests++;
            deadLetters++;
          }
          continue;
        }
        Event event = (Event) parsed;
        Fields found = fieldsFor(event, last);
        last = found.names();
        timeNotKept += found.timeKept() ? 0 : 1;
        keyNotKept += found.keyKept() ? 0 : 1;
        if (run != null
            && (!run.stream().equals(event.stream())
                || !run.buffer().equals(event.buffer())
                || !run.fields().equals(found.names())
                || run.events().size() >= MAX_EVENTS
                || run.bytes() + event.payload().length() >= MAX_BYTES)) {
          post(run, lineNumber);
          requests++;
          events += run.events().size();
          run = null;
        }
        if (run == null) {
          run = new Run(event.stream(), event.buffer(), found.names(), new ArrayList<>());
        }
        run.events().add(event);
      }
      if (run != null) {
        post(run, lineNumber + 1);
        requests++;
        events += run.events().size();
      }
    }
    return new Result(
        events,
        requests,
        timeNotKept,
        keyNotKept,
        deadLetters,
        deadLettersNotSent,
        replayEventsNotSent,
        replayOutcomesNotSent,
        List.copyOf(replayAgain),
        List.copyOf(recordedByNode));
  }

  private static Line parse(String line, int lineNumber) throws IOException {
    String kind = null;
    String contentType = null;
    boolean truncated = false;
    String raw = null;
    String code = null;
    String replayOf = null;
    String stream = null;
    String key = null;
    String eventTime = null;
    String buffer = null;
    long sequence = -1;
    String payload = null;
    try (JsonParser p = JSON.createParser(line)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new IOException("line " + lineNumber + ": not a salvaged event");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken value = p.nextToken();
        switch (name) {
          case SalvageExport.KIND -> kind = p.getValueAsString();
          case SalvageExport.CONTENT_TYPE ->
              contentType = value == JsonToken.VALUE_NULL ? null : p.getText();
          case SalvageExport.RAW_TRUNCATED -> truncated = p.getValueAsBoolean();
          case SalvageExport.RAW -> raw = p.getValueAsString();
          case SalvageExport.ERROR_CODE ->
              code = value == JsonToken.VALUE_NULL ? null : p.getText();
          case SalvageExport.REPLAY_OF ->
              replayOf = value == JsonToken.VALUE_NULL ? null : p.getText();
          case SalvageExport.STREAM -> stream = p.getValueAsString();
          case SalvageExport.KEY -> key = value == JsonToken.VALUE_NULL ? null : p.getText();
          case SalvageExport.EVENT_TIME -> eventTime = p.getValueAsString();
          case SalvageExport.BUFFER -> buffer = p.getValueAsString();
          case SalvageExport.SEQUENCE -> sequence = p.getValueAsLong(-1);
          case SalvageExport.PAYLOAD -> {
            int start = (int) p.currentTokenLocation().getCharOffset();
            p.skipChildren();
            payload = line.substring(start, (int) p.currentTokenLocation().getCharOffset() + 1);
          }
          default -> p.skipChildren();
        }
      }
    }
    if (SalvageExport.DEAD_LETTER.equals(kind)) {
      if (stream == null || buffer == null || sequence < 0 || raw == null) {
        throw new IOException(
            "line "
                + lineNumber
                + ": not a salvaged dead letter (it needs "
                + String.join(
                    ", ",
                    SalvageExport.STREAM,
                    SalvageExport.BUFFER,
                    SalvageExport.SEQUENCE,
                    SalvageExport.RAW)
                + ")");
      }
      byte[] bytes;
      try {
        bytes = Base64.getDecoder().decode(raw);
      } catch (IllegalArgumentException e) {
        throw new IOException("line " + lineNumber + ": raw is not base64: " + e.getMessage(), e);
      }
      return new DeadLetter(
          stream, buffer, sequence, contentType, truncated, code, replayOf, bytes);
    }
    if (kind != null) {
      throw new IOException("line " + lineNumber + ": unknown kind '" + kind + "'");
    }
    if (stream == null || eventTime == null || buffer == null || sequence < 0 || payload == null) {
      throw new IOException(
          "line "
              + lineNumber
              + ": not a salvaged event (it needs "
              + String.join(
                  ", ",
                  SalvageExport.STREAM,
                  SalvageExport.EVENT_TIME,
                  SalvageExport.BUFFER,
                  SalvageExport.SEQUENCE,
                  SalvageExport.PAYLOAD)
              + ")");
    }
    Instant time = Instant.parse(eventTime);
    long micros =
        Math.addExact(Math.multiplyExact(time.getEpochSecond(), 1_000_000L), time.getNano() / 1000);
    return new Event(stream, key, micros, buffer, sequence, replayOf, payload);
  }

  /** The field names to send an event with, and whether they keep its key and its time. */
  private record Fields(FieldNames names, boolean keyKept, boolean timeKept) {}

  /**
   * Field names with which the decoder reads back the event's key and time: {@code previous} when
   * they do (events of a stream usually look alike), else the first member that gives the time, and
   * the first other member that gives the key ({@code key}/{@code event_time} first); a name absent
   * from the event where there is nothing to read.
   */
  private Fields fieldsFor(Event event, FieldNames previous) {
    if (previous != null && reads(event, previous, true, true)) {
      return new Fields(previous, true, true);
    }
    Set<String> members = members(event.payload());
    String absent = "floe_salvage_none";
    while (members.contains(absent)) {
      absent += "_";
    }
    String timeField = absent;
    boolean timeKept = false;
    for (String candidate : candidates("event_time", members)) {
      if (reads(event, new FieldNames(absent, candidate), false, true)) {
        timeField = candidate;
        timeKept = true;
        break;
      }
    }
    String keyField = absent;
    boolean keyKept = event.key() == null;
    if (!keyKept) {
      for (String candidate : candidates("key", members)) {
        if (!candidate.equals(timeField)
            && reads(event, new FieldNames(candidate, absent), true, false)) {
          keyField = candidate;
          keyKept = true;
          break;
        }
      }
    }
    return new Fields(new FieldNames(keyField, timeField), keyKept, timeKept);
  }

  private static List<String> candidates(String first, Set<String> members) {
    Set<String> ordered = new LinkedHashSet<>();
    if (members.contains(first)) {
      ordered.add(first);
    }
    ordered.addAll(members);
    return new ArrayList<>(ordered);
  }

  /** Whether the node's decoder, given {@code fields}, reads the event's key and/or time. */
  private boolean reads(Event event, FieldNames fields, boolean key, boolean time) {
    byte[] body = event.payload().getBytes(StandardCharsets.UTF_8);
    EventBatchReader reader;
    try {
      reader =
          decoder
              .decode(
                  event.stream(),
                  RequestDecoder.Format.NDJSON,
                  null,
                  body,
                  body.length,
                  fields,
                  NO_TIME)
              .reader();
    } catch (IngestException e) {
      return false; // e.g. a member that is not a time
    }
    if (!reader.next()) {
      return false;
    }
    return (!key || Objects.equals(reader.key(), event.key()))
        && (!time
            || (reader.eventTimeMicros() != NO_TIME
                && reader.eventTimeMicros() == event.eventMicros()));
  }

  /** The names of the payload's top-level members. */
  private static Set<String> members(String payload) {
    Set<String> names = new LinkedHashSet<>();
    try (JsonParser p = JSON.createParser(payload)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return names;
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        names.add(p.currentName());
        p.nextToken();
        p.skipChildren();
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("a salvaged payload is not JSON: " + e.getMessage(), e);
    }
    return names;
  }

  /** Sends one run, retrying refusals to wait (429, 503) and I/O failures for a while. */
  private void post(Run run, int beforeLine) throws IOException, InterruptedException {
    StringBuilder body = new StringBuilder(run.bytes());
    for (Event e : run.events()) {
      body.append(e.payload()).append('\n');
    }
    Event first = run.events().get(0);
    Event lastEvent = run.events().get(run.events().size() - 1);
    URI uri =
        base.resolve(
            FloeHttp.STREAMS_PATH
                + run.stream()
                + "/events?key_field="
                + URLEncoder.encode(run.fields().keyField(), StandardCharsets.UTF_8)
                + "&time_field="
                + URLEncoder.encode(run.fields().timeField(), StandardCharsets.UTF_8));
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofMinutes(1))
            .header("Content-Type", "application/x-ndjson")
            .header(
                FloeHttp.IDEMPOTENCY_KEY,
                "salvage-" + run.buffer() + "-" + first.sequence() + "-" + lastEvent.sequence())
            .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
    exchange(request, what -> failure(run, beforeLine, what));
  }

  /**
   * Sends one dead letter: its bytes, with its content type, to its stream, asking for dead
   * letters.
   */
  private void post(DeadLetter dead, int line) throws IOException, InterruptedException {
    // read as its request named them: the field names its content type records
    StringBuilder query = new StringBuilder();
    for (String[] named :
        new String[][] {
          {"key_field", FieldNames.recorded(dead.contentType(), FieldNames.KEY_FIELD_PARAMETER)},
          {"time_field", FieldNames.recorded(dead.contentType(), FieldNames.TIME_FIELD_PARAMETER)}
        }) {
      if (named[1] != null) {
        query
            .append(query.isEmpty() ? "?" : "&")
            .append(named[0])
            .append('=')
            .append(URLEncoder.encode(named[1], StandardCharsets.UTF_8));
      }
    }
    URI uri = base.resolve(FloeHttp.STREAMS_PATH + dead.stream() + "/events" + query);
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofMinutes(1))
            .header(
                "Content-Type",
                dead.contentType() == null ? "application/x-ndjson" : dead.contentType())
            .header(FloeHttp.ON_ERROR, "dead-letter")
            .header(
                FloeHttp.IDEMPOTENCY_KEY,
                "salvage-" + dead.buffer() + "-dead-letter-" + dead.sequence())
            .POST(HttpRequest.BodyPublishers.ofByteArray(dead.raw()));
    exchange(
        request,
        what ->
            "sending the dead letter of line "
                + line
                + " (stream "
                + dead.stream()
                + ", sequence "
                + dead.sequence()
                + ") failed: "
                + what
                + "; the lines before it were sent. Sending the whole file again is safe: what was "
                + "accepted is recognised by its Idempotency-Key while the cluster remembers it");
  }

  /**
   * Sends a request, retrying refusals to wait (429, 503) and I/O failures for a while; anything
   * but 200 fails with {@code failure}'s words.
   */
  private void exchange(HttpRequest.Builder request, Function<String, String> failure)
      throws IOException, InterruptedException {
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    HttpResponse<String> response;
    try {
      response =
          Backoff.exponential(Duration.ofMillis(500), Duration.ofSeconds(10))
              .maxAttempts(10)
              .call(
                  () -> {
                    HttpResponse<String> r =
                        http.send(request.build(), HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 429 || r.statusCode() == 503) {
                      throw new Busy(r);
                    }
                    return r;
                  },
                  e -> e instanceof Busy || e instanceof IOException,
                  (e, attempt, delay) -> {});
    } catch (Backoff.GaveUpException e) {
      throw new IOException(failure.apply(e.getCause().getMessage()), e.getCause());
    } catch (InterruptedException | IOException e) {
      throw e;
    } catch (Exception e) {
      throw new IOException(failure.apply(e.getMessage()), e);
    }
    if (response.statusCode() != 200) {
      throw new IOException(
          failure.apply("answered " + response.statusCode() + " " + response.body()));
    }
  }

  private static String failure(Run run, int beforeLine, String what) {
    return "sending "
        + run.events().size()
        + " events of stream "
        + run.stream()
        + " (up to line "
        + (beforeLine - 1)
        + ") failed: "
        + what
        + "; the lines before them were sent. Sending the whole file again is safe: what was "
        + "accepted is recognised by its Idempotency-Key while the cluster remembers it";
  }

  /** A refusal to come back later (429, 503). */
  private static final class Busy extends Exception {
    Busy(HttpResponse<String> r) {
      super("answered " + r.statusCode() + " " + r.body());
    }
  }
}
