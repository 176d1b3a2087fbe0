"""lepton-medical-imaging: medical image classification for Lepton (image folders, DICOM, MedMNIST .npz)."""
