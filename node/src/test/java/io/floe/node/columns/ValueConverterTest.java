package io.floe.node.columns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;

/** The converter's rules for each column type, at their edges. */
class ValueConverterTest {
  @Test
  void convertsAtTheEdgesOfEachType() {
    assertThat(convert("9223372036854775807", Types.LongType.get())).isEqualTo(Long.MAX_VALUE);
    assertThat(convert("-9223372036854775808", Types.LongType.get())).isEqualTo(Long.MIN_VALUE);
    assertThat(convert("1e2", Types.LongType.get())).isEqualTo(100L);
    assertThat(convert("2.0", Types.IntegerType.get())).isEqualTo(2);
    mismatch("9223372036854775808", Types.LongType.get(), "a whole number in range");
    mismatch("1.5", Types.LongType.get(), "a whole number");
    mismatch("\"1\"", Types.LongType.get(), "expected a long");
    mismatch("2147483648", Types.IntegerType.get(), "32 bits");
    mismatch("1e39", Types.FloatType.get(), "a float in range");
    assertThat(convert("\"-0.50\"", Types.DecimalType.of(3, 2))).isEqualTo(new BigDecimal("-0.50"));
    mismatch("123.4", Types.DecimalType.of(4, 2), "at most 4 digits");
    mismatch("\"1,5\"", Types.DecimalType.of(4, 2), "a number for decimal(4,2)");
    assertThat(convert("\"a\\u00e9\\n\"", Types.StringType.get())).isEqualTo("aé\n");
    assertThat(convert("{\"a\":[1]}", Types.StringType.get())).isEqualTo("{\"a\":[1]}");
    mismatch("\"2026-02-30\"", Types.DateType.get(), "a date");
    mismatch("\"2026-12-03T10:00:00\"", Types.TimestampType.withZone(), "RFC 3339 with offset");
    assertThat(convert("\"2026-12-03T10:00:00+02:00\"", Types.TimestampType.withoutZone()))
        .isEqualTo(LocalDateTime.parse("2026-12-03T08:00:00"));
    assertThat(convert("0", Types.TimestampType.withZone()))
        .isEqualTo(OffsetDateTime.parse("1970-01-01T00:00:00Z"));
    mismatch("\"123e4567e89b12d3a456426614174000\"", Types.UUIDType.get(), "a uuid");
    mismatch(
        "[1,\"x\"]",
        Types.ListType.ofOptional(9, Types.LongType.get()),
        "element 2: expected a long");
    mismatch("1", Types.ListType.ofOptional(9, Types.LongType.get()), "expected an array");
    assertThat(convert("null", Types.UUIDType.get())).isNull();
  }

  private static Object convert(String json, Type type) {
    byte[] b = json.getBytes(StandardCharsets.UTF_8);
    return ValueConverter.convert(b, 0, b.length, type);
  }

  private static void mismatch(String json, Type type, String message) {
    assertThatThrownBy(() -> convert(json, type))
        .isInstanceOf(ValueConverter.Mismatch.class)
        .hasMessageContaining(message);
  }
}
