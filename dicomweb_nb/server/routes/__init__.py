"""Route handlers, one module per transaction; :mod:`..app` wires them to paths.

- :mod:`.stow`: ``POST ../studies[/{study}]``
- :mod:`.wado`: retrieve, metadata, frames and rendered ``GET`` routes
- :mod:`.qido`: the six search routes
- :mod:`.delete`: the non-standard ``DELETE`` of a study, series or instance
- :mod:`.changefeed`: ``../changefeed`` and ``../changefeed/latest``
- :mod:`.health`: ``/health/check``
"""
