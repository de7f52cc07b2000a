package io.floe.catalog.columns;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.columns.ColumnValues.JsonKind;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.regex.Pattern;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;

/**
 * The rule book's hand-written parsers held to the JDK's on generated texts: numbers to {@link
 * BigDecimal} (small exponents, where it is cheap), dates and times to java.time on the forms the
 * rules name (and refusal of every other form).
 */
class ColumnValuesTest {
  private static final Pattern JSON_NUMBER =
      Pattern.compile("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?");
  private static final String DATE_TIME =
      "[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?";
  private static final Pattern WITH_OFFSET =
      Pattern.compile(DATE_TIME + "([Zz]|[+-][0-9]{2}:[0-9]{2})");
  private static final Pattern WITHOUT_OFFSET = Pattern.compile(DATE_TIME);

  @Test
  void numbersAgreeWithBigDecimal() {
    Random random = new Random(7);
    for (int i = 0; i < 20_000; i++) {
      assertNumberAgrees(number(random), random);
    }
    for (String edge :
        List.of(
            "0",
            "-0",
            "0.0",
            "-0.0e5",
            "0e-99",
            "1",
            "-1",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "-9223372036854775809",
            "9.223372036854775807e18",
            "92233720368547758070e-1",
            "2147483647",
            "2147483648",
            "-2147483648",
            "-2147483649",
            "1.7976931348623157e308",
            "1.7976931348623159e308",
            "3.4028235e38",
            "3.4028236e38",
            "1e-400",
            "12.50",
            "1E+3",
            "01",
            "1.",
            ".5",
            "+1",
            "1e",
            "1e+",
            "-",
            "",
            " 1",
            "1 ",
            "0x1",
            "NaN",
            "Infinity",
            "1.5.5",
            "--1",
            "1e5.5")) {
      assertNumberAgrees(edge, random);
    }
  }

  private static String number(Random random) {
    StringBuilder s = new StringBuilder();
    if (random.nextBoolean()) {
      s.append('-');
    }
    if (random.nextInt(4) == 0) {
      s.append('0');
    } else {
      s.append((char) ('1' + random.nextInt(9)));
      digits(s, random, random.nextInt(22));
    }
    if (random.nextBoolean()) {
      s.append('.');
      digits(s, random, 1 + random.nextInt(22));
    }
    if (random.nextInt(3) == 0) {
      s.append(random.nextBoolean() ? 'e' : 'E');
      s.append(List.of("", "+", "-").get(random.nextInt(3)));
      digits(s, random, 1 + random.nextInt(2));
    }
    if (random.nextInt(50) == 0) {
      s.insert(
          random.nextInt(s.length() + 1),
          List.of(".", "e", "-", "+", "0", " ").get(random.nextInt(6)));
    }
    return s.toString();
  }

  private static void digits(StringBuilder s, Random random, int count) {
    for (int i = 0; i < count; i++) {
      // zeros often, so that leading and trailing zeros are exercised
      s.append(random.nextInt(3) == 0 ? '0' : (char) ('0' + random.nextInt(10)));
    }
  }

  /** The types a JSON number may fit, but string (which takes everything as its text). */
  private static final List<Type> NUMBER_TYPES =
      List.of(
          Types.IntegerType.get(),
          Types.LongType.get(),
          Types.FloatType.get(),
          Types.DoubleType.get(),
          Types.DecimalType.of(10, 2),
          Types.TimestampType.withZone(),
          Types.BooleanType.get(),
          Types.DateType.get());

