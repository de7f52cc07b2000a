package io.floe.common.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What a token may take of a process: requests in flight, and bytes reserved as they come in. */
class QuotasTest {
  private final List<String> throttled = new ArrayList<>();
  private final Quotas quotas = new Quotas(2, (name, kind) -> throttled.add(name + ":" + kind));

  private static Principal token(String name, double eventsPerSecond, double bytesPerSecond) {
    return new Principal(
        name, Set.of(Scope.INGEST), List.of(), new Quotas.Quota(eventsPerSecond, bytesPerSecond));
  }

  @Test
  void aTokenMayHaveOnlySoManyRequestsInFlight() {
    Principal p = token("a", 0, 0);
    Quotas.Admission first = quotas.admit(p, 10);
    quotas.admit(p, 10);
    assertThatThrownBy(() -> quotas.admit(p, 10))
        .isInstanceOfSatisfying(
            AuthException.class,
            e -> {
              assertThat(e.status()).isEqualTo(429);
              assertThat(e.retryAfterSeconds()).isEqualTo(1);
              assertThat(e.getMessage()).contains("'a'").contains(Quotas.MAX_CONCURRENT_REQUESTS);
            });
    assertThat(quotas.admit(token("b", 0, 0), 10)).as("another token is not held").isNotNull();
    first.end(10);
    first.end(10); // only the first end counts
    quotas.admit(p, 10);
    assertThatThrownBy(() -> quotas.admit(p, 10)).isInstanceOf(AuthException.class);
    assertThat(throttled).containsExactly("a:concurrency", "a:concurrency");
  }

  @Test
  void theDeclaredLengthIsReservedAsARequestIsLetIn() {
    Principal p = token("a", 0, 1000);
    quotas.admit(p, 5000).end(5000); // one request may overdraw the bucket
    assertThatThrownBy(() -> quotas.admit(p, 1))
        .isInstanceOfSatisfying(
            AuthException.class,
            e -> assertThat(e.retryAfterSeconds()).as("4 s of debt").isBetween(4L, 5L));

    Principal q = token("q", 0, 1000);
    quotas.admit(q, 1500); // still in flight: its bytes are taken already
    assertThatThrownBy(() -> quotas.admit(q, 1000)).isInstanceOf(AuthException.class);
    assertThat(throttled).containsExactly("a:bytes", "q:bytes");
  }

  @Test
  void aRequestThatSentLessThanItDeclaredIsChargedWhatItSent() {
    Principal p = token("a", 0, 1000);
    quotas.admit(p, 1000).end(0); // refused before its body was read
    quotas.admit(p, 1000).end(0);
    Quotas.Admission third = quotas.admit(p, 1500);
    third.end(1500);
    assertThatThrownBy(() -> quotas.admit(p, 1)).isInstanceOf(AuthException.class);
  }

  @Test
  void storedEventsAreChargedWhenTheRequestEnds() {
    Principal p = token("a", 10, 0);
    Quotas.Admission a = quotas.admit(p, -1);
    a.stored(25);
    a.end(100);
    assertThatThrownBy(() -> quotas.admit(p, -1))
        .isInstanceOfSatisfying(
            AuthException.class, e -> assertThat(e.retryAfterSeconds()).isBetween(2L, 3L));
    assertThat(throttled).containsExactly("a:events");
  }

  @Test
  void withAuthenticationDisabledNothingIsLimited() {
    for (int i = 0; i < 10; i++) {
      quotas.admit(Principal.ANONYMOUS, 1 << 20);
    }
    assertThat(throttled).isEmpty();
  }
}
