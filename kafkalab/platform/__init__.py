"""Kafka's ecosystem on the lab's cluster: Kafka clients of :mod:`kafkalab.sim`, as the real ones are.

Every part here is a simulated process (a node of the simulation's network) that talks to the brokers only
through the public client API (``Producer``, ``Consumer``, ``AdminClient``, ``GroupMember``), on virtual time,
with the kernel's random generator: killing a broker or a worker has the effects it has in production.
"""
