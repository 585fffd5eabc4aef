"""The lab for teachers: scenario files (record, play), the lesson builder, ``kafkalab serve``, screenshots.

- :mod:`.scenario`: a session as a YAML file (seed, cluster, every console action with its time and its
  position in the run, the teacher's notes), written by ``record`` and validated like a lesson
  (``file:line: problem``).
- :mod:`.player`: plays a scenario back on a fresh session, one stop at a time, with captions; played to its
  end it reaches the very run that was recorded (the same trace hash).
- :mod:`.builder`: ``export-lesson``: a lesson skeleton from a session, with goals proposed from what happened
  and checked by running them.
- :mod:`.serve`: ``kafkalab serve``: the lab in a browser (textual-serve; one lab process per connection).
- :mod:`.screenshot`: ``kafkalab screenshot``: SVG pictures of a lesson step or a scenario stop, headless.

Headless except :mod:`.serve` and :mod:`.screenshot` (they start the Textual app); the presenter screen and
the player's keys live in :mod:`kafkalab.ui.presenter` and :mod:`kafkalab.ui.classroom_host`.
"""

from __future__ import annotations

# (no imports here: kafkalab.commands imports .commands while it loads, and the other modules need it)
