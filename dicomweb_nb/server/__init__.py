"""The embedded DICOMweb server: answers like Microsoft's Medical Imaging Server for DICOM."""
