package io.floe.node.buffer;

import io.floe.node.event.DeadLetterBatch;
import io.floe.node.event.EventBatch;
import io.floe.node.event.EventBatchReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Objects;

/**
 * A producer's idempotency key and what its request held. The key is the producer's own: {@code
 * producer} (the authenticated token's name), {@code stream} and {@code key} together name it, so
 * two producers, or two streams, never share one. Two requests with one key are the same request
 * when their {@link #fingerprint}s are equal (a SHA-256 of the decoded events, so the same events
 * compressed differently are the same request, and no other events are), or their {@link
 * #requestFingerprint}s are (a SHA-256 of the request as received, so the same bytes sent again are
 * the same request however the node would decode them now: after the stream's dead-letter policy or
 * its column mapping changed, a retry still gets the answer its first try got).
 *
 * @param fingerprint {@link #fingerprint(EventBatch, String, String)} of the request's batch; null
 *     for a request that was not decoded (only its {@code requestFingerprint} can match)
 * @param requestFingerprint {@link #requestFingerprint} of the request as received
 * @param legacyFingerprint the request as a node before per-producer keys fingerprinted it,
 *     compared only with the keys such a node stored (see {@link IdempotencyIndex})
 */
public record IdempotencyKey(
    String producer,
    String stream,
    String key,
    byte[] fingerprint,
    byte[] requestFingerprint,
    long legacyFingerprint) {
  public IdempotencyKey {
    Objects.requireNonNull(requestFingerprint, "requestFingerprint");
  }

  /**
   * The events of {@code batch} as the key field and time field named read them: each event's JSON
   * text (from which its key and event time follow), never the request's encoding, compression or
   * ingest time.
   */
  public static byte[] fingerprint(EventBatch batch, String keyField, String timeField) {
    return fingerprint(batch, null, keyField, timeField);
  }

  /**
   * As above, and the request's dead letters (null or none: the same fingerprint as without): each
   * one's code, position and bytes.
   */
  public static byte[] fingerprint(
      EventBatch batch, DeadLetterBatch dead, String keyField, String timeField) {
    MessageDigest sha256 = sha256();
    ByteBuffer header = ByteBuffer.allocate(4);
    for (String field : new String[] {keyField, timeField}) {
      byte[] name = field.getBytes(StandardCharsets.UTF_8);
      sha256.update(header.clear().putInt(name.length).array());
      sha256.update(name);
    }
    sha256.update(header.clear().putInt(batch.count()).array());
    EventBatchReader events = batch.reader();
    while (events.next()) {
      sha256.update(header.clear().putInt(events.payloadLength()).array());
      sha256.update(batch.array(), events.payloadOffset(), events.payloadLength());
    }
    if (dead != null && dead.count() > 0) {
      sha256.update(header.clear().putInt(-dead.count()).array());
      for (DeadLetterBatch.Record r : dead.records()) {
        sha256.update(r.code().getBytes(StandardCharsets.UTF_8));
        sha256.update(header.clear().putInt(r.position()).array());
        sha256.update(header.clear().putInt(r.originalLength()).array());
        sha256.update(r.raw());
      }
    }
    return sha256.digest();
  }

  /**
   * A request as received, before it is decoded: {@code how} to read it (the caller's choice of
   * headers and parameters, each null or not, in a fixed order) and its body's bytes as sent.
   */
  public static byte[] requestFingerprint(List<String> how, byte[] body, int length) {
    MessageDigest sha256 = sha256();
    ByteBuffer header = ByteBuffer.allocate(4);
    for (String part : how) {
      if (part == null) {
        sha256.update(header.clear().putInt(-1).array());
      } else {
        byte[] bytes = part.getBytes(StandardCharsets.UTF_8);
        sha256.update(header.clear().putInt(bytes.length).array());
        sha256.update(bytes);
      }
    }
    sha256.update(header.clear().putInt(length).array());
    sha256.update(body, 0, length);
    return sha256.digest();
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }
}