  private static void assertNumberAgrees(String text, Random random) {
    byte[] b = text.getBytes(StandardCharsets.US_ASCII);
    int n = b.length;
    // value() and fits() decide alike, whatever the text
    for (Type type : NUMBER_TYPES) {
      for (JsonKind kind : List.of(JsonKind.NUMBER, JsonKind.STRING)) {
        assertThat(ColumnValues.value(kind, b, 0, n, type) != ColumnValues.DOES_NOT_FIT)
            .as(kind + " " + text + " for " + type)
            .isEqualTo(ColumnValues.fits(kind, b, 0, n, type));
      }
    }
    if (!JSON_NUMBER.matcher(text).matches()) {
      assertThat(NumberText.isNumber(b, 0, n)).as(text).isFalse();
      assertThat(NumberText.integerDigits(b, 0, n)).as(text).isEqualTo(-1);
      assertThat(NumberText.fitsLong(b, 0, n)).as(text).isFalse();
      assertThat(NumberText.fitsDouble(b, 0, n)).as(text).isFalse();
      assertThat(NumberText.fitsDecimal(b, 0, n, 38, 10)).as(text).isFalse();
      return;
    }
    BigDecimal v;
    try {
      v = new BigDecimal(text);
    } catch (NumberFormatException e) {
      // an exponent past an int: zero, or far outside every type but float and double
      boolean zero = text.split("[eE]")[0].matches("[-0.]*");
      assertThat(NumberText.fitsLong(b, 0, n)).as(text).isEqualTo(zero);
      assertThat(NumberText.fitsDecimal(b, 0, n, 38, 10)).as(text).isEqualTo(zero);
      assertThat(NumberText.fitsDouble(b, 0, n))
          .as(text)
          .isEqualTo(Double.isFinite(Double.parseDouble(text)));
      return;
    }
    BigDecimal stripped = v.stripTrailingZeros();
    int places = v.signum() == 0 ? 0 : Math.max(0, stripped.scale());
    int integer = v.signum() == 0 ? 0 : Math.max(0, stripped.precision() - stripped.scale());
    assertThat(NumberText.decimalPlaces(b, 0, n)).as(text).isEqualTo(places);
    assertThat(NumberText.integerDigits(b, 0, n)).as(text).isEqualTo(integer);
    Long exact = exactLong(v);
    assertThat(NumberText.fitsLong(b, 0, n)).as(text).isEqualTo(exact != null);
    if (exact != null) {
      assertThat(NumberText.longValue(b, 0, n)).as(text).isEqualTo(exact);
    }
    assertThat(NumberText.fitsInt(b, 0, n))
        .as(text)
        .isEqualTo(exact != null && exact == exact.intValue());
    double d = Double.parseDouble(text);
    assertThat(NumberText.fitsDouble(b, 0, n)).as(text).isEqualTo(Double.isFinite(d));
    assertThat(NumberText.fitsFloat(b, 0, n)).as(text).isEqualTo(Float.isFinite((float) d));
    for (int k = 0; k < 4; k++) {
      int precision = 1 + random.nextInt(38);
      int scale = random.nextInt(precision + 1);
      BigDecimal expected = exactDecimal(v, precision, scale);
      assertThat(NumberText.fitsDecimal(b, 0, n, precision, scale))
          .as(text + " decimal(" + precision + "," + scale + ")")
          .isEqualTo(expected != null);
      if (expected != null) {
        BigDecimal actual = NumberText.decimalValue(b, 0, n, precision, scale);
        assertThat(actual).as(text).isEqualTo(expected);
        assertThat(actual.scale()).isEqualTo(scale);
      }
    }
  }

  private static Long exactLong(BigDecimal v) {
    try {
      return v.longValueExact();
    } catch (ArithmeticException e) {
      return null;
    }
  }

  /** What the nodes did before the rule book: {@code setScale} without rounding, then precision. */
  private static BigDecimal exactDecimal(BigDecimal v, int precision, int scale) {
    if (Math.abs(v.scale()) > 100) {
      return v.signum() == 0 ? BigDecimal.valueOf(0, scale) : null; // setScale would take ages
    }
    try {
      BigDecimal scaled = v.setScale(scale, RoundingMode.UNNECESSARY);
      return scaled.precision() <= precision ? scaled : null;
    } catch (ArithmeticException e) {
      return null;
    }
  }

  @Test
  void datesAndTimesAgreeWithJavaTime() {
    Random random = new Random(5);
    for (int i = 0; i < 10_000; i++) {
      String text =
          String.format(
              "%04d-%02d-%02d%s%02d:%02d:%02d%s%s",
              random.nextInt(10_000),
              random.nextInt(14),
              random.nextInt(33),
              List.of("T", "t", " ", "x").get(random.nextInt(4)),
              random.nextInt(25),
              random.nextInt(61),
              random.nextInt(61),
              List.of("", ".1", ".123", ".123456", ".123456789", ".1234567891", ".")
                  .get(random.nextInt(7)),
              List.of(
                      "Z",
                      "z",
                      "+01:00",
                      "-05:30",
                      "+18:00",
                      "-18:01",
                      "+19:00",
                      "+0100",
                      "",
                      "+01:00:00")
                  .get(random.nextInt(10)));
      assertTimeAgrees(text);
      assertDateAgrees(text.substring(0, 10));
    }
    for (String edge :
        List.of(
            "0001-01-01T00:00:00Z",
            "0001-01-01T00:30:00+01:00",
            "0001-01-01T00:00:00-00:01",
            "9999-12-31T23:59:59.999999Z",
            "9999-12-31T23:59:59-01:00",
            "9999-12-31T23:59:59",
            "0001-01-01T00:00:00",
            "2024-02-29T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "1969-12-31T23:59:59.5Z",
            "2026-12-03T10:15:30.123456+01:00",
            "2026-12-03T10:15Z",
            "2026-12-03T10:15",
            " 2026-12-03T10:15:30Z",
            "+2026-12-03T10:15:30Z",
            "2026-12-03T10:15:60Z",
            "x026-12-03T10:15:30Z",
            "2026-12-03",
            "0000-01-01",
            "2026-1-03",
            "")) {
      assertTimeAgrees(edge);
      assertDateAgrees(edge);
    }
  }

