package io.floe.router;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MemberTest {
  private final Member m = new Member(new RouterConfig.NodeAddress("n1", 8081), 0);

  @Test
  void aNewNodeComesInOnItsFirstPassedCheck() {
    assertThat(m.healthy()).isFalse();
    assertThat(m.checked(true, 2, 3)).isTrue();
    assertThat(m.healthy()).isTrue();
  }

  @Test
  void aNodeTakenOutNeedsSeveralPassesInARowToComeBack() {
    m.checked(true, 2, 3);
    m.checked(false, 2, 3);
    assertThat(m.healthy()).as("one failure is not enough").isTrue();
    m.checked(false, 2, 3);
    assertThat(m.healthy()).isFalse();
    // a node at buffer_full alternating pass / fail must stay out
    for (int i = 0; i < 5; i++) {
      m.checked(true, 2, 3);
      m.checked(false, 2, 3);
      assertThat(m.healthy()).as("flapping round %d", i).isFalse();
    }
    m.checked(true, 2, 3);
    m.checked(true, 2, 3);
    assertThat(m.healthy()).isFalse();
    assertThat(m.checked(true, 2, 3)).isTrue();
    assertThat(m.healthy()).isTrue();
  }

  @Test
  void aConnectFailureTakesItOutAndItComesBackLikeAfterFailedChecks() {
    m.checked(true, 2, 3);
    m.connectFailed();
    assertThat(m.healthy()).isFalse();
    m.checked(true, 2, 3);
    assertThat(m.healthy()).isFalse();
  }
}
