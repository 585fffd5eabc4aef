"""Kafka's key hashing, bit for bit, so lessons place keys exactly where a real Java client would.

* :func:`murmur2` is the 32-bit MurmurHash2 variant in ``org.apache.kafka.common.utils.Utils.murmur2``
  (seed ``0x9747b28c``), returning the signed 32-bit value Java returns.
* :func:`default_partition` is the Java producer's keyed placement
  (``BuiltInPartitioner.partitionForKey``): ``toPositive(murmur2(key)) % numPartitions``.
* :func:`java_string_hashcode` and :func:`coordinator_partition` reproduce how a broker maps a group id
  (or a transactional id) to a partition of ``__consumer_offsets`` (or ``__transaction_state``):
  ``Utils.abs(id.hashCode()) % partitionCount``.

Pure functions only: no clock, no randomness, no I/O.
"""

from __future__ import annotations

__all__ = [
    "coordinator_partition",
    "default_partition",
    "java_abs",
    "java_string_hashcode",
    "murmur2",
    "to_int32",
    "to_positive",
]

_MASK32 = 0xFFFFFFFF
_INT_MIN = -0x80000000

_MURMUR_SEED = 0x9747B28C
_MURMUR_M = 0x5BD1E995
_MURMUR_R = 24


def to_int32(n: int) -> int:
    """Reinterpret the low 32 bits of ``n`` as a Java ``int`` (two's complement)."""
    n &= _MASK32
    return n - 0x1_0000_0000 if n & 0x8000_0000 else n


def murmur2(data: bytes) -> int:
    """Kafka's ``Utils.murmur2``: the signed 32-bit MurmurHash2 of ``data`` (seed ``0x9747b28c``).

    The arithmetic is done on unsigned 32-bit values (masking after every multiply); Java's ``>>>`` is a
    logical shift, which on an unsigned value is Python's ``>>``. Only the result is made signed.
    """
    length = len(data)
    h = (_MURMUR_SEED ^ length) & _MASK32
    whole = length & ~3

    for i in range(0, whole, 4):
        k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)
        k = (k * _MURMUR_M) & _MASK32
        k ^= k >> _MURMUR_R
        k = (k * _MURMUR_M) & _MASK32
        h = (h * _MURMUR_M) & _MASK32
        h ^= k

    # The tail: Java's switch on length % 4 falls through from case 3 to case 1.
    tail = length & 3
    if tail == 3:
        h ^= data[whole + 2] << 16
    if tail >= 2:
        h ^= data[whole + 1] << 8
    if tail >= 1:
        h ^= data[whole]
        h = (h * _MURMUR_M) & _MASK32

    h ^= h >> 13
    h = (h * _MURMUR_M) & _MASK32
    h ^= h >> 15
    return to_int32(h)


def to_positive(n: int) -> int:
    """Kafka's ``Utils.toPositive``: clear the sign bit (``n & 0x7fffffff``); NOT the absolute value."""
    return n & 0x7FFFFFFF


def default_partition(key: bytes, num_partitions: int) -> int:
    """The partition the Java producer picks for a non-null ``key`` (``BuiltInPartitioner.partitionForKey``)."""
    if num_partitions <= 0:
        raise ValueError(f"num_partitions must be positive, got {num_partitions}")
    return to_positive(murmur2(key)) % num_partitions


def java_string_hashcode(s: str) -> int:
    """Java's ``String.hashCode()``: ``s[0]*31^(n-1) + ... + s[n-1]`` over UTF-16 code units, as an ``int``.

    Characters outside the Basic Multilingual Plane count as two code units (a surrogate pair), exactly as
    Java stores them.
    """
    h = 0
    units = s.encode("utf-16-be", "surrogatepass")
    for i in range(0, len(units), 2):
        h = (31 * h + ((units[i] << 8) | units[i + 1])) & _MASK32
    return to_int32(h)


def java_abs(n: int) -> int:
    """Kafka's ``Utils.abs`` on a Java ``int``: ``Math.abs(n)``, except ``Integer.MIN_VALUE`` maps to 0.

    (``Math.abs(Integer.MIN_VALUE)`` is itself negative in Java; Kafka special-cases it to 0.)
    """
    n = to_int32(n)
    return 0 if n == _INT_MIN else abs(n)


def coordinator_partition(group_or_txn_id: str, partition_count: int) -> int:
    """The ``__consumer_offsets`` / ``__transaction_state`` partition that owns a group or transactional id.

    ``Utils.abs(id.hashCode()) % partitionCount``, as in the group and transaction coordinators'
    ``partitionFor``. The leader of that partition is the coordinator broker.
    """
    if partition_count <= 0:
        raise ValueError(f"partition_count must be positive, got {partition_count}")
    return java_abs(java_string_hashcode(group_or_txn_id)) % partition_count