  private static void assertTimeAgrees(String text) {
    byte[] b = text.getBytes(StandardCharsets.UTF_8);
    long withOffset = DateTimeText.NOT_A_TIME;
    long local = DateTimeText.NOT_A_TIME;
    try {
      String iso = text.length() > 10 ? text.substring(0, 10) + 'T' + text.substring(11) : text;
      if (WITH_OFFSET.matcher(text).matches()) {
        OffsetDateTime t = OffsetDateTime.parse(iso, DateTimeFormatter.ISO_OFFSET_DATE_TIME);
        withOffset = inRange(t.toEpochSecond(), t.get(ChronoField.MICRO_OF_SECOND));
      } else if (WITHOUT_OFFSET.matcher(text).matches()) {
        LocalDateTime t = LocalDateTime.parse(iso, DateTimeFormatter.ISO_LOCAL_DATE_TIME);
        local = inRange(t.toEpochSecond(ZoneOffset.UTC), t.get(ChronoField.MICRO_OF_SECOND));
      }
    } catch (DateTimeParseException e) {
      // not a real date, time or offset: refused
    }
    for (Type type :
        List.of(
            Types.TimestampType.withZone(),
            Types.TimestampType.withoutZone(),
            Types.DateType.get(),
            Types.UUIDType.get())) {
      assertThat(
              ColumnValues.value(JsonKind.STRING, b, 0, b.length, type)
                  != ColumnValues.DOES_NOT_FIT)
          .as(text + " for " + type)
          .isEqualTo(ColumnValues.fits(JsonKind.STRING, b, 0, b.length, type));
    }
    assertThat(DateTimeText.rfc3339Micros(b, 0, b.length)).as(text).isEqualTo(withOffset);
    assertThat(DateTimeText.localDateTimeMicros(b, 0, b.length)).as(text).isEqualTo(local);
    assertThat(ColumnValues.fits(JsonKind.STRING, b, 0, b.length, Types.TimestampType.withZone()))
        .as(text)
        .isEqualTo(withOffset != DateTimeText.NOT_A_TIME);
    assertThat(
            ColumnValues.fits(JsonKind.STRING, b, 0, b.length, Types.TimestampType.withoutZone()))
        .as(text)
        .isEqualTo(withOffset != DateTimeText.NOT_A_TIME || local != DateTimeText.NOT_A_TIME);
  }

  private static long inRange(long seconds, int micros) {
    return seconds * 1000 < DateTimeText.MIN_EPOCH_MILLIS
            || seconds * 1000 > DateTimeText.MAX_EPOCH_MILLIS
        ? DateTimeText.NOT_A_TIME
        : seconds * 1_000_000L + micros;
  }

  private static void assertDateAgrees(String text) {
    byte[] b = text.getBytes(StandardCharsets.UTF_8);
    int expected = DateTimeText.NOT_A_DATE;
    if (text.matches("[0-9]{4}-[0-9]{2}-[0-9]{2}") && !text.startsWith("0000")) {
      try {
        expected = (int) LocalDate.parse(text).toEpochDay();
      } catch (DateTimeParseException e) {
        // not a real date: refused
      }
    }
    assertThat(DateTimeText.epochDay(b, 0, b.length)).as(text).isEqualTo(expected);
  }

  @Test
  void uuidsAreTheirCanonicalText() {
    Random random = new Random(3);
    for (int i = 0; i < 1_000; i++) {
      UUID u = new UUID(random.nextLong(), random.nextLong());
      String text = random.nextBoolean() ? u.toString() : u.toString().toUpperCase();
      byte[] b = text.getBytes(StandardCharsets.US_ASCII);
      assertThat(ColumnValues.value(JsonKind.STRING, b, 0, b.length, Types.UUIDType.get()))
          .isEqualTo(u);
    }
    for (String refused :
        List.of(
            "123e4567e89b12d3a456426614174000",
            "{123e4567-e89b-12d3-a456-426614174000}",
            "123e4567-e89b-12d3-a456-42661417400g",
            "123e4567-e89b-12d3-a456_426614174000",
            "123e4567-e89b-12d3-a4564-26614174000",
            "+23e4567-e89b-12d3-a456-426614174000")) {
      byte[] b = refused.getBytes(StandardCharsets.US_ASCII);
      assertThat(ColumnValues.isUuid(b, 0, b.length)).as(refused).isFalse();
    }
  }
}
