package io.floe.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Random;
import org.junit.jupiter.api.Test;

class NodeAnswerTest {
  private static long accepted(String body) {
    return NodeAnswer.count(Buffer.buffer(body), NodeAnswer.ACCEPTED);
  }

  private static long deadLettered(String body) {
    return NodeAnswer.count(Buffer.buffer(body), NodeAnswer.DEAD_LETTERED);
  }

  @Test
  void readsTheCountsOfANodesAnswer() {
    String answer =
        new JsonObject()
            .put("accepted", 998)
            .put("partition_id", 3)
            .put("first_sequence", 1_000_001L)
            .put("last_sequence", 1_000_998L)
            .put("dead_lettered", 2)
            .put(
                "reasons",
                new JsonArray()
                    .add(
                        new JsonObject()
                            .put("line", 7)
                            .put("code", "malformed_json")
                            .put("detail", "\"accepted\": 12345 in a string")))
            .encode();
    assertThat(accepted(answer)).isEqualTo(998);
    assertThat(deadLettered(answer)).isEqualTo(2);
  }

  @Test
  void aKeyInsideAStringIsNotTheField() {
    // the reason comes first here; its detail quotes the field name (escaped in JSON)
    String answer =
        "{\"reasons\":[{\"detail\":\"\\\"accepted\\\": 777\"}],\"accepted\" : 5,\"dead_lettered\":0}";
    assertThat(accepted(answer)).isEqualTo(5);
    assertThat(deadLettered(answer)).isZero();
  }

  @Test
  void noCountOrNotACountIsZero() {
    assertThat(accepted("")).isZero();
    assertThat(accepted("not json")).isZero();
    assertThat(accepted("{\"error\":\"unavailable\"}")).isZero();
    assertThat(accepted("{\"accepted\":-4}")).isZero();
    assertThat(accepted("{\"accepted\":null}")).isZero();
    assertThat(accepted("{\"accepted\"")).isZero();
    assertThat(accepted("{\"accepted\":99999999999999999999999}")).isPositive();
  }

  @Test
  void agreesWithAJsonParseOnRandomAnswers() {
    Random random = new Random(42);
    for (int i = 0; i < 10_000; i++) {
      long a = random.nextInt(Integer.MAX_VALUE);
      long d = random.nextInt(1000);
      JsonObject o = new JsonObject();
      if (random.nextBoolean()) {
        // a string that quotes the field's name, before the field
        o.put("note", "x\"accepted\":1 \\" + random.nextInt());
      }
      o.put("dead_lettered", d).put("accepted", a);
      String text = random.nextBoolean() ? o.encodePrettily() : o.encode();
      assertThat(accepted(text)).as(text).isEqualTo(a);
      assertThat(deadLettered(text)).as(text).isEqualTo(d);
    }
  }
}
