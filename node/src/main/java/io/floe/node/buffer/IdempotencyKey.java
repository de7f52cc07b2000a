package io.floe.node.buffer;

import io.floe.node.event.DeadLetterBatch;
import io.floe.node.event.EventBatch;
import io.floe.node.event.EventBatchReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * A producer's idempotency key and what its request held. The key is the producer's own: {@code
 * producer} (the authenticated token's name), {@code stream} and {@code key} together name it, so
 * two producers, or two streams, never share one. Two requests with one key are the same request
 * when their {@link #fingerprint}s are equal: a SHA-256 of the decoded events, so the same events
 * compressed differently are the same request, and no other events are.
 *
 * @param fingerprint {@link #fingerprint(EventBatch, String, String)} of the request's batch
 * @param legacyFingerprint the request as a node before per-producer keys fingerprinted it,
 *     compared only with the keys such a node stored (see {@link IdempotencyIndex})
 */
public record IdempotencyKey(
    String producer, String stream, String key, byte[] fingerprint, long legacyFingerprint) {

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
    MessageDigest sha256;
    try {
      sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
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
}
