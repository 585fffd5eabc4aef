"""Kafka key hashing checked against values produced by Kafka / the JVM itself, never against our own output."""

from __future__ import annotations

import pytest

from kafkalab.sim.partitioner import (
    coordinator_partition,
    default_partition,
    java_abs,
    java_string_hashcode,
    murmur2,
    to_int32,
    to_positive,
)

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1

# Apache Kafka, clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java, testMurmur2():
#   cases.put("21".getBytes(), -973932308); ... cases.put(new byte[] {'a', 'b', 'c'}, 479470107);
# Lengths 2, 6, 24, 26, 48, 3 cover tails 2, 2, 0, 2, 0, 3 and up to 12 whole 4-byte blocks.
KAFKA_UTILS_TEST_MURMUR2 = [
    (b"21", -973932308),
    (b"foobar", -790332482),
    (b"a-little-bit-long-string", -985981536),
    (b"a-little-bit-longer-string", -1486304829),
    (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
    (b"abc", 479470107),
]

# Go Kafka clients' partitioner tests (e.g. burdiyan/kafkautil partitioner_test.go), whose comment says the cases
# were "generated offline using JVM Kafka client for version 1.0.0": a binary key that is not text.
JVM_CLIENT_1_0_MURMUR2 = [
    (bytes([12, 42, 56, 24, 109, 111]), 274204207),
]

# librdkafka src/rdmurmur2.c, unittest_murmur2(): `java_murmur2_results[]` (written there as 32-bit hex; the
# C test compares them as int32_t). Covers the empty key and every tail length 0..3.
LIBRDKAFKA_JAVA_MURMUR2 = [
    (b"kafka", to_int32(0xD067CF64)),
    (b"giberish123456789", to_int32(0x8F552B0C)),
    (b"1234", to_int32(0x9FC97B14)),
    (b"234", to_int32(0xE7C009CA)),
    (b"34", to_int32(0x873930DA)),
    (b"4", to_int32(0x5A4B5CA1)),
    (b"PreAmbleWillBeRemoved,ThePrePartThatIs", to_int32(0x78424F1C)),
    (b"reAmbleWillBeRemoved,ThePrePartThatIs", to_int32(0x4A62B377)),
    (b"eAmbleWillBeRemoved,ThePrePartThatIs", to_int32(0xE0E4E09E)),
    (b"AmbleWillBeRemoved,ThePrePartThatIs", to_int32(0x62B8B43F)),
    (b"", to_int32(0x106E08D9)),
]

# kafka-python test/test_partitioner.py::test_murmur2_java_compatibility: "compare with output from Kafka's
# org.apache.kafka.clients.producer.Partitioner" with 1000 partitions. Covers the empty key and tails 1 and 2,
# and a key containing a zero byte.
KAFKA_PYTHON_JAVA_PARTITIONS_OF_1000 = [
    (b"", 681),
    (b"a", 524),
    (b"ab", 434),
    (b"abc", 107),
    (b"123456789", 566),
    (b"\x00 ", 742),
]


@pytest.mark.parametrize(
    ("data", "expected"), KAFKA_UTILS_TEST_MURMUR2 + JVM_CLIENT_1_0_MURMUR2 + LIBRDKAFKA_JAVA_MURMUR2
)
def test_murmur2_matches_kafka_test_vectors(data: bytes, expected: int) -> None:
    assert murmur2(data) == expected


def test_murmur2_returns_signed_java_ints() -> None:
    # Several of Kafka's own vectors are negative: the result must be the signed int, not the unsigned word.
    results = [murmur2(data) for data, _ in KAFKA_UTILS_TEST_MURMUR2]
    assert any(r < 0 for r in results)
    assert all(INT_MIN <= r <= INT_MAX for r in results)


@pytest.mark.parametrize(("key", "expected"), KAFKA_PYTHON_JAVA_PARTITIONS_OF_1000)
def test_default_partition_matches_java_partitioner(key: bytes, expected: int) -> None:
    assert default_partition(key, 1000) == expected


@pytest.mark.parametrize(("data", "hash_"), KAFKA_UTILS_TEST_MURMUR2)
def test_default_partition_uses_to_positive_not_abs(data: bytes, hash_: int) -> None:
    # partitionForKey = toPositive(murmur2(key)) % n. For a negative hash, abs() would give another answer:
    # e.g. "21": toPositive(-973932308) = 1173551340 (also pinned by the Go vectors), abs = 973932308.
    for n in (1, 3, 6, 7, 12, 50):
        assert default_partition(data, n) == (hash_ & 0x7FFFFFFF) % n
    if data == b"21":
        assert to_positive(hash_) == 1173551340
        assert default_partition(data, 10) == 0  # 1173551340 % 10; abs would give 8
        assert abs(hash_) % 10 == 8


def test_default_partition_rejects_no_partitions() -> None:
    with pytest.raises(ValueError):
        default_partition(b"k", 0)


def test_to_positive_is_a_mask() -> None:
    # Kafka's Utils.toPositive: "number & 0x7fffffff", so MIN_VALUE -> 0 and -1 -> MAX_VALUE.
    assert to_positive(INT_MIN) == 0
    assert to_positive(-1) == INT_MAX
    assert to_positive(-790332482) == 1357151166  # Go vector "ExpectedPositive" for "foobar"
    assert to_positive(12345) == 12345


@pytest.mark.parametrize(
    ("s", "expected"),
    [
        ("", 0),
        ("a", 97),
        ("abc", 96354),  # 97*31^2 + 98*31 + 99
        ("hello", 99162322),  # the classic JVM "hello".hashCode()
        ("Hello", 69609650),  # printed by JVM programs: "Hello".hashCode()
        ("Hello World", -862545276),  # printed by JVM programs: a negative hashCode (overflow wraps)
        # Strings whose hashCode is exactly Integer.MIN_VALUE (FindBugs RV_ABSOLUTE_VALUE_OF_HASHCODE examples).
        ("polygenelubricants", INT_MIN),
        ("GydZG_", INT_MIN),
        ("DESIGNING WORKHOUSES", INT_MIN),
        # U+1F600 is the surrogate pair D83D DE00 in Java: 0xD83D*31 + 0xDE00, not the code point 0x1F600.
        ("\U0001f600", 1772899),
    ],
)
def test_java_string_hashcode_known_values(s: str, expected: int) -> None:
    assert java_string_hashcode(s) == expected


def test_java_string_hashcode_counts_utf16_units_not_code_points() -> None:
    assert java_string_hashcode("\U0001f600") != ord("\U0001f600")
    assert java_string_hashcode("\U0001f600") == 0xD83D * 31 + 0xDE00


def test_java_abs_matches_kafka_utils_test_abs() -> None:
    # Kafka UtilsTest.testAbs: abs(MIN_VALUE) == 0, abs(-10) == 10, abs(10) == 10, abs(0) == 0, abs(-1) == 1.
    assert java_abs(INT_MIN) == 0
    assert java_abs(-10) == 10
    assert java_abs(10) == 10
    assert java_abs(0) == 0
    assert java_abs(-1) == 1


def test_to_int32_wraps() -> None:
    assert to_int32(2**31) == INT_MIN
    assert to_int32(2**32 - 1) == -1
    assert to_int32(-1) == -1
    assert to_int32(2**32 + 5) == 5


def test_coordinator_partition_uses_utils_abs_of_hashcode() -> None:
    # partitionFor(groupId) = Utils.abs(groupId.hashCode) % groupMetadataTopicPartitionCount (default 50).
    assert coordinator_partition("hello", 50) == 99162322 % 50 == 22
    # Negative hashCode: Utils.abs, not the sign-bit mask toPositive uses (that would give partition 22 here).
    assert coordinator_partition("Hello World", 50) == 862545276 % 50 == 26
    assert (-862545276 & 0x7FFFFFFF) % 50 == 22
    # hashCode == Integer.MIN_VALUE: Utils.abs maps it to 0, so the group lands on partition 0.
    assert coordinator_partition("polygenelubricants", 50) == 0
    assert coordinator_partition("polygenelubricants", 7) == 0
    assert coordinator_partition("", 50) == 0


def test_coordinator_partition_rejects_no_partitions() -> None:
    with pytest.raises(ValueError):
        coordinator_partition("g", 0)
