"""The client core: DICOMweb transactions over requests, with no Jupyter imports."""
