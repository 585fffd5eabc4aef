"""Kafka wire protocol and the HTTP APIs for outside programs.

- :mod:`.driver`: ``LiveDriver``, runs a lab session live (1x wall time while outside clients are connected)
  and turns outside work into recorded inputs of the session.
- :mod:`.server`: the Kafka listeners (one port per broker), framing and bad-frame handling.
- :mod:`.node`: each outside connection as a simulation node; the recorded ``wire`` inputs.
- :mod:`.apis` and :mod:`.handlers`: one handler per Kafka API with its version range; :mod:`.codec` (kio).
- :mod:`.headless` (``kafkalab cluster``), :mod:`.applisten` (``kafkalab sandbox --listen``),
  :mod:`.http` (Schema Registry and Connect REST listeners).
"""
