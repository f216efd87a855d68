"""DICOM fixtures written by pydicom, with references computed from pydicom's own reading.

Usage: python make_dicom.py OUT_DIR  -> prints JSON {case: {files, shape, values, affine}}.
Also reads pydicom's bundled CT_small.dcm (NEMA WG04 CT1, downsized) when present.
"""
import json
import os
import sys

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2"


def write(path, pixels, *, iop, ipp, spacing, slope, intercept, series, instance, syntax=ExplicitVRLittleEndian, thickness=2.5):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CT_STORAGE
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = syntax
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = CT_STORAGE
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.SeriesInstanceUID = series
    ds.StudyInstanceUID = generate_uid()
    ds.Modality = "CT"
    ds.PatientName = "Phantom^Test"
    ds.InstanceNumber = instance
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1 if pixels.dtype == np.int16 else 0
    ds.PixelSpacing = [str(v) for v in spacing]
    ds.SliceThickness = thickness
    ds.ImageOrientationPatient = [str(v) for v in iop]
    ds.ImagePositionPatient = [str(v) for v in ipp]
    ds.RescaleSlope = str(slope)
    ds.RescaleIntercept = str(intercept)
    ds.PixelData = pixels.tobytes()
    ds.save_as(path, enforce_file_format=True, implicit_vr=syntax == ImplicitVRLittleEndian, little_endian=True)


def reference(paths):
    """Values (native order, x fastest) and the RAS affine, from pydicom's reading alone."""
    dss = [pydicom.dcmread(p) for p in paths]
    iop = np.array([float(v) for v in dss[0].ImageOrientationPatient])
    row, col = iop[:3], iop[3:]
    normal = np.cross(row, col)
    if len(dss) > 1:
        dss.sort(key=lambda d: float(np.dot([float(v) for v in d.ImagePositionPatient], normal)))
    ps = [float(v) for v in dss[0].PixelSpacing]
    pos = [np.array([float(v) for v in d.ImagePositionPatient]) for d in dss]
    k = (pos[-1] - pos[0]) / (len(dss) - 1) if len(dss) > 1 else normal * float(dss[0].SliceThickness)
    lps = np.eye(4)
    lps[:3, 0], lps[:3, 1], lps[:3, 2], lps[:3, 3] = row * ps[1], col * ps[0], k, pos[0]
    ras = np.diag([-1, -1, 1, 1]) @ lps
    vol = np.stack([d.pixel_array.astype(np.float64) * float(d.RescaleSlope) + float(d.RescaleIntercept) for d in dss])  # [k, j, i]
    return {"shape": [int(vol.shape[2]), int(vol.shape[1]), int(vol.shape[0])], "values": vol.ravel().tolist(), "affine": ras.tolist()}


def main(out):
    rng = np.random.default_rng(0)
    cases = {}
    # one slice, unsigned with the usual CT rescale, standard LPS orientation
    d = os.path.join(out, "single")
    os.makedirs(d, exist_ok=True)
    px = rng.integers(0, 2000, size=(12, 16), dtype=np.uint16)
    write(os.path.join(d, "slice.dcm"), px, iop=[1, 0, 0, 0, 1, 0], ipp=[-120.5, -80.25, 33.0], spacing=[0.8, 0.7], slope=1, intercept=-1024, series=generate_uid(), instance=1)
    cases["single"] = {"files": [os.path.join(d, "slice.dcm")], **reference([os.path.join(d, "slice.dcm")])}
    # signed with a non-trivial slope, rows running toward the patient's left (a flipped x), implicit VR
    px = rng.integers(-500, 1500, size=(10, 14), dtype=np.int16)
    f = os.path.join(out, "flipped.dcm")
    write(f, px, iop=[-1, 0, 0, 0, 1, 0], ipp=[60.0, -40.0, -12.5], spacing=[1.25, 0.9], slope=2.5, intercept=-1000, series=generate_uid(), instance=1, syntax=ImplicitVRLittleEndian)
    cases["flipped"] = {"files": [f], **reference([f])}
    # a coronal single slice: refused
    f = os.path.join(out, "coronal.dcm")
    write(f, rng.integers(0, 2000, size=(10, 14), dtype=np.uint16), iop=[1, 0, 0, 0, 0, -1], ipp=[0.0, 10.0, 50.0], spacing=[1, 1], slope=1, intercept=-1024, series=generate_uid(), instance=1)
    cases["coronal"] = {"files": [f], **reference([f])}
    # a series of 5 axial slices, files named against their position order, per-slice rescale
    d = os.path.join(out, "series")
    os.makedirs(d, exist_ok=True)
    uid = generate_uid()
    files = []
    for n, z in enumerate([10.0, 4.0, 16.0, 7.0, 13.0]):
        f = os.path.join(d, f"img{n:02d}.dcm")
        write(f, rng.integers(0, 3000, size=(20, 24), dtype=np.uint16), iop=[1, 0, 0, 0, 1, 0], ipp=[-100.0, -90.0, z], spacing=[1.5, 1.5], slope=1 if n % 2 else 0.5, intercept=-1024, series=uid, instance=n + 1)
        files.append(f)
    cases["series"] = {"files": files, "dir": d, **reference(files)}
    # pydicom's bundled test file (NEMA WG04 CT1, downsized to 128 x 128)
    try:
        from pydicom.data import get_testdata_file
        ct = get_testdata_file("CT_small.dcm", download=False)
    except Exception:
        ct = None
    if ct and os.path.exists(ct):
        cases["ct_small"] = {"files": [ct], **reference([ct])}
    print(json.dumps(cases))


if __name__ == "__main__":
    main(sys.argv[1])
