package io.floe.node;

import io.floe.common.config.Settings;
import io.floe.node.buffer.BufferConfig;
import io.floe.node.buffer.RocksBuffer;
import io.floe.node.buffer.SalvageExport;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Salvage, in two steps.
 *
 * <p>{@code --buffer-dir DIR --partition-id N --out FILE}: writes the events and dead letters a
 * stopped node acknowledged under a claim another process took, and never committed, to FILE
 * (NDJSON, one event a line with its stream, key and event time, then one dead letter a line with
 * its context and raw bytes in base64: {@link SalvageExport}), then removes them from the buffer so
 * that the node can start again.
 *
 * <p>{@code --resend FILE --url URL [--token-file TOKEN]}: sends FILE's events to the cluster
 * again, each to its own stream with its key and event time, and each dead letter's bytes to its
 * stream asking for dead letters ({@link SalvageResend}). They are new events and dead letters
 * there.
 */
public final class SalvageMain {
  private static final String USAGE =
      "usage: salvage --buffer-dir DIR --partition-id N --out FILE   (the node must be stopped)\n"
          + "       salvage --resend FILE --url http://ROUTER:8080 [--token-file FILE]";

  private SalvageMain() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      opts.put(args[i], args[i + 1]);
    }
    if (opts.keySet().containsAll(List.of("--resend", "--url"))) {
      resend(opts);
    } else if (opts.keySet().containsAll(List.of("--buffer-dir", "--partition-id", "--out"))) {
      export(opts);
    } else {
      System.err.println(USAGE);
      System.exit(2);
    }
  }

  private static void export(Map<String, String> opts) throws Exception {
    Path dir = Path.of(opts.get("--buffer-dir"));
    int partition = Integer.parseInt(opts.get("--partition-id"));
    Path out = Path.of(opts.get("--out"));
    BufferConfig config =
        BufferConfig.load(Settings.of(Map.of(BufferConfig.DIR, dir.toString())), partition);
    try (RocksBuffer buffer = RocksBuffer.open(config, partition);
        OutputStream file =
            new BufferedOutputStream(Files.newOutputStream(out, StandardOpenOption.CREATE_NEW))) {
      if (!buffer.salvageNeeded()) {
        System.out.println("salvage: nothing to salvage in " + dir);
        return;
      }
      SalvageExport.Written written = SalvageExport.write(buffer, file);
      if (!written.replaysToRecord().isEmpty()) {
        System.out.println(
            "salvage: "
                + written.replaysToRecord().size()
                + " dead letters were replayed (their events are in the table) but the record of"
                + " it was not committed: "
                + String.join(",", written.replaysToRecord())
                + "; the node records them at its next replay: start it on this buffer directory");
      }
      System.out.println(
          "salvage: ok events="
              + written.events()
              + " dead_letters="
              + written.deadLetters()
              + " out="
              + out);
    }
  }

  private static void resend(Map<String, String> opts) throws Exception {
    Path file = Path.of(opts.get("--resend"));
    String tokenFile = opts.get("--token-file");
    String token = tokenFile == null ? null : Files.readString(Path.of(tokenFile)).trim();
    SalvageResend.Result r;
    try {
      r = new SalvageResend(URI.create(opts.get("--url")), token).send(file);
    } catch (IOException e) {
      System.out.println("salvage: failed " + e.getMessage());
      System.exit(1);
      return;
    }
    if (!r.replayAgain().isEmpty()) {
      System.out.println(
          "salvage: not sent: what "
              + r.replayAgain().size()
              + " replays of dead letters wrote (they were cut short by the lost claim and never"
              + " answered; their dead letters still wait in the dead-letter table): replay them"
              + " again once the node is ready, e.g. scripts/floe dead-letter replay --ids "
              + String.join(",", r.replayAgain()));
    }
    if (!r.recordedByNode().isEmpty()) {
      System.out.println(
          "salvage: not sent: the outcome rows of "
              + r.recordedByNode().size()
              + " replayed dead letters whose events are already in the table ("
              + String.join(",", r.recordedByNode())
              + "): the salvaged node records them as replayed at its next replay; start it on"
              + " the salvaged buffer directory, never on a new one, before replaying them");
    }
    System.out.println(
        "salvage: resent events="
            + r.events()
            + " requests="
            + r.requests()
            + " event_time_not_kept="
            + r.timeNotKept()
            + " key_not_kept="
            + r.keyNotKept()
            + " dead_letters="
            + r.deadLetters()
            + " dead_letters_not_sent="
            + r.deadLettersNotSent()
            + " replay_events_not_sent="
            + r.replayEventsNotSent()
            + " replay_outcomes_not_sent="
            + r.replayOutcomesNotSent());
  }
}
