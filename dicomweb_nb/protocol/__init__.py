"""The DICOMweb protocol core: pure functions that both the client and the server use.

Nothing here does I/O or imports the client, the server or the notebook layer, so each protocol
rule is written once and a fix reaches both ends (see ARCHITECTURE.md, "Layers").

- :mod:`.media`: media types, Content-Type and Accept parsing.
- :mod:`.multipart`: the one streaming ``multipart/related`` decoder and encoder.
- :mod:`.status`: STOW failure and warning reason codes, in one wording.
- :mod:`.dicomjson`: DICOM JSON helpers on top of pydicom's ``Dataset.from_json``.
- :mod:`.frames`: how many frames an instance has.
- :mod:`.partitions`: data partition names and the reference's texts about them.
"""
