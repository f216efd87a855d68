"""Makes a CPU-written TorchScript module or checkpoint look like one written on a GPU, on a
machine without one.

Usage: python as_saved_on_gpu.py IN.pt|IN.ckpt OUT

A TorchScript archive's pickles name each storage's device ('cpu'); a module saved on a GPU
names 'cuda:0' there instead. This rewrites those names in the archive's data.pkl and
constants.pkl (the string opcodes are spliced: the pickles carry no byte offsets); a checkpoint
gets its module's archive back rewritten (its other tensors are always saved from the CPU).
It checks that PyTorch now reads the archive as a CUDA module (without a GPU it refuses it;
with map_location='cpu' it loads) and prints the number of device names rewritten (the
pickler writes a repeated string once, so this is 1 for one device).
"""

import io
import pickletools
import sys
import zipfile

import torch

CPU = b"X" + (3).to_bytes(4, "little") + b"cpu"
CUDA = b"X" + (6).to_bytes(4, "little") + b"cuda:0"


def relocate(pickle_bytes: bytes) -> tuple[bytes, int]:
    """Every BINUNICODE 'cpu' in the pickle becomes 'cuda:0'."""
    out, last, count = bytearray(), 0, 0
    for op, arg, pos in pickletools.genops(pickle_bytes):
        if op.name == "BINUNICODE" and arg == "cpu":
            out += pickle_bytes[last:pos] + CUDA
            last = pos + len(CPU)
            count += 1
    out += pickle_bytes[last:]
    return bytes(out), count


def relocate_archive(archive: bytes) -> tuple[bytes, int]:
    src, dst, total = zipfile.ZipFile(io.BytesIO(archive)), io.BytesIO(), 0
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith(("/data.pkl", "/constants.pkl")):
                data, count = relocate(data)
                total += count
            out.writestr(info.filename, data)
    return dst.getvalue(), total


def check(source: str, archive: bytes) -> None:
    if not torch.cuda.is_available():
        try:
            torch.jit.load(io.BytesIO(archive))
            raise SystemExit(f"{source}: the rewritten module still loads as a CPU module")
        except RuntimeError as e:
            if "cuda" not in str(e).lower():
                raise
    torch.jit.load(io.BytesIO(archive), map_location="cpu")


def main() -> None:
    source, target = sys.argv[1], sys.argv[2]
    if source.endswith(".pt"):
        with open(source, "rb") as f:
            archive, count = relocate_archive(f.read())
    else:
        # our own checkpoint: its dict of tensors is tagged with a TorchScript type
        fmt, meta, tensors = torch.load(source, weights_only=False)
        archive, count = relocate_archive(tensors["module"].numpy().tobytes())
    if count == 0:
        raise SystemExit(f"{source}: its module names no CPU storage")
    check(source, archive)
    if source.endswith(".pt"):
        with open(target, "wb") as f:
            f.write(archive)
    else:
        tensors["module"] = torch.frombuffer(bytearray(archive), dtype=torch.uint8)
        torch.save((fmt, meta, tensors), target)
    print(count)


if __name__ == "__main__":
    main()
