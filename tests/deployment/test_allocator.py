"""retain_freed_memory keeps freed blocks in the heap (checked with glibc's own statistics)."""
import subprocess
import sys


PROBE = """
import ctypes, sys, torch
from asteroid_deepmask.deployment.allocator import retain_freed_memory

class Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = Mallinfo2
applied = retain_freed_memory() if sys.argv[1] == "retain" else None
block = torch.empty(16 << 20, dtype=torch.uint8)  # 16 MiB: above the default mmap threshold
mapped = libc.mallinfo2().hblkhd
del block
print(applied, mapped, libc.mallinfo2().fordblks)
"""


def probe(mode):
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True, timeout=120)
    applied, mapped, free = out.stdout.split()
    return applied, int(mapped), int(free)


def test_freed_blocks_stay_in_the_heap_for_reuse():
    _, mapped, free = probe("default")
    assert mapped >= 16 << 20 and free < 16 << 20  # its own pages, handed back when freed
    applied, mapped, free = probe("retain")
    assert applied == "True"
    assert mapped < 16 << 20 and free >= 16 << 20  # from the heap, kept there once freed


def test_the_separate_command_retains_freed_memory(monkeypatch, tmp_path):
    from asteroid_deepmask import allocator, cli

    calls = []
    monkeypatch.setattr(allocator, "retain_freed_memory", lambda: calls.append(True))
    code = cli.main(["separate", "--model", str(tmp_path / "missing.pth"), str(tmp_path / "x.wav"), "-o", str(tmp_path)])
    assert code == 2 and calls == [True]
